"""Fixtures for the command-line client: live servers on loopback, isolated settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveServer, seeded_server
from tests.identities import ALICE


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_server(
        tmp_path_factory.mktemp("cli"), APP_DISPATCH_ALLOWED_HOSTS='["127.0.0.1"]'
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No config file, token cache or CONTRACT_API_* variable from the machine leaks in."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("URL", "KEY", "CLIENT_ID", "CLIENT_SECRET", "OUTPUT", "TIMEOUT", "CONFIG"):
        monkeypatch.delenv(f"CONTRACT_API_{name}", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # tables are not wrapped in the captured output


@pytest.fixture
def as_alice(monkeypatch: pytest.MonkeyPatch, service: LiveServer) -> LiveServer:
    monkeypatch.setenv("CONTRACT_API_URL", service.url)
    monkeypatch.setenv("CONTRACT_API_KEY", ALICE.secret)
    return service
