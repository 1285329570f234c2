"""Idempotent writes: the same ``Idempotency-Key`` and body within the TTL replays the answer.

The key is claimed in its own committed transaction (so a concurrent duplicate sees it and
gets 409), then the work and the stored answer commit together in one transaction: an
answer is never stored for work that did not happen, and work is never done twice. A key
whose first request died mid-way (still "running" after ``stale_after``) may be taken over;
since its work never committed, doing it now is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.errors import IdempotencyInProgress, IdempotencyKeyReused, ServiceError, Unavailable
from server.persistence import idempotency as repository
from server.persistence.database import Database
from server.telemetry import metrics

logger = logging.getLogger(__name__)

# A key deleted under a request that held it (the sweep, another request letting it go).
_VANISHED = "This Idempotency-Key changed hands while the request ran; retry shortly."


@dataclass
class Reply:
    """An answer as it is stored and replayed: what the work made of its result (or of its
    refusal), and whether this is a replay of the first one."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    @classmethod
    def json(cls, status: int, content: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, orjson.dumps(content), {"content-type": "application/json", **(headers or {})}
        )


Work = Callable[[Session], Reply]
Refusal = Callable[[ServiceError], Reply]

T = TypeVar("T")
# A service's change as a step of a transaction it does not own: called with ``session=``.
Step = Callable[..., T]


@dataclass(frozen=True)
class Write(Generic[T]):
    """An idempotent write as a handler describes it: the service's ``step``, and the
    ``answer`` made of its result, both inside the transaction that stores the answer."""

    step: Step[T]
    answer: Callable[[T], Reply]

    def __call__(self, session: Session) -> Reply:
        return self.answer(self.step(session=session))


@dataclass(frozen=True)
class IdempotencyPolicy:
    ttl: timedelta = timedelta(hours=24)
    stale_after: timedelta = timedelta(seconds=60)
    max_keys: int = 10_000  # per client and operation, enforced by ``sweep``


@dataclass(frozen=True)
class Swept:
    expired: int
    over_limit: int


def scope_for(client_id: str, operation: str) -> str:
    """Keys are per client and per operation: two clients never share one."""
    return f"{operation}:{client_id}"


def fingerprint(operation: str, payload: Any) -> str:
    canonical = orjson.dumps([operation, payload], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def run_once(
    *,
    db: Database,
    scope: str,
    key: str | None,
    payload: Any,
    work: Work,
    refusal: Refusal,
    policy: IdempotencyPolicy = IdempotencyPolicy(),
) -> Reply:
    """Do ``work(session)`` in a transaction, at most once per (scope, key) in the TTL.

    A refusal the work raises (a 409 duplicate, a 404, ...) is an answer too: ``refusal``
    says how it is stored, and it is replayed like any other. A failure of the service
    (``Unavailable``, or anything unexpected) lets the key go, so that a retry can do the work.
    """
    if key is None:
        return await db.write(work)

    digest = fingerprint(scope, payload)
    stored = await db.write(_claim, scope=scope, key=key, digest=digest, policy=policy)
    if stored is not None:
        stored.replayed = True
        return stored
    try:
        return await db.write(_work_and_finish, work=work, scope=scope, key=key)
    except repository.KeyVanished:  # the work rolled back with it: nothing happened
        raise IdempotencyInProgress(_VANISHED) from None
    except Unavailable:
        await _release(db, scope, key)
        raise
    except ServiceError as refused:
        reply = refusal(refused)
        try:
            await db.write(_finish, scope=scope, key=key, reply=reply)
        except repository.KeyVanished:
            pass  # nothing was done, nothing is kept: the refusal is still the answer
        return reply
    except BaseException:
        await _release(db, scope, key)
        raise


def _claim(
    *, session: Session, scope: str, key: str, digest: str, policy: IdempotencyPolicy
) -> Reply | None:
    """Take the key (None), or return the stored answer to replay, or refuse (409/422)."""
    now = datetime.now(UTC)
    try:
        existing = repository.claim(session, scope=scope, key=key, fingerprint=digest, now=now)
    except repository.KeyVanished:
        raise IdempotencyInProgress(_VANISHED) from None
    if existing is None:
        return None
    expired = existing.created_at < now - policy.ttl
    abandoned = existing.state == "running" and existing.updated_at < now - policy.stale_after
    if expired or abandoned:
        if repository.take_over(
            session, scope=scope, key=key, seen=existing.updated_at, fingerprint=digest, now=now
        ):
            return None
        raise IdempotencyInProgress("Another request with this Idempotency-Key is running.")
    if existing.fingerprint != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    if existing.state == "running":
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still running; retry shortly."
        )
    return Reply(existing.status_code or 200, existing.body or b"", existing.headers or {})


