"""SIGTERM, as an orchestrator sends it: requests in flight finish, nothing acknowledged is
lost, new connections are refused, and the process exits cleanly."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import migrate
from tests import identities
from tests.config import GENEROUS, TEST_SECRET
from tests.databases import sqlite_url
from tests.downstream import Downstream
from tests.e2e.conftest import serve_module
from tests.identities import ALICE

pytestmark = pytest.mark.e2e
WRITERS = 4
SLOW_SECONDS = 1.5


def test_sigterm_drains_requests_in_flight(tmp_path: Path, downstream: Downstream) -> None:
    database = tmp_path / "shutdown.db"
    database_url = sqlite_url(database)
    migrate.upgrade(database_url)
    identities.seed(database_url)
    identities.seed_destination(database_url, "slow", downstream.url_for(f"/slow/{SLOW_SECONDS}"))
    server = serve_module(
        database_url,
        tmp_path / "server.log",
        APP_ENVIRONMENT="production",
        APP_SECRET_KEY=TEST_SECRET,
        APP_RATE_LIMIT=GENEROUS,
        APP_GRACEFUL_SHUTDOWN_SECONDS="10",
    )
    acknowledged: list[int] = []
    answers: list[int | str] = []
    lock = threading.Lock()
    dispatched: dict[str, Any] = {}

    def dispatch() -> None:
        with httpx.Client(base_url=server.url, timeout=10, headers=ALICE.headers) as http:
            reply = http.post("/api/dispatch", json={"payload": {"n": 1}})
            dispatched.update(status=reply.status_code, body=reply.json())

    def writer(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10, headers=ALICE.headers) as http:
            for i in range(10_000):
                body = {"user_id": n + 1, "item_id": i + 1, "quantity": 1}
                try:
                    reply = http.post("/api/process_data", json=body)
                except httpx.TransportError as exc:  # closed or refused: never acknowledged
                    with lock:
                        answers.append(type(exc).__name__)
                    return
                with lock:
                    answers.append(reply.status_code)
                    if reply.status_code == 200:
                        acknowledged.append(reply.json()["record_id"])

    slow = threading.Thread(target=dispatch)
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    slow.start()
    for thread in writers:
        thread.start()
    time.sleep(0.5)  # the dispatch is waiting on its 1.5 s downstream; writes are flowing
    server.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):  # no new connection once draining began
        httpx.get(f"{server.url}/api/health/live", timeout=2)
    slow.join(timeout=15)
    for thread in writers:
        thread.join(timeout=15)
    server.process.wait(timeout=15)
    took = time.monotonic() - stopped_at

    # uvicorn drains, runs the shutdown, then re-raises the signal: the exit status says
    # "ended by SIGTERM", as orchestrators expect, and the log says it was clean.
    assert server.process.returncode == -signal.SIGTERM, server.log.read_text()[-2000:]
    # The request in flight got its whole answer, although the signal came mid-way.
    assert dispatched["status"] == 200, dispatched
    assert dispatched["body"]["results"][0]["outcome"] == "succeeded"
    assert took < 10, "it waited for its graceful timeout instead of draining"
    # Writers got answers or a closed connection, never a 5xx.
    assert not [a for a in answers if isinstance(a, int) and a != 200], answers
    assert len(acknowledged) >= 20, "the writes did not get going"
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM records")}
    assert set(acknowledged) <= stored, "an acknowledged write was lost"
    log = server.log.read_text()
    assert '"event":"service stopped"' in log
    assert '"level":"error"' not in log
    assert "/slow/" not in log  # downstream URLs stay out of the log
