"""Durable delivery: the workers that deliver asynchronous dispatches from the queue.

A dispatch accepted with ``Prefer: respond-async`` is stored with one ``pending``
delivery per destination before its 202 (``services/dispatching``). ``Deliverer`` (one
per process, started by the app's lifespan, or alone by ``python -m server worker``)
claims due deliveries, sends each through the gateway (one attempt, the destination's
deadline, breaker and signature, ``webhook-id`` the same on every attempt), and records
the attempt and what comes next in one transaction::

    claim (pending, due)  ──> delivering, attempt n written as started, lease until T
    send (one attempt)    ──> 2xx: delivered
                              410: dead (the receiver asks not to be sent it again)
                              otherwise: pending again after a backoff, or dead when
                              the attempts or the age of the delivery ran out
    lease ran out (kill -9, a stall)  ──> rescued by any worker: attempt n recorded as
                              ``interrupted`` (it may have been sent), then as above
    shutdown              ──> stop claiming, let attempts under way finish for a while,
                              record the rest ``interrupted`` (uncounted) and due now

Delivery is at least once: an attempt a dead process made may have reached the
destination before it died; it is made again with the same ``webhook-id``, which is how
a receiver drops the duplicate (Standard Webhooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.downstream.gateway import Gateway
from server.downstream.results import Result
from server.errors import Unavailable
from server.persistence import destinations as destination_rows
from server.persistence import dispatches as repository
from server.persistence.database import Database
from server.persistence.destinations import DestinationRow
from server.persistence.dispatches import Claimed, DispatchRow
from server.services.destinations import target
from server.services.grouping import GroupCommit
from server.telemetry import metrics

logger = logging.getLogger(__name__)

# Failures of this side, or of no one, that do not use up one of the delivery's attempts:
# the breaker refused (no request made), a wait on this side ran out, the service stopped.
UNCOUNTED = frozenset({"circuit_open", "cut_short", "destination_disabled"})
# Not attempts at all: no request was made, so none is recorded (a breaker open for an
# hour would otherwise write one row per backoff).
NOTHING_SENT = frozenset({"circuit_open", "destination_disabled"})
DISABLED_RECHECK_SECONDS = 60.0  # how soon a disabled destination's deliveries look again
# A 2xx is a delivery whatever its body: a receiver owes a webhook no JSON answer.
DELIVERED_ANYWAY = frozenset({"invalid_response", "response_too_large"})
DETAIL_LENGTH = 300
COUNT_SECONDS = 5.0  # how often the queue's gauges are counted


@dataclass(frozen=True)
class Policy:
    """How a destination's deliveries are retried (its ``delivery`` settings)."""

    max_attempts: int
    initial_backoff: float
    max_backoff: float
    max_age: float

    @classmethod
    def of(cls, row: DestinationRow) -> Policy:
        return cls(
            max_attempts=row.delivery_max_attempts,
            initial_backoff=row.delivery_initial_backoff_seconds,
            max_backoff=row.delivery_max_backoff_seconds,
            max_age=float(row.delivery_max_age_seconds),
        )


@dataclass(frozen=True)
class Outcome:
    """How one attempt went."""

    status: int | None = None
    latency_ms: float | None = None
    error_type: str | None = None  # None: delivered
    error_detail: str | None = None
    retry_after: float | None = None  # the destination's Retry-After, in seconds
    counts: bool | None = None  # whether it uses up an attempt; None: by its error type

    @property
    def delivered(self) -> bool:
        return self.error_type is None

    @property
    def counted(self) -> bool:
        return self.counts if self.counts is not None else self.error_type not in UNCOUNTED

    @property
    def made(self) -> bool:
        """Whether a request was made at all (else the attempt leaves no row behind)."""
        return self.error_type not in NOTHING_SENT

    @classmethod
    def of(cls, result: Result, **more: Any) -> Outcome:
        error = result.error_type
        if error in DELIVERED_ANYWAY and result.status is not None and 200 <= result.status < 300:
            error = None
        return cls(
            status=result.status,
            latency_ms=round(result.latency_ms, 1),
            error_type=error,
            error_detail=(result.error_detail or "")[:DETAIL_LENGTH] if error else None,
            **{"retry_after": result.retry_after, **more},
        )


@dataclass(frozen=True)
class Decision:
    """What becomes of a delivery after an attempt."""

    state: str  # delivered, pending, dead
    next_attempt_at: datetime | None
    budget_used: int


