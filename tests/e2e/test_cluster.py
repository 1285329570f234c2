"""Two instances behind nginx on one PostgreSQL database and one Redis (scripts/cluster.py):
one rate-limit budget for both, a write on one is read on the other, and when one instance is
SIGKILLed under load no acknowledged write is lost and nginx routes around the dead one.

The three tests share one cluster (starting one takes seconds on a busy machine); the one that
kills an instance comes last. One more starts a cluster of its own with TLS at nginx."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scripts.cluster import Cluster, find_nginx
from server.persistence.database import Database
from server.services import clients
from tests import databases
from tests.config import GENEROUS
from tests.identities import ALICE

pytestmark = pytest.mark.e2e

BUDGET = 10  # calls per minute for the one client whose budget the cluster shares
WRITERS = 6
LOAD_SECONDS = 1.0  # writes before the kill
SETTLE_SECONDS = 0.5  # after the kill: a request started later must not meet the dead instance
FAIL_TIMEOUT = 1  # seconds nginx leaves a failed instance alone before it probes it again
CUT_OFF = 0  # the status of a write whose answer stopped after its head
AFTER_KILL_SECONDS = 2.0  # writes after the kill: long enough for nginx to probe the dead one
PROBE_WAIT_SECONDS = 10.0  # ... and at most this long, when nginx has not probed it yet
INSTANCE_SETTINGS = {
    "APP_RATE_LIMIT": GENEROUS,
    "APP_RATE_LIMIT_ANONYMOUS": GENEROUS,
    "APP_RATE_LIMIT_TOKEN": GENEROUS,
    "APP_LOG_LEVEL": "warning",
}


@dataclass(frozen=True)
class Credential:
    client_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}


@pytest.fixture(scope="module")
def nginx() -> str:
    path = find_nginx()
    if path is None:
        databases.unavailable("nginx is not installed (not on PATH nor in /usr/sbin)")
    return path


@pytest.fixture(scope="module")
def shared_database(nginx: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own, migrated, with the test identities
    (made after the nginx check, so that a skip leaves nothing behind)."""
    url, name = databases.create_postgres_database()
    yield url
    databases.drop_postgres_database(name)


@pytest.fixture(scope="module")
def shared_redis(nginx: str) -> str:
    return databases.empty_redis()


@pytest.fixture(scope="module")
def budgeted(shared_database: str) -> Credential:
    """A client of its own (not a seeded one), so no other test run in the same Redis
    counts against its budget."""

    async def register() -> Credential:
        db = Database(shared_database)
        try:
            row, secret = await db.write(
                clients.create_client, name="cluster-budget", scopes=["records:read"]
            )
        finally:
            await db.dispose()
        return Credential(row.client_id, secret)

    return asyncio.run(register())


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    nginx: str,
    shared_database: str,
    shared_redis: str,
    budgeted: Credential,
) -> Iterator[Cluster]:
    with Cluster(
        database_url=shared_database,
        redis_url=shared_redis,
        run_dir=tmp_path_factory.mktemp("cluster"),
        instances=2,
        port=0,  # free ports for nginx and both instances
        nginx=nginx,
        fail_timeout=FAIL_TIMEOUT,
        env={
            **INSTANCE_SETTINGS,
            "APP_RATE_LIMIT_CLIENTS": f'{{"{budgeted.client_id}": "{BUDGET}/minute"}}',
        },
        startup_timeout=45,
        stop_timeout=15,
    ) as running:
        yield running


def tried(reply: httpx.Response) -> tuple[str, ...]:
    """The instances nginx tried, in order; the last one answered."""
    return tuple(address.strip() for address in reply.headers["X-Upstream"].split(","))


def answered_by(reply: httpx.Response) -> str:
    return tried(reply)[-1]


def remaining(reply: httpx.Response) -> int:
    match = re.search(r'"client";r=(\d+);t=\d+', reply.headers["RateLimit"])
    assert match, reply.headers["RateLimit"]
    return int(match.group(1))


def test_one_rate_limit_budget_across_instances(cluster: Cluster, budgeted: Credential) -> None:
    with httpx.Client(base_url=cluster.url, headers=budgeted.headers, timeout=5) as http:
        replies = [http.get("/api/records", params={"limit": 1}) for _ in range(2 * BUDGET)]

    assert [r.status_code for r in replies] == [200] * BUDGET + [429] * BUDGET
    # Both instances spent the budget, and each call saw what the other had spent.
    assert {answered_by(r) for r in replies[:BUDGET]} == {i.address for i in cluster.instances}
    assert [remaining(r) for r in replies] == [*range(BUDGET - 1, -1, -1)] + [0] * BUDGET
    for refused in replies[BUDGET:]:
        assert refused.headers["RateLimit-Policy"] == f'"client";q={BUDGET};w=60'
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["type"] == "urn:contract-api:problem:rate-limited"


def test_a_write_on_one_instance_is_read_on_the_other(cluster: Cluster) -> None:
    first, second = cluster.instances
    with (
        httpx.Client(base_url=first.url, headers=ALICE.headers, timeout=5) as on_first,
        httpx.Client(base_url=second.url, headers=ALICE.headers, timeout=5) as on_second,
    ):
        body = {"name": "Ada Lovelace", "email": "ada.cluster@example.com", "age": 36}
        created = on_first.post("/api/users", json=body)
        assert created.status_code == 201, created.text
        read = on_second.get(f"/api/users/{created.json()['id']}")
        assert read.status_code == 200
        assert read.json() == created.json()
        assert read.headers["ETag"] == created.headers["ETag"]

        processed = on_first.post(
            "/api/process_data", json={"user_id": 1, "item_id": 42, "quantity": 3}
        )
        assert processed.status_code == 200, processed.text
        record = on_second.get(f"/api/records/{processed.json()['record_id']}")
        assert record.status_code == 200
        assert {k: record.json()[k] for k in ("id", "quantity", "processed_quantity")} == {
            "id": processed.json()["record_id"],
            "quantity": 3,
            "processed_quantity": 6,
        }

        # Tokens too: one secret key signs on every instance.
        granted = httpx.post(
            f"{first.url}/api/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(ALICE.client_id, ALICE.secret),
            timeout=5,
        )
        assert granted.status_code == 200, granted.text
        bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        assert httpx.get(f"{second.url}/api/users", headers=bearer, timeout=5).status_code == 200


