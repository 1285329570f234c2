"""`python -m server` with several workers: what one worker issues or counts holds on all."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server import migrate
from tests import identities
from tests.config import TEST_SECRET
from tests.databases import sqlite_url
from tests.e2e.conftest import LiveServer, serve_module
from tests.identities import ALICE

pytestmark = pytest.mark.e2e


def two_workers(tmp_path: Path, **env: str) -> LiveServer:
    database_url = sqlite_url(tmp_path / "workers.db")
    migrate.upgrade(database_url)
    identities.seed(database_url)
    return serve_module(database_url, tmp_path / "server.log", APP_WORKERS="2", **env)


def test_tokens_hold_across_workers_without_a_configured_secret(tmp_path: Path) -> None:
    server = two_workers(tmp_path, APP_LOG_LEVEL="warning")
    base = f"{server.url}/api"
    try:
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(ALICE.client_id, ALICE.secret),
            timeout=5,
        ).json()["access_token"]
        statuses = set()
        for _ in range(40):  # new connections, spread over both workers
            with httpx.Client(timeout=5) as http:
                reply = http.get(f"{base}/users", headers={"Authorization": f"Bearer {token}"})
                statuses.add(reply.status_code)
        assert statuses == {200}
    finally:
        server.stop()


def hello_count(server: LiveServer) -> float:
    with httpx.Client(timeout=5) as http:  # a new connection: any worker may answer
        text = http.get(f"{server.url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["operation"] == "hello"
    )


def test_metrics_and_logs_add_up_across_workers(tmp_path: Path) -> None:
    server = two_workers(tmp_path, APP_ENVIRONMENT="production", APP_SECRET_KEY=TEST_SECRET)
    try:
        sent = []
        for number in range(30):
            with httpx.Client(timeout=5) as http:
                reply = http.get(f"{server.url}/api/hello", headers={"X-Request-ID": f"w-{number}"})
                assert reply.status_code == 200
                sent.append(reply.headers["x-request-id"])
        assert sent == [f"w-{number}" for number in range(30)]
        # Each worker keeps its own samples; whichever one answers the scrape sums them all.
        assert [hello_count(server) for _ in range(8)] == [30.0] * 8
    finally:
        server.stop()
    assert server.process.returncode == 0
    lines = [orjson.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("logger") == "server.access"]
    assert sorted(
        line["request_id"] for line in requests if line["operation"] == "hello"
    ) == sorted(sent)
    assert {line["level"] for line in lines} <= {"debug", "info", "warning"}
    assert any(line["event"] == "service stopped" for line in lines)
    # The samples folder made for the workers is gone with them.
    (folder,) = [line["folder"] for line in lines if line["event"] == "metrics samples folder"]
    assert not Path(folder).exists()
