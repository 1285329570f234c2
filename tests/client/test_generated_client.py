"""generated_client/ is exactly what the spec generates, type-checks strictly, and works."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_api_client import Client
from contract_api_client.api.greetings import hello
from contract_api_client.api.health import live, ready
from contract_api_client.api.processing import process_data
from contract_api_client.models import (
    Greeting,
    Liveness,
    Problem,
    ProcessRequest,
    ProcessResponse,
    Readiness,
)
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "generated_client"
BIN = Path(sys.executable).parent
IGNORED = {"__pycache__", ".ruff_cache", ".mypy_cache", "build", "dist"}


def generate(into: Path) -> None:
    """The same command as `make client`, into another folder."""
    subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "spec" / "openapi.yaml"),
            "--config",
            str(ROOT / "spec" / "client-config.yml"),
            "--meta",
            "setup",
            "--output-path",
            str(into),
            "--overwrite",
        ],
        check=True,
        capture_output=True,
        env={"PATH": f"{BIN}:/usr/bin:/bin"},
    )


def tree(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and not IGNORED & set(p.relative_to(root).parts)
        and not p.name.endswith(".egg-info")
        and ".egg-info" not in str(p)
    }


def test_committed_client_matches_the_spec(tmp_path: Path) -> None:
    fresh = tmp_path / "generated_client"
    generate(fresh)
    committed, regenerated = tree(COMMITTED), tree(fresh)
    assert committed == regenerated, "files differ: run `make client` and commit"
    _, mismatch, errors = filecmp.cmpfiles(COMMITTED, fresh, sorted(committed), shallow=False)
    assert not mismatch and not errors, f"stale files {mismatch}: run `make client` and commit"


def test_client_passes_mypy_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "contract_api_client"],
        cwd=COMMITTED,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def api(client: TestClient) -> Iterator[Client]:
    """The generated client, talking to the in-process app through Starlette's test transport."""
    generated = Client(base_url="http://testserver/api", raise_on_unexpected_status=True)
    client.base_url = "http://testserver/api"  # type: ignore[assignment]
    generated.set_httpx_client(client)
    yield generated


class TestGeneratedClientInProcess:
    def test_hello(self, api: Client) -> None:
        assert hello.sync(client=api) == Greeting(message="Hello, World!")

    def test_health(self, api: Client) -> None:
        assert isinstance(live.sync(client=api), Liveness)
        readiness = ready.sync(client=api)
        assert isinstance(readiness, Readiness)
        assert readiness.checks.database.status == "up"

    def test_process_data(self, api: Client) -> None:
        reply = process_data.sync(
            client=api, body=ProcessRequest(user_id=7, item_id=8, quantity=21)
        )
        assert isinstance(reply, ProcessResponse)
        assert reply.status == "success"
        assert (reply.result.user_id, reply.result.item_id, reply.result.quantity) == (7, 8, 42)

    def test_problem_is_parsed_with_field_errors(self, api: Client) -> None:
        detailed = process_data.sync_detailed(
            client=api, body=ProcessRequest(user_id=7, item_id=8, quantity=0)
        )
        assert detailed.status_code == 400
        problem = detailed.parsed
        assert isinstance(problem, Problem)
        assert problem.type_ == "urn:contract-api:problem:validation-error"
        assert [(e.field, e.message) for e in problem.errors] == [
            ("quantity", "must be at least 1")
        ]
