"""Durable delivery across crashes and instances, with real server processes:

* ``kill -9`` of the service with deliveries pending and under way, then a restart: every
  delivery ends delivered, and a receiver that drops duplicates by ``webhook-id`` has
  each exactly once (SQLite and PostgreSQL);
* two instances on one PostgreSQL, one of them killed mid-run: everything is delivered,
  and no delivery is ever attempted by two workers at once;
* the workers as their own process (``python -m server worker``, the API's turned off),
  stopped with SIGTERM: nothing is left under way.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from scripts.processes import ServerProcess
from tests import databases
from tests.config import TEST_SECRET
from tests.downstream import Downstream, running
from tests.e2e.conftest import LiveServer, answering, free_port, start_server
from tests.identities import ADMIN, ALICE

pytestmark = pytest.mark.e2e

FAST = {
    "APP_DELIVERY_POLL_SECONDS": "0.1",
    "APP_DELIVERY_LEASE_SECONDS": "3",  # a dead worker's deliveries are rescued after 3 s
    "APP_DELIVERY_DRAIN_SECONDS": "2",
}
DISPATCHES = 40


@pytest.fixture
def receiver() -> Iterator[Downstream]:
    """A receiver of its own (not the session's): it outlives the server processes."""
    with running(Downstream()) as downstream:
        yield downstream


def destination(server: LiveServer, receiver: Downstream, path: str) -> str:
    with httpx.Client(base_url=server.url, timeout=10, headers=ADMIN.headers) as http:
        made = http.post(
            "/api/destinations",
            json={
                "name": "receiver",
                "url": receiver.url_for(path),
                "delivery": {"initial_backoff_seconds": 0.2, "max_backoff_seconds": 1},
            },
        )
        assert made.status_code == 201, made.text
        secret: str = made.json()["signing_secret"]
        return secret


def accept_many(server: LiveServer, count: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=server.url, timeout=10, headers=ALICE.headers) as http:
        for n in range(count):
            answer = http.post(
                "/api/dispatch",
                json={"payload": {"n": n}},
                headers={"Prefer": "respond-async"},
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])
    return ids


