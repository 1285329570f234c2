"""Nothing acknowledged is lost: SIGKILL the server in the middle of a burst of writes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.identities import ALICE

pytestmark = pytest.mark.e2e
WRITERS = 12


def test_sigkill_loses_no_acknowledged_write(durable_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = start_server(durable_url, log)
    acknowledged: dict[int, dict[str, Any]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5, headers=ALICE.headers) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                body = {
                    "name": f"writer {n} #{i}",
                    "email": f"w{n}.{i}@example.com",
                    "age": i % 150,
                }
                try:
                    reply = http.post("/api/users", json=body)
                except httpx.TransportError:
                    return  # the server is gone: this write was never acknowledged
                if reply.status_code == 201:
                    with lock:
                        acknowledged[reply.json()["id"]] = body

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 50, "the burst did not get going"

    restarted = start_server(durable_url, log)
    try:
        with httpx.Client(base_url=restarted.url, timeout=5, headers=ALICE.headers) as http:
            for user_id, body in acknowledged.items():
                stored = http.get(f"/api/users/{user_id}")
                assert stored.status_code == 200, f"acknowledged user {user_id} was lost"
                assert {k: stored.json()[k] for k in body} == body
            # The service still takes writes after the crash (no lock left behind).
            after = http.post("/api/users", json={"name": "after", "email": "after@example.com"})
            assert after.status_code == 201
    finally:
        restarted.stop()
