"""SQL for the ``idempotency_keys`` table: claim a key, finish it, let it go, or sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.persistence.models import IdempotencyKey
from server.persistence.rows import one


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    TABLE: ClassVar[str] = "idempotency_keys"

    scope: str
    key: str
    fingerprint: str
    state: str  # "running" or "done"
    status_code: int | None
    headers: dict[str, str] | None
    body: bytes | None
    created_at: datetime
    updated_at: datetime


def claim(
    session: Session, *, scope: str, key: str, fingerprint: str, now: datetime
) -> IdempotencyRow | None:
    """Insert the key as running. Returns None if we got it, else the row already there."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(IdempotencyKey)
        .values(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            state="running",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    table = cast(Table, IdempotencyKey.__table__)
    # The row we collided with may be deleted (the sweep, a released key) before we read
    # it: then the key is free again, and we try to take it once more.
    for _ in range(3):
        if session.execute(statement).rowcount:  # type: ignore[attr-defined]
            return None
        existing = session.execute(
            select(table).where(table.c.scope == scope, table.c.key == key)
        ).one_or_none()
        if existing is not None:
            return one(IdempotencyRow, existing)
    raise KeyVanished(scope, key)


class KeyVanished(Exception):
    """The key kept being taken and let go while we tried to claim it."""


def take_over(
    session: Session, *, scope: str, key: str, seen: datetime, fingerprint: str, now: datetime
) -> bool:
    """Re-claim an abandoned or expired key, if nobody else did since we looked at it."""
    result = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.updated_at == seen,
        )
        .values(
            fingerprint=fingerprint,
            state="running",
            status_code=None,
            headers=None,
            body=None,
            created_at=now,
            updated_at=now,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session,
    *,
    scope: str,
    key: str,
    status_code: int,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> None:
    """Store the answer on our claimed key; ``KeyVanished`` if the key is gone (the work in
    the same transaction must not commit without it)."""
    result = session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(state="done", status_code=status_code, headers=headers, body=body, updated_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise KeyVanished(scope, key)


def release(session: Session, *, scope: str, key: str) -> None:
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


def purge_older_than(session: Session, cutoff: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


def crowded_scopes(session: Session, *, limit: int) -> list[str]:
    """The scopes (one client's keys for one operation) holding more than ``limit`` keys."""
    return list(
        session.scalars(
            select(IdempotencyKey.scope).group_by(IdempotencyKey.scope).having(func.count() > limit)
        )
    )


def trim(session: Session, *, scope: str, keep: int) -> int:
    """Delete the finished keys of ``scope`` older than its ``keep`` newest ones."""
    newest_kept = session.scalar(
        select(IdempotencyKey.created_at)
        .where(IdempotencyKey.scope == scope)
        .order_by(IdempotencyKey.created_at.desc())
        .limit(1)
        .offset(keep - 1)
    )
    if newest_kept is None:
        return 0
    result = session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.state == "done",  # a running key is a request in flight
            IdempotencyKey.created_at < newest_kept,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