def all_delivered(server: LiveServer, ids: list[str], seconds: float = 60) -> list[dict[str, Any]]:
    """Every dispatch, once none is pending (fails with the server's log otherwise)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=server.url, timeout=10, headers=ALICE.headers) as http:
        while True:
            found = [http.get(f"/api/dispatches/{i}").json() for i in ids]
            if all(d["state"] != "pending" for d in found):
                return found
            if time.monotonic() > deadline:
                pending = sum(d["state"] == "pending" for d in found)
                pytest.fail(f"{pending} dispatches still pending:\n{server.log_tail(40)}")
            time.sleep(0.2)


def wait_for_hits(receiver: Downstream, count: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while len(receiver.seen) < count:
        assert time.monotonic() < deadline, f"only {len(receiver.seen)} calls arrived"
        time.sleep(0.01)


def deduplicated(receiver: Downstream, secret: str) -> Counter[str]:
    """What a receiver that verifies signatures and drops duplicates keeps: each
    ``webhook-id`` with the number of times it arrived."""
    arrived: Counter[str] = Counter()
    for seen in receiver.seen:
        Webhook(secret).verify(seen["body"], seen["headers"])  # raises if forged
        arrived[seen["headers"]["webhook-id"]] += 1
    return arrived


def test_kill_9_with_deliveries_pending_loses_none(
    durable_url: str, receiver: Downstream, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    server = start_server(durable_url, log, **FAST)
    try:
        secret = destination(server, receiver, "/slow/1")
        ids = accept_many(server, DISPATCHES)
        wait_for_hits(receiver, 1)  # some under way (a second each), the rest still queued
    finally:
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    arrived_before = len(receiver.seen)
    assert arrived_before < DISPATCHES, "everything was delivered before the kill"

    restarted = start_server(durable_url, log, **FAST)
    try:
        dispatches = all_delivered(restarted, ids)
    finally:
        restarted.stop()
    assert {d["state"] for d in dispatches} == {"delivered"}
    webhook_ids = {d["deliveries"][0]["webhook_id"] for d in dispatches}
    arrived = deduplicated(receiver, secret)
    assert set(arrived) == webhook_ids  # each one kept exactly once after deduplication
    # Only what was under way at the kill may have arrived twice (at least once, never lost).
    duplicates = sum(n - 1 for n in arrived.values())
    # One worker attempts 16 deliveries at once (APP_DELIVERY_CONCURRENCY): no more can
    # have been under way at the kill. (A claim once took more rows than it had slots.)
    assert duplicates <= 16


def test_two_instances_share_the_queue_and_never_attempt_one_delivery_at_once(
    postgres_url: str, receiver: Downstream, tmp_path: Path
) -> None:
    databases.truncate_postgres(postgres_url)
    first = start_server(postgres_url, tmp_path / "first.log", **FAST)
    second = start_server(postgres_url, tmp_path / "second.log", **FAST)
    try:
        secret = destination(first, receiver, "/slow/0.2")
        ids: list[str] = []
        feeders = [
            threading.Thread(target=lambda s=s: ids.extend(accept_many(s, DISPATCHES // 2)))
            for s in (first, second)
        ]
        for feeder in feeders:
            feeder.start()
        for feeder in feeders:
            feeder.join(timeout=60)
        wait_for_hits(receiver, 10)
        os.kill(first.process.pid, signal.SIGKILL)  # mid-run
        first.process.wait(timeout=10)
        dispatches = all_delivered(second, ids)
    finally:
        first.stop()
        second.stop()
    numbers = [
        [a["number"] for a in part["attempt_log"]] for d in dispatches for part in d["deliveries"]
    ]
    assert len(ids) == DISPATCHES
    assert {d["state"] for d in dispatches} == {"delivered"}
    arrived = deduplicated(receiver, secret)
    assert set(arrived) == {d["deliveries"][0]["webhook_id"] for d in dispatches}
    by_webhook: dict[str, list[tuple[float, float]]] = {}
    for seen in receiver.seen:
        by_webhook.setdefault(seen["headers"]["webhook-id"], []).append(
            (seen["started"], seen["ended"])
        )
    for webhook_id, spans in by_webhook.items():
        spans.sort()
        for (_, ended), (started, _) in itertools.pairwise(spans):
            assert started >= ended, f"{webhook_id} was attempted twice at once: {spans}"
    # Attempts are numbered 1, 2, ... without a gap or a repeat: every claim made one,
    # the killed instance's were rescued and numbered on.
    assert all(n == list(range(1, len(n) + 1)) for n in numbers)
    assert any(len(n) > 1 for n in numbers), "nothing was under way at the kill"


def test_the_workers_run_as_their_own_process_and_drain_on_sigterm(
    durable_url: str, receiver: Downstream, tmp_path: Path
) -> None:
    api = start_server(durable_url, tmp_path / "api.log", APP_DELIVERY_WORKERS="false", **FAST)
    port = free_port()
    environment = {
        **os.environ,
        "APP_ENVIRONMENT": "production",
        "APP_DATABASE_URL": durable_url,
        "APP_SECRET_KEY": TEST_SECRET,
        "APP_LOG_LEVEL": "info",
        **FAST,
    }
    worker = ServerProcess.start(
        [sys.executable, "-m", "server", "worker", "--metrics-port", str(port)],
        url=f"http://127.0.0.1:{port}",
        log=tmp_path / "worker.log",
        env=environment,
    )
    try:
        answering(worker, "/metrics", seconds=20)
        secret = destination(api, receiver, "/ok")
        ids = accept_many(api, 10)
        dispatches = all_delivered(api, ids, seconds=30)
        assert {d["state"] for d in dispatches} == {"delivered"}
        assert len(deduplicated(receiver, secret)) == 10
        metrics = httpx.get(f"{worker.url}/metrics", timeout=5).text
        assert 'delivery_attempts_total{destination="receiver",outcome="delivered"' in metrics
        assert worker.stop(sig=signal.SIGTERM) == 0
        assert "delivery worker" in worker.log_tail(20)
    finally:
        worker.stop()
        api.stop()