def _work_and_finish(*, session: Session, work: Work, scope: str, key: str) -> Reply:
    reply = work(session)
    _finish(session=session, scope=scope, key=key, reply=reply)
    return reply


def _finish(*, session: Session, scope: str, key: str, reply: Reply) -> None:
    repository.finish(
        session,
        scope=scope,
        key=key,
        status_code=reply.status,
        headers=reply.headers,
        body=reply.body,
        now=datetime.now(UTC),
    )


async def _release(db: Database, scope: str, key: str) -> None:
    """Let the key go after a failure, so the client's retry can do the work."""
    try:
        await db.write(repository.release, scope=scope, key=key)
    except Unavailable:
        pass  # the database is gone too: the key stays "running" until it goes stale


async def sweep(db: Database, policy: IdempotencyPolicy = IdempotencyPolicy()) -> Swept | None:
    """Drop keys past their TTL (they are ignored when met anyway), then each client's
    oldest finished keys past ``policy.max_keys`` for one operation: a client sending a
    new key with every request cannot grow the table without bound. None when the
    database could not be reached (or is not migrated yet); the next sweep tries again."""
    try:
        return await db.write(
            _sweep, cutoff=datetime.now(UTC) - policy.ttl, max_keys=policy.max_keys
        )
    except (Unavailable, SQLAlchemyError) as exc:
        logger.warning("could not sweep idempotency keys: %s", type(exc).__name__)
        return None


def _sweep(*, session: Session, cutoff: datetime, max_keys: int) -> Swept:
    expired = repository.purge_older_than(session, cutoff)
    over_limit = sum(
        repository.trim(session, scope=scope, keep=max_keys)
        for scope in repository.crowded_scopes(session, limit=max_keys)
    )
    return Swept(expired=expired, over_limit=over_limit)


async def keep_swept(
    db: Database, policy: IdempotencyPolicy, *, every: float, stop: asyncio.Event
) -> None:
    """Sweep now, then every ``every`` seconds, until ``stop`` is set (by the app's
    lifespan); a sweep under way when it is set finishes first."""
    while not stop.is_set():
        try:
            swept = await sweep(db, policy)
            if swept is not None and (swept.expired or swept.over_limit):
                metrics.IDEMPOTENCY_KEYS_DROPPED.labels("expired").inc(swept.expired)
                metrics.IDEMPOTENCY_KEYS_DROPPED.labels("over_limit").inc(swept.over_limit)
                logger.info(
                    "idempotency keys dropped: %d expired, %d over the limit of %d per "
                    "client and operation",
                    swept.expired,
                    swept.over_limit,
                    policy.max_keys,
                )
        except Exception:  # a bug must not end the sweeping, nor the shutdown after it
            logger.exception("idempotency sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


class Idempotency:
    """Idempotent writes and the keys' upkeep on one database, as the composition root
    builds them: ``run`` for the handlers, ``keep_swept`` for the app's lifespan."""

    def __init__(self, db: Database, policy: IdempotencyPolicy = IdempotencyPolicy()) -> None:
        self._db = db
        self.policy = policy

    async def run(
        self, write: Write[Any], *, scope: str, key: str | None, payload: Any, refusal: Refusal
    ) -> Reply:
        return await run_once(
            db=self._db,
            scope=scope,
            key=key,
            payload=payload,
            work=write,
            refusal=refusal,
            policy=self.policy,
        )

    async def keep_swept(self, *, every: float, stop: asyncio.Event) -> None:
        await keep_swept(self._db, self.policy, every=every, stop=stop)
