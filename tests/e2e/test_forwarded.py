"""`python -m server` believes X-Forwarded-For only as its settings say (issue 15's
first defect: uvicorn's own proxy handling trusted it from loopback, so a rotating header
escaped every per-IP limit)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server import migrate
from tests.databases import sqlite_url
from tests.e2e.conftest import serve_module

pytestmark = pytest.mark.e2e


def statuses(url: str, *, calls: int) -> list[int]:
    with httpx.Client(base_url=url, timeout=5) as client:
        return [
            client.get("/api/hello", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(calls)
        ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, [200] * 3 + [429] * 2, id="not-trusted"),
        # Trusted, but only from other proxies than loopback, where the test calls from.
        pytest.param(
            {"APP_TRUST_FORWARDED_FOR": "true", "APP_TRUSTED_PROXIES": '["10.0.0.0/8"]'},
            [200] * 3 + [429] * 2,
            id="trusted-elsewhere",
        ),
        # Trusted from loopback: each forwarded address has a budget of its own.
        pytest.param({"APP_TRUST_FORWARDED_FOR": "true"}, [200] * 5, id="trusted-loopback"),
    ],
)
def test_a_rotating_forwarded_for_escapes_no_limit(
    tmp_path: Path, env: dict[str, str], expected: list[int]
) -> None:
    database_url = sqlite_url(tmp_path / "forwarded.db")
    migrate.upgrade(database_url)
    server = serve_module(
        database_url, tmp_path / "server.log", APP_RATE_LIMIT_ANONYMOUS="3/minute", **env
    )
    try:
        assert statuses(server.url, calls=5) == expected
    finally:
        server.stop()