def test_nginx_terminates_tls_with_a_certificate_made_for_the_run(
    tmp_path: Path, nginx: str, shared_database: str, shared_redis: str
) -> None:
    with Cluster(
        database_url=shared_database,
        redis_url=shared_redis,
        run_dir=tmp_path / "tls-cluster",
        instances=1,
        port=0,
        nginx=nginx,
        env=INSTANCE_SETTINGS,
        startup_timeout=45,
        stop_timeout=15,
        tls=True,
    ) as secure:
        assert secure.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=secure.ca_file)
        answer = httpx.get(f"{secure.url}/api/hello", verify=trusted, timeout=5)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{secure.url}/api/hello", timeout=5)  # the system's CAs only


@dataclass(frozen=True)
class Write:
    started: float
    status: int
    upstreams: tuple[str, ...]
    user_id: int | None
    body: dict[str, object]


def test_killing_an_instance_under_load_loses_no_acknowledged_write(cluster: Cluster) -> None:
    assert not cluster.dead()
    victim, survivor = cluster.instances
    writes: list[Write] = []
    crashes: list[BaseException] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        try:
            with httpx.Client(base_url=cluster.url, headers=ALICE.headers, timeout=10) as http:
                for i in itertools.count():
                    if stop.is_set():
                        return
                    body: dict[str, object] = {
                        "name": f"writer {n} #{i}",
                        "email": f"kill.{n}.{i}@example.com",
                        "age": i % 150,
                    }
                    started = time.monotonic()
                    try:
                        reply = http.post("/api/users", json=body)  # nginx stays up throughout
                    except httpx.RemoteProtocolError:
                        # The victim died between its answer's head and its body: nginx had
                        # passed the head on and can only close. In flight, so unacknowledged.
                        with lock:
                            writes.append(Write(started, CUT_OFF, (), None, body))
                        continue
                    user_id = reply.json()["id"] if reply.status_code == 201 else None
                    write = Write(started, reply.status_code, tried(reply), user_id, body)
                    with lock:
                        writes.append(write)
        except Exception as crash:  # e.g. a transport error: the test must see it
            crashes.append(crash)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS)
    killed_at = time.monotonic()
    os.kill(victim.process.pid, signal.SIGKILL)
    time.sleep(AFTER_KILL_SECONDS)
    # On a slow machine nginx may take a while to probe the dead instance (fail_timeout
    # after the first failure it saw): the load goes on until it has, within a bound.
    while time.monotonic() < killed_at + PROBE_WAIT_SECONDS:
        with lock:
            probed = any(
                len(w.upstreams) > 1 and w.started >= killed_at + SETTLE_SECONDS for w in writes
            )
        if probed:
            break
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert not any(thread.is_alive() for thread in threads)
    assert not crashes, crashes
    assert victim.process.wait(timeout=5) == -signal.SIGKILL

    acknowledged = {w.user_id: w for w in writes if w.user_id is not None}
    failed = [w for w in writes if w.user_id is None]
    settled = [w for w in writes if w.started >= killed_at + SETTLE_SECONDS]
    print(
        f"\n{len(writes)} writes, {len(acknowledged)} acknowledged, "
        f"{len(failed)} failed ({sorted({w.status for w in failed})}), "
        f"{len(settled)} started after the kill settled, "
        f"{sum(len(w.upstreams) > 1 for w in settled)} of them retried after a probe"
    )

    # Both instances took writes before the kill; afterwards nginx routes around it.
    before = {w.upstreams[-1] for w in writes if w.started < killed_at and w.user_id}
    assert before == {victim.address, survivor.address}
    assert len(settled) >= 20, "the load did not go on after the kill"
    assert [w for w in settled if w.status != 201 or w.upstreams[-1] != survivor.address] == []
    # After fail_timeout nginx tried the dead instance again: refused, so the POST was never
    # sent, and nginx passed it on to the survivor.
    assert (victim.address, survivor.address) in {w.upstreams for w in settled}
    # Only what was in flight on the victim when it died may fail: a 502, or an answer cut
    # off after its head (nginx does not replay a POST it had sent: no 409 from a duplicated
    # email). That is at most one write per writer: the first failure takes the victim out
    # of rotation.
    assert [
        w
        for w in failed
        if w.status not in (502, CUT_OFF) or w.started >= killed_at + SETTLE_SECONDS
    ] == []
    assert len(failed) <= WRITERS

    # Every acknowledged write is there, read through nginx.
    stored = read_all_users(cluster.url)
    for user_id, write in acknowledged.items():
        assert user_id in stored, f"acknowledged user {user_id} was lost"
        assert {k: stored[user_id][k] for k in write.body} == write.body


def read_all_users(url: str) -> dict[int, dict[str, object]]:
    users: dict[int, dict[str, object]] = {}
    with httpx.Client(base_url=url, headers=ALICE.headers, timeout=10) as http:
        params: dict[str, str | int] = {"limit": 100}
        while True:
            page = http.get("/api/users", params=params)
            assert page.status_code == 200, page.text
            users.update({user["id"]: user for user in page.json()["items"]})
            if not page.json()["next_cursor"]:
                return users
            params["cursor"] = page.json()["next_cursor"]
