"""`python -m server` with several workers and no configured secret (development)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server import migrate
from tests import identities
from tests.databases import sqlite_url
from tests.e2e.conftest import ROOT
from tests.identities import ALICE

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tokens_hold_across_workers_without_a_configured_secret(tmp_path: Path) -> None:
    database_url = sqlite_url(tmp_path / "workers.db")
    migrate.upgrade(database_url)
    identities.seed(database_url)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    environment.update(
        APP_DATABASE_URL=database_url, APP_PORT=str(port), APP_WORKERS="2", APP_LOG_LEVEL="warning"
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "server"], cwd=ROOT, env=environment, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/hello", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.1)
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
        process.terminate()
        process.wait(timeout=15)
        log.close()
