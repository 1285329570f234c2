"""Stored Idempotency-Keys do not pile up: expired ones go while the service runs, and a
client that sends a new key with every request keeps at most ``APP_IDEMPOTENCY_MAX_KEYS``
per operation (its oldest finished ones go first). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from server.app import create_app
from server.persistence import idempotency as repository
from server.persistence.database import Database
from server.persistence.models import IdempotencyKey
from server.services.idempotency import IdempotencyPolicy, Swept, scope_for, sweep
from tests.config import make_settings
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


def test_expired_keys_go_while_the_service_runs(database_url: str) -> None:
    app = create_app(make_settings(database_url, idempotency_sweep_seconds=0.2))
    expired = datetime.now(UTC) - timedelta(hours=25)
    scope = scope_for(ALICE.client_id, "process_data")
    dropped = ("idempotency_keys_dropped_total", {"reason": "expired"})
    before = REGISTRY.get_sample_value(*dropped) or 0
    with TestClient(app, headers=ALICE.headers) as client:
        assert process(client, "fresh").status_code == 200

        def add_expired(*, session: Session) -> None:
            repository.claim(session, scope=scope, key="stale", fingerprint="f", now=expired)

        on(database_url, add_expired)  # after the sweep at start-up
        deadline = time.monotonic() + 10
        while "stale" in on(database_url, keys, scope=scope) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert on(database_url, keys, scope=scope) == ["fresh"]
    assert (REGISTRY.get_sample_value(*dropped) or 0) >= before + 1
