"""SQL for dispatches, their deliveries (the delivery queue's rows) and the attempts.

The queue is the ``deliveries`` table itself (the pattern of Solid Queue, Oban and River):
a worker claims due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and an ``UPDATE`` of
those rows in one transaction, which on PostgreSQL lets workers of several instances
claim side by side without waiting on each other or taking the same row (SQLite renders
no ``FOR UPDATE`` and lets one writer in at a time). A claim
raises the row's ``attempts``: that number fences the attempt, so only the worker whose
claim made it records its result (``finish``), and a worker that lost its lease (it
stalled past it and the row was rescued) records nothing over the newer attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

from sqlalchemy import (
    Table,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from server.persistence.keyset import page_of
from server.persistence.models import Delivery, DeliveryAttempt, Dispatch
from server.persistence.rows import each, maybe


@dataclass(frozen=True, slots=True)
class DispatchRow:
    TABLE: ClassVar[str] = "dispatches"

    id: str
    owner: str
    mode: str  # "sync" or "async"
    state: str  # pending, delivered, failed
    request_id: str
    downstream_key: str = field(repr=False)
    payload: bytes = field(repr=False)
    timeout_seconds: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    TABLE: ClassVar[str] = "deliveries"

    id: str
    webhook_id: str  # the same on every attempt
    dispatch_id: str
    owner: str
    destination: str
    state: str  # pending, delivering, delivered, failed, dead
    attempts: int
    budget_used: int
    round_started_at: datetime
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error_type: str | None
    last_error_detail: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    TABLE: ClassVar[str] = "delivery_attempts"

    delivery_id: str
    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    latency_ms: float | None
    status: int | None
    error_type: str | None
    error_detail: str | None


dispatches = cast(Table, Dispatch.__table__)
deliveries = cast(Table, Delivery.__table__)
attempts = cast(Table, DeliveryAttempt.__table__)

OPEN = ("pending", "delivering")


def in_state(state: str) -> Any:
    """``deliveries.state = '<state>'`` with the value in the SQL text, not a parameter: the
    queue's partial indexes (``models.PENDING``, ``models.DELIVERING``) serve a query only
    when its condition implies theirs, which PostgreSQL cannot tell from a parameter once
    it plans a prepared statement generically."""
    if state not in OPEN:  # a constant of ours, never input
        raise ValueError(f"no partial index for deliveries in state {state!r}")
    return deliveries.c.state == literal_column(f"'{state}'")


FINAL = ("delivered", "failed", "dead")


def add(
    session: Session,
    dispatch: Mapping[str, Any],
    parts: Sequence[Mapping[str, Any]],
    tries: Sequence[Mapping[str, Any]] = (),
) -> None:
    """A dispatch, its deliveries and (for a synchronous one) the attempts already made."""
    add_many(session, [dispatch], parts, tries)


def add_many(
    session: Session,
    many: Sequence[Mapping[str, Any]],
    parts: Sequence[Mapping[str, Any]],
    tries: Sequence[Mapping[str, Any]],
) -> None:
    """Several dispatches at once, each table in one statement (executemany)."""
    if many:
        session.execute(insert(dispatches), [dict(row) for row in many])
    if parts:
        session.execute(insert(deliveries), [dict(row) for row in parts])
    if tries:
        session.execute(insert(attempts), [dict(row) for row in tries])


def get_many(session: Session, dispatch_ids: Sequence[str]) -> list[DispatchRow]:
    statement = select(dispatches).where(dispatches.c.id.in_(list(dispatch_ids)))
    return each(DispatchRow, session.execute(statement).all())


def get(session: Session, dispatch_id: str) -> DispatchRow | None:
    statement = select(dispatches).where(dispatches.c.id == dispatch_id)
    return maybe(DispatchRow, session.execute(statement).one_or_none())


def deliveries_of(session: Session, dispatch_ids: Sequence[str]) -> list[DeliveryRow]:
    """The deliveries of these dispatches, by destination within each."""
    if not dispatch_ids:
        return []
    statement = (
        select(deliveries)
        .where(deliveries.c.dispatch_id.in_(list(dispatch_ids)))
        .order_by(deliveries.c.dispatch_id, deliveries.c.destination)
    )
    return each(DeliveryRow, session.execute(statement).all())


def attempts_of(session: Session, delivery_ids: Sequence[str], *, last: int) -> list[AttemptRow]:
    """The last ``last`` attempts of each delivery, oldest first."""
    rows: list[AttemptRow] = []
    for delivery_id in delivery_ids:
        statement = (
            select(attempts)
            .where(attempts.c.delivery_id == delivery_id)
            .order_by(attempts.c.number.desc())
            .limit(last)
        )
        rows.extend(reversed(each(AttemptRow, session.execute(statement).all())))
    return rows


def page(
    session: Session,
    *,
    owner: str | None,
    state: str | None,
    destination: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[DispatchRow]:
    """Newest first (``created_at``, then ``id``), starting before the position ``before``;
    ``owner`` None means everyone's."""
    c = dispatches.c
    query = select(dispatches)
    if owner is not None:
        query = query.where(c.owner == owner)
    if state is not None:
        query = query.where(c.state == state)
    if destination is not None:
        query = query.where(
            c.id.in_(
                select(deliveries.c.dispatch_id).where(deliveries.c.destination == destination)
            )
        )
    query = page_of(query, (c.created_at, c.id), before, limit=limit, descending=True)
    return each(DispatchRow, session.execute(query).all())


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds the lease of, for attempt ``number``."""

    delivery: DeliveryRow
    number: int


def claim(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for ``worker`` until ``now + lease``, and write
    each one's attempt as started.

    Fair between tenants: the slots are shared among the owners with deliveries due
    (those with the fewest under way first), each owner's oldest first, so one tenant's
    backlog of thousands delays another's delivery by one attempt, not by the whole
    backlog. What an owner leaves of its share goes to the oldest due of anyone."""
    d = deliveries.c
    due = (in_state("pending"), d.next_attempt_at <= now)
    waiting: dict[str, datetime] = {
        owner: oldest
        for owner, oldest in session.execute(
            select(d.owner, func.min(d.next_attempt_at)).where(*due).group_by(d.owner)
        )
    }
    if not waiting:
        return []
    busy: dict[str, int] = {
        owner: count
        for owner, count in session.execute(
            select(d.owner, func.count()).where(in_state("delivering")).group_by(d.owner)
        )
    }
    # The owners with the fewest deliveries under way first (on every instance), then
    # those waiting longest: a slot that frees up goes to whoever has least of them.
    owners = sorted(waiting, key=lambda owner: (busy.get(owner, 0), waiting[owner], owner))
    owners = owners[:limit]
    share = max(1, limit // len(owners))
    # Ids first, into this process: as a subquery of the UPDATE, PostgreSQL may evaluate
    # a ``LIMIT … SKIP LOCKED`` select more than once and claim more rows than asked
    # (measured: 18 claims for 16 free slots).
    picked: list[str] = []
    for owner in owners:
        picked += _lock_due(session, due, d.owner == owner, limit=min(share, limit - len(picked)))
        if len(picked) >= limit:
            break
    if len(picked) < limit:
        picked += _lock_due(session, due, d.id.not_in(picked), limit=limit - len(picked))
    if not picked:
        return []
    statement = (
        update(deliveries)
        .where(d.id.in_(picked), d.state == "pending")
        .values(
            state="delivering",
            attempts=d.attempts + 1,
            lease_owner=worker,
            lease_expires_at=now + lease,
            last_attempt_at=now,
            updated_at=now,
        )
        .returning(*deliveries.c)
    )
    claimed = [Claimed(row, row.attempts) for row in each(DeliveryRow, session.execute(statement))]
    if claimed:
        session.execute(
            insert(attempts),
            [
                {
                    "delivery_id": c.delivery.id,
                    "number": c.number,
                    "worker": worker,
                    "started_at": now,
                    "finished_at": None,
                    "latency_ms": None,
                    "status": None,
                    "error_type": None,
                    "error_detail": None,
                }
                for c in claimed
            ],
        )
    return claimed


def _lock_due(session: Session, due: Any, *more: Any, limit: int) -> list[str]:
    """Lock up to ``limit`` due deliveries (oldest due first) that others have not
    locked; their ids."""
    if limit <= 0:
        return []
    d = deliveries.c
    statement = (
        select(d.id)
        .where(*due, *more)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(statement).scalars())


def lapsed(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    """Deliveries whose worker's lease ran out (it died, or stalled): each with the number
    of the attempt it left open, locked for the caller's transaction."""
    d = deliveries.c
    statement = (
        select(deliveries)
        .where(in_state("delivering"), d.lease_expires_at < now)
        .order_by(d.lease_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [Claimed(row, row.attempts) for row in each(DeliveryRow, session.execute(statement))]


def finish(
    session: Session,
    *,
    delivery_id: str,
    number: int,
    now: datetime,
    attempt: Mapping[str, Any] | None,
    change: Mapping[str, Any],
    overwrite: bool = True,
) -> str | None:
    """Record attempt ``number``'s outcome (always: it is what happened) and apply
    ``change`` to the delivery if that attempt is still its current one; the dispatch's
    state follows. The dispatch's id when the delivery changed, None when the lease had
    been lost (someone else owns a newer attempt now). Without ``overwrite``, an attempt
    already recorded keeps its outcome. ``attempt`` None: no request was made, and the
    attempt's row goes (the change gives its number back)."""
    which: list[Any] = [attempts.c.delivery_id == delivery_id, attempts.c.number == number]
    if attempt is not None:
        if not overwrite:
            which.append(attempts.c.finished_at.is_(None))
        session.execute(update(attempts).where(*which).values(finished_at=now, **attempt))
    d = deliveries.c
    dispatch_id = session.execute(
        update(deliveries)
        .where(d.id == delivery_id, d.state == "delivering", d.attempts == number)
        .values(lease_owner=None, lease_expires_at=None, updated_at=now, **change)
        .returning(d.dispatch_id)
    ).scalar_one_or_none()
    if dispatch_id is not None:
        if attempt is None:  # still ours: the number is given back, and its row goes
            session.execute(delete(attempts).where(*which))
        settle(session, dispatch_id=dispatch_id, now=now)
    return dispatch_id


def settle(session: Session, *, dispatch_id: str, now: datetime) -> str:
    """The dispatch's state from its deliveries': pending while any is open, delivered
    when every one is, failed otherwise.

    The dispatch's row is locked first: two deliveries of one dispatch ending at once
    (two transactions) would otherwise each read the other as still open, and the
    dispatch would stay pending for good (PostgreSQL; SQLite writes one at a time)."""
    session.execute(select(dispatches.c.id).where(dispatches.c.id == dispatch_id).with_for_update())
    states = set(
        session.execute(
            select(deliveries.c.state).where(deliveries.c.dispatch_id == dispatch_id).distinct()
        ).scalars()
    )
    state = (
        "pending" if states & set(OPEN) else "delivered" if states <= {"delivered"} else "failed"
    )
    session.execute(
        update(dispatches)
        .where(dispatches.c.id == dispatch_id, dispatches.c.state != state)
        .values(state=state, updated_at=now)
    )
    return state


def requeue(session: Session, *, dispatch_id: str, now: datetime) -> int:
    """Put the dispatch's failed and dead deliveries back in the queue, due now, with a
    fresh budget; how many."""
    d = deliveries.c
    result = session.execute(
        update(deliveries)
        .where(d.dispatch_id == dispatch_id, d.state.in_(("failed", "dead")))
        .values(
            state="pending",
            budget_used=0,
            round_started_at=now,
            next_attempt_at=now,
            updated_at=now,
        )
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        settle(session, dispatch_id=dispatch_id, now=now)
    return count


def end_open_to(session: Session, *, destination: str, now: datetime) -> Iterable[str]:
    """Every pending delivery to a destination being deleted ends ``dead``; the
    dispatches touched. (One under way ends when its worker records it.)"""
    d = deliveries.c
    touched = session.execute(
        update(deliveries)
        .where(d.destination == destination, d.state == "pending")
        .values(
            state="dead",
            next_attempt_at=None,
            last_error_type="destination_removed",
            last_error_detail="The destination was deleted.",
            updated_at=now,
        )
        .returning(d.dispatch_id)
    ).scalars()
    ids = sorted(set(touched))
    for dispatch_id in ids:
        settle(session, dispatch_id=dispatch_id, now=now)
    return ids


def depth(session: Session) -> tuple[dict[str, int], datetime | None]:
    """How many deliveries are in each open state, and since when the oldest open one
    waits (queued or retried): for the metrics."""
    # One statement, so one snapshot; each branch is answered from its partial index.
    statement = union_all(
        *(
            select(literal(state), func.count(), func.min(deliveries.c.round_started_at)).where(
                in_state(state)
            )
            for state in OPEN
        )
    )
    counts: dict[str, int] = {}
    oldest: datetime | None = None
    for state, count, since in session.execute(statement):
        if count:
            counts[state] = count
        if since is not None:
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
            oldest = since if oldest is None else min(oldest, since)
    return counts, oldest


def purge_finished_before(session: Session, *, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` dispatches that ended before ``cutoff``, their deliveries and
    attempts with them; how many dispatches."""
    c = dispatches.c
    ids = list(
        session.execute(
            select(c.id)
            .where(c.state.in_(("delivered", "failed")), c.updated_at < cutoff)
            .order_by(c.updated_at)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return 0
    parts = select(deliveries.c.id).where(deliveries.c.dispatch_id.in_(ids))
    session.execute(delete(attempts).where(attempts.c.delivery_id.in_(parts)))
    session.execute(delete(deliveries).where(deliveries.c.dispatch_id.in_(ids)))
    session.execute(delete(dispatches).where(c.id.in_(ids)))
    return len(ids)
