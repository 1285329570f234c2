"""SQL for the ``idempotency_keys`` table: claim a key, finish it, or let it go."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.persistence.models import IdempotencyKey


async def claim(
    session: AsyncSession, *, scope: str, key: str, fingerprint: str, now: datetime
) -> IdempotencyKey | None:
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
    result = await session.execute(statement)
    if result.rowcount:  # type: ignore[attr-defined]
        return None
    return await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


async def take_over(
    session: AsyncSession, *, scope: str, key: str, seen: datetime, fingerprint: str, now: datetime
) -> bool:
    """Re-claim an abandoned or expired key, if nobody else did since we looked at it."""
    result = await session.execute(
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


async def finish(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    status_code: int,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(state="done", status_code=status_code, headers=headers, body=body, updated_at=now)
    )


async def release(session: AsyncSession, *, scope: str, key: str) -> None:
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
