"""Stored Idempotency-Keys do not pile up: expired ones go while the service runs, and a
client that sends a new key with every request keeps at most ``APP_IDEMPOTENCY_MAX_KEYS``
per operation (its oldest finished ones go first). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only
from starlette.testclient import TestClient

from server.persistence import idempotency as repository
from server.persistence.database import Database
from server.persistence.models import IdempotencyKey
from server.services.idempotency import (
    IdempotencyPolicy,
    Reply,
    Swept,
    run_once,
    scope_for,
    sweep,
)
from tests.config import ClientWith
from tests.conftest import BACKENDS
from tests.identities import ALICE, BOB

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def on(url: str, work: Callable[..., Any], **kwargs: Any) -> Any:
    async def go() -> Any:
        db = Database(url)
        try:
            return await db.write(work, **kwargs)
        finally:
            await db.dispose()

    return asyncio.run(go())


def swept(url: str, max_keys: int) -> Swept | None:
    async def go() -> Swept | None:
        db = Database(url)
        try:
            return await sweep(db, IdempotencyPolicy(max_keys=max_keys))
        finally:
            await db.dispose()

    return asyncio.run(go())


def keys(*, session: Session, scope: str) -> list[str]:
    return list(
        session.scalars(
            select(IdempotencyKey.key)
            .where(IdempotencyKey.scope == scope)
            .order_by(IdempotencyKey.key)
        )
    )


def process(client: TestClient, key: str, **headers: str) -> Any:
    return client.post(
        "/api/process_data",
        json={"user_id": 1, "item_id": 2, "quantity": 3},
        headers={"Idempotency-Key": key, **headers},
    )


def test_a_crowded_client_keeps_only_its_newest_keys(client: TestClient, database_url: str) -> None:
    for n in range(5):
        assert process(client, f"k{n}").status_code == 200
    assert process(client, "bob-0", **BOB.headers).status_code == 200

    assert swept(database_url, max_keys=3) == Swept(expired=0, over_limit=2)

    alice = scope_for(ALICE.client_id, "process_data")
    assert on(database_url, keys, scope=alice) == ["k2", "k3", "k4"]
    assert on(database_url, keys, scope=scope_for(BOB.client_id, "process_data")) == ["bob-0"]
    assert process(client, "k4").headers.get("idempotent-replayed") == "true"
    # A dropped key is a new key again: its request is done anew.
    again = process(client, "k0")
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers


def test_a_key_still_running_is_never_dropped(database_url: str) -> None:
    scope = scope_for(ALICE.client_id, "process_data")
    old = datetime.now(UTC) - timedelta(minutes=5)

    def claim_two(*, session: Session) -> None:
        repository.claim(session, scope=scope, key="running", fingerprint="f", now=old)
        repository.claim(session, scope=scope, key="newer", fingerprint="f", now=old)
        repository.finish(
            session, scope=scope, key="newer", status_code=200, headers={}, body=b"{}", now=old
        )
        session.execute(
            IdempotencyKey.__table__.update()  # type: ignore[attr-defined]
            .where(IdempotencyKey.key == "newer")
            .values(created_at=old + timedelta(seconds=1))
        )

    on(database_url, claim_two)
    assert swept(database_url, max_keys=1) == Swept(expired=0, over_limit=0)
    assert on(database_url, keys, scope=scope) == ["newer", "running"]


def test_expired_keys_go_while_the_service_runs(database_url: str, client_with: ClientWith) -> None:
    sweeping = client_with(idempotency_sweep_seconds=1, headers=ALICE.headers)
    expired = datetime.now(UTC) - timedelta(hours=25)
    scope = scope_for(ALICE.client_id, "process_data")
    dropped = ("idempotency_keys_dropped_total", {"reason": "expired"})
    before = REGISTRY.get_sample_value(*dropped) or 0
    with sweeping as client:
        assert process(client, "fresh").status_code == 200

        def add_expired(*, session: Session) -> None:
            repository.claim(session, scope=scope, key="stale", fingerprint="f", now=expired)

        on(database_url, add_expired)  # after the sweep at start-up
        deadline = time.monotonic() + 10
        while "stale" in on(database_url, keys, scope=scope) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert on(database_url, keys, scope=scope) == ["fresh"]
    assert (REGISTRY.get_sample_value(*dropped) or 0) >= before + 1


def test_a_key_deleted_while_it_is_claimed_is_claimed_anew(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep deletes an expired key between the claim's INSERT (which met it) and its
    SELECT: the claim takes the key anew, so the work runs once and its answer is kept.
    (On SQLite every write runs on one thread: the sweep cannot come in between.)"""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs every write on one thread: no sweep can come in between")
    scope, key = scope_for(ALICE.client_id, "process_data"), "reused"
    runs: list[int] = []

    def work(session: Session) -> Reply:
        runs.append(1)
        return Reply.json(200, {"run": len(runs)})

    async def swept_meanwhile() -> None:
        connection = await asyncpg.connect(database_url, timeout=5)
        try:
            await connection.execute(
                "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", scope, key
            )
        finally:
            await connection.close()

    armed = [True]

    def refused(problem: Any) -> Reply:
        raise AssertionError(f"nothing is refused here: {problem}")

    def select_after_the_sweep(*args: Any, **kwargs: Any) -> Any:
        if armed and armed.pop():
            await_only(swept_meanwhile())
        return select(*args, **kwargs)

    async def go() -> tuple[Any, Any, int]:
        db = Database(database_url)
        old = datetime.now(UTC) - timedelta(hours=25)

        def expired_key(*, session: Session) -> None:
            repository.claim(session, scope=scope, key=key, fingerprint="f", now=old)
            repository.finish(
                session, scope=scope, key=key, status_code=200, headers={}, body=b"{}", now=old
            )

        try:
            await db.write(expired_key)
            monkeypatch.setattr(repository, "select", select_after_the_sweep)
            first = await run_once(
                db=db, scope=scope, key=key, payload={"a": 1}, work=work, refusal=refused
            )
            again = await run_once(
                db=db, scope=scope, key=key, payload={"a": 1}, work=work, refusal=refused
            )
            kept = len(await db.read(keys, scope=scope))
            return first, again, kept
        finally:
            await db.dispose()

    first, again, kept = asyncio.run(go())
    assert first.status == 200 and not first.replayed and again.replayed
    assert (len(runs), kept) == (1, 1)