def decide(
    outcome: Outcome,
    *,
    policy: Policy,
    budget_used: int,
    round_started_at: datetime,
    now: datetime,
    rng: random.Random,
) -> Decision:
    """The schedule: delivered; dead (410, attempts or age spent); or pending again after
    ``initial * 2**(n-1)`` seconds capped at ``max_backoff``, with equal jitter (between
    half and all of it), never before the destination's ``Retry-After``."""
    used = budget_used + (1 if outcome.counted else 0)
    if outcome.delivered:
        return Decision("delivered", None, used)
    if outcome.status == 410 or used >= policy.max_attempts:
        return Decision("dead", None, used)
    if outcome.counted:
        delay = min(policy.max_backoff, policy.initial_backoff * 2 ** (used - 1))
        delay = delay / 2 + rng.uniform(0, delay / 2)
    else:
        delay = policy.initial_backoff
    if outcome.retry_after is not None:  # capped: past the age it is dead all the same
        delay = max(delay, min(outcome.retry_after, policy.max_age + 1))
    when = now + timedelta(seconds=delay)
    if when > round_started_at + timedelta(seconds=policy.max_age):
        return Decision("dead", None, used)
    return Decision("pending", when, used)


def _changes(outcome: Outcome, decision: Decision, now: datetime) -> dict[str, Any]:
    return {
        "state": decision.state,
        "next_attempt_at": decision.next_attempt_at,
        "budget_used": decision.budget_used,
        "last_status": outcome.status,
        "last_error_type": outcome.error_type,
        "last_error_detail": outcome.error_detail,
        **({"delivered_at": now} if decision.state == "delivered" else {}),
    }


def _attempt(outcome: Outcome) -> dict[str, Any]:
    return {
        "latency_ms": outcome.latency_ms,
        "status": outcome.status,
        "error_type": outcome.error_type,
        "error_detail": outcome.error_detail,
    }


def record(
    *,
    session: Session,
    claimed: Claimed,
    outcome: Outcome,
    policy: Policy | None,
    now: datetime,
    rng: random.Random,
) -> Decision | None:
    """One transaction: the attempt's outcome, and the delivery's next state (None when
    the lease was lost and someone else owns the delivery now). No ``policy``: the
    destination is gone, the delivery ends."""
    row = claimed.delivery
    if policy is None:
        decision = Decision("dead", None, row.budget_used + 1)
    else:
        decision = decide(
            outcome,
            policy=policy,
            budget_used=row.budget_used,
            round_started_at=row.round_started_at,
            now=now,
            rng=rng,
        )
    change = _changes(outcome, decision, now)
    if not outcome.made:  # no request: no attempt, its number is given back
        change["attempts"] = claimed.number - 1
    changed = repository.finish(
        session,
        delivery_id=row.id,
        number=claimed.number,
        now=now,
        attempt=_attempt(outcome) if outcome.made else None,
        change=change,
    )
    return decision if changed is not None else None


def rescue(*, session: Session, now: datetime, rng: random.Random, limit: int = 100) -> int:
    """Deliveries whose worker's lease ran out: their open attempt is ``interrupted`` (it
    may have reached the destination, so it counts), and they are scheduled anew."""
    lapsed = repository.lapsed(session, now=now, limit=limit)
    if not lapsed:
        return 0
    names = sorted({claimed.delivery.destination for claimed in lapsed})
    rows = {row.name: row for row in destination_rows.named(session, names)}
    interrupted = Outcome(
        error_type="interrupted",
        error_detail="The worker making this attempt stopped before it recorded the outcome.",
    )
    for claimed in lapsed:
        row = rows.get(claimed.delivery.destination)
        record(
            session=session,
            claimed=claimed,
            outcome=interrupted,
            policy=Policy.of(row) if row else None,
            now=now,
            rng=rng,
        )
    return len(lapsed)


def release(*, session: Session, claimed: Claimed, now: datetime) -> None:
    """An attempt this process stopped itself (shutdown): recorded ``interrupted``,
    uncounted, and the delivery due again at once, for the next worker."""
    repository.finish(
        session,
        delivery_id=claimed.delivery.id,
        number=claimed.number,
        now=now,
        attempt={"error_type": "interrupted", "error_detail": "The service stopped."},
        change={"state": "pending", "next_attempt_at": now},
        overwrite=False,  # its outcome may have been recorded as it was being stopped
    )


@dataclass(frozen=True)
class Work:
    """What one attempt needs: the dispatch (its payload) and the destination (None when
    it was deleted since)."""

    dispatch: DispatchRow
    destination: DestinationRow | None


def claim_work(
    *, session: Session, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[tuple[Claimed, Work]]:
    """Claim due deliveries and read what their attempts need, in one transaction."""
    claimed = repository.claim(session, worker=worker, now=now, lease=lease, limit=limit)
    if not claimed:
        return []
    payloads = {
        row.id: row
        for row in repository.get_many(session, sorted({c.delivery.dispatch_id for c in claimed}))
    }
    names = sorted({c.delivery.destination for c in claimed})
    targets = {row.name: row for row in destination_rows.named(session, names)}
    return [
        (c, Work(payloads[c.delivery.dispatch_id], targets.get(c.delivery.destination)))
        for c in claimed
    ]


@dataclass(frozen=True)
class Finished:
    """An attempt's outcome, to record (``record_all``)."""

    claimed: Claimed
    outcome: Outcome
    policy: Policy | None


def record_all(
    *, session: Session, finished: list[Finished], now: datetime, rng: random.Random
) -> list[Decision | None]:
    """``record`` for several attempts in one transaction, in the order of their dispatches
    (each locks its dispatch's row: one order for every worker, so none waits on another in
    a circle); the decisions in the order given."""
    order = sorted(range(len(finished)), key=lambda i: finished[i].claimed.delivery.dispatch_id)
    decisions: list[Decision | None] = [None] * len(finished)
    for i in order:
        item = finished[i]
        decisions[i] = record(
            session=session,
            claimed=item.claimed,
            outcome=item.outcome,
            policy=item.policy,
            now=now,
            rng=rng,
        )
    return decisions


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{random.getrandbits(32):08x}"


@dataclass(frozen=True)
class DeliveryPolicy:
    """The workers' own settings (the composition root reads them from the settings)."""

    concurrency: int = 16
    poll_seconds: float = 1.0
    lease_seconds: float = 90.0  # longer than any attempt's deadline (at most 80% of it)
    drain_seconds: float = 10.0
    retention: timedelta = timedelta(days=14)


class Deliverer:
    """The delivery workers of one process: ``run`` until told to stop; ``wake`` after a
    202 so that the new deliveries start at once instead of at the next poll."""

    def __init__(
        self,
        db: Database,
        gateway: Gateway,
        policy: DeliveryPolicy = DeliveryPolicy(),
        *,
        name: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._gateway = gateway
        self.policy = policy
        self.name = name or worker_name()
        self._rng = rng or random.Random()
        self._clock = clock
        self._changed = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], Claimed] = {}
        # Outcomes that arrive together are recorded in one transaction.
        self._records: GroupCommit[Finished, Decision | None] = GroupCommit(
            lambda finished: db.write(record_all, finished=finished, now=clock(), rng=self._rng)
        )

    def wake(self) -> None:
        self._changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim, deliver and rescue until ``stop`` is set; then drain (see the module)."""
        logger.debug("delivery worker %s started", self.name)
        watcher = asyncio.create_task(self._wake_on(stop))
        next_upkeep = next_count = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                self._changed.clear()
                full = False
                try:
                    if loop.time() >= next_upkeep:
                        next_upkeep = loop.time() + max(1.0, self.policy.lease_seconds / 3)
                        await self._upkeep()
                    if loop.time() >= next_count:
                        next_count = loop.time() + COUNT_SECONDS
                        await self._count()
                    full = await self.claim_due() > 0 and self._free() == 0
                except (Unavailable, SQLAlchemyError) as exc:
                    logger.warning("delivery worker: database error %s", type(exc).__name__)
                except Exception:  # a bug must not end delivery
                    logger.exception("delivery worker: unexpected error")
                if not full:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), self.policy.poll_seconds)
                else:
                    await self._changed.wait()  # a slot frees up (or stop)
        finally:
            watcher.cancel()
            await self._drain()
            logger.debug("delivery worker %s stopped", self.name)

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._changed.set()

    def _free(self) -> int:
        return self.policy.concurrency - len(self._in_flight)

    async def claim_due(self) -> int:
        """Claim as many due deliveries as there are free slots and start them; how many."""
        free = self._free()
        if free <= 0:
            return 0
        claimed = await self._db.write(
            claim_work,
            worker=self.name,
            now=self._clock(),
            lease=timedelta(seconds=self.policy.lease_seconds),
            limit=free,
        )
        for item, work in claimed:
            task = asyncio.create_task(self._deliver(item, work))
            self._in_flight[task] = item
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._changed.set()

    async def _upkeep(self) -> None:
        rescued = await self._db.write(rescue, now=self._clock(), rng=self._rng)
        if rescued:
            logger.warning("rescued %d deliveries whose worker's lease ran out", rescued)
        cutoff = self._clock() - self.policy.retention
        purged = await self._db.write(repository.purge_finished_before, cutoff=cutoff, limit=500)
        if purged:
            logger.info("purged %d dispatches finished before %s", purged, cutoff.isoformat())

    async def _count(self) -> None:
        depth, oldest = await self._db.read(repository.depth)
        now = self._clock()
        metrics.observe_delivery_queue(depth, (now - oldest).total_seconds() if oldest else 0.0)

    async def _deliver(self, claimed: Claimed, work: Work) -> None:
        delivery = claimed.delivery
        loop = asyncio.get_running_loop()
        # The outcome must be written while the lease holds: after it, another worker
        # takes the delivery over and sends it again.
        lease_ends = loop.time() + self.policy.lease_seconds * 0.9
        try:
            outcome = await self._attempt(claimed, work)
            policy = Policy.of(work.destination) if work.destination else None
            decision = await self._record(Finished(claimed, outcome, policy), lease_ends)
        except asyncio.CancelledError:
            # Stopped by the shutdown: give the delivery back, due now (shielded, so the
            # record is written even though this task is being cancelled).
            with contextlib.suppress(Exception):
                await asyncio.shield(self._db.write(release, claimed=claimed, now=self._clock()))
            raise
        except Exception:  # its lease runs out and a worker rescues it
            logger.exception("delivery %s: attempt %d failed to run", delivery.id, claimed.number)
            return
        result = "lost_lease" if decision is None else decision.state
        metrics.observe_delivery_attempt(
            delivery.destination, outcome.error_type or "delivered", result
        )
        log = logger.info if decision is None or decision.state != "dead" else logger.warning
        log(
            "delivery %s to %s attempt %d: %s, now %s",
            delivery.id,
            delivery.destination,
            claimed.number,
            outcome.error_type or f"delivered ({outcome.status})",
            result,
        )

    async def _record(self, finished: Finished, lease_ends: float) -> Decision | None:
        """Record the outcome, trying again while the database is away (a locked file, a
        failover) for as long as the lease lasts."""
        loop = asyncio.get_running_loop()
        pause = 0.1
        while True:
            try:
                return await self._records.submit(finished)
            except (Unavailable, SQLAlchemyError) as exc:
                if loop.time() + pause >= lease_ends:
                    raise
                logger.warning(
                    "delivery %s: recording attempt %d failed (%s); trying again",
                    finished.claimed.delivery.id,
                    finished.claimed.number,
                    type(exc).__name__,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _attempt(self, claimed: Claimed, work: Work) -> Outcome:
        row = work.destination
        if row is None:
            return Outcome(
                error_type="destination_removed", error_detail="The destination was deleted."
            )
        if not row.enabled:
            return Outcome(
                error_type="destination_disabled",
                error_detail="The destination is disabled; tried again later.",
                retry_after=DISABLED_RECHECK_SECONDS,
            )
        # One attempt per claim, within the destination's deadline and well within the
        # lease, so no other worker can start it meanwhile; the caller's timeout_seconds
        # as the gateway takes it on a synchronous call: a cut it makes is cut_short,
        # which moves no breaker shared with other tenants.
        single = dataclasses.replace(
            target(row),
            timeout=min(row.timeout_seconds, self.policy.lease_seconds * 0.8),
            max_attempts=1,
        )
        cap = work.dispatch.timeout_seconds
        result = await self._gateway.send(
            single,
            work.dispatch.payload,
            client_id=work.dispatch.owner,
            headers={
                "content-type": "application/json",
                "accept": "application/json",
                "x-request-id": work.dispatch.request_id,
                "idempotency-key": work.dispatch.downstream_key,
            },
            max_timeout=cap,
            message_id=claimed.delivery.webhook_id,
        )
        if result.error_type == "circuit_open":  # not before the breaker lets a probe by
            probe = self._gateway.circuit(single).retry_after
            return Outcome.of(result, retry_after=max(probe, 1.0))
        if result.error_type == "cut_short" and cap is not None and cap < single.timeout:
            # The caller's own cut: its delivery's attempt, though not the destination's
            # failure.
            return Outcome.of(result, counts=True)
        return Outcome.of(result)

    async def _drain(self) -> None:
        """Let attempts under way finish for ``drain_seconds``; cancel the rest (each
        gives its delivery back)."""
        tasks = list(self._in_flight)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.policy.drain_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            logger.warning("gave back %d deliveries under way at shutdown", len(pending))
