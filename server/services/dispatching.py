"""Dispatch: pick the destinations, fan the payload out and sum the results up (``dispatch``),
or store it for the delivery workers and answer at once (``accepting``); and the record
of both, as callers read it and retry it."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.downstream.gateway import Gateway
from server.downstream.results import DELIVERY_DETAILS, MAX_JSON_DEPTH, Result, reportable
from server.downstream.signing import message_id_for, new_message_id
from server.errors import Conflict, DispatchFailed, NotFound, Unavailable, ValidationFailed
from server.ids import new_id
from server.persistence import dispatches as repository
from server.persistence.database import Database

# Re-exported (``as``): the rows this service hands out, named by its callers.
from server.persistence.dispatches import AttemptRow as AttemptRow
from server.persistence.dispatches import DeliveryRow as DeliveryRow
from server.persistence.dispatches import DispatchRow as DispatchRow
from server.services.destinations import targets_for
from server.services.grouping import GroupCommit
from server.services.idempotency import Step
from server.services.pagination import CursorCodec, Keyset, Page, as_str, as_time, paginate

logger = logging.getLogger(__name__)
ATTEMPT_LOG = 50  # attempts shown per delivery


@dataclass(frozen=True)
class Report:
    request_id: str
    results: list[Result]
    disclose: bool  # the caller may read failures' details and bodies (an admin)
    dispatch_id: str | None = None  # as recorded; None when the record could not be written

    def as_dict(self) -> dict[str, Any]:
        succeeded = sum(result.succeeded for result in self.results)
        recorded = {"dispatch_id": self.dispatch_id} if self.dispatch_id else {}
        return {
            "request_id": self.request_id,
            **recorded,
            "summary": "complete" if succeeded == len(self.results) else "partial",
            "succeeded": succeeded,
            "failed": len(self.results) - succeeded,
            "results": [result.as_dict(disclose=self.disclose) for result in self.results],
        }


# A value a downstream header can carry as it is: printable ASCII, no spaces (the spec's
# pattern for Idempotency-Key and X-Request-ID, checked again here, before any attempt).
_PRINTABLE = re.compile(r"[!-~]+")
_MAX_LENGTH = {"Idempotency-Key": 255, "X-Request-ID": 200}


def _checked_header(field: str, value: str) -> str:
    limit = _MAX_LENGTH[field]
    if len(value) > limit or not _PRINTABLE.fullmatch(value):
        message = f"must be 1 to {limit} printable ASCII characters, no spaces"
        raise ValidationFailed([{"field": field, "message": message}])
    return value


def _encoded(payload: Any) -> bytes:
    """The payload as sent; one nested deeper than can be reported is a 400."""
    try:
        content = orjson.dumps(payload)
    except TypeError:  # orjson writes no more than 254 levels
        content = b""
    if not content or not reportable(payload, content):
        message = f"must not nest deeper than {MAX_JSON_DEPTH} levels"
        raise ValidationFailed([{"field": "payload", "message": message}])
    return content


def downstream_idempotency_key(client_id: str, key: str | None) -> str:
    """The key downstreams see: the caller's, made unique per client, or a fresh one.

    Either way every attempt of one dispatch carries the same key, so a retried send is
    safe for a downstream that honours ``Idempotency-Key``.
    """
    return f"{client_id}:{key}" if key else f"dispatch-{new_id()}"


@dataclass(frozen=True)
class DispatchView:
    """A dispatch as it is answered: its deliveries, and their last attempts when asked."""

    dispatch: DispatchRow
    deliveries: list[DeliveryRow]
    attempts: dict[str, list[AttemptRow]] | None = field(default=None)


def _view(session: Session, dispatch: DispatchRow, *, with_attempts: bool) -> DispatchView:
    parts = repository.deliveries_of(session, [dispatch.id])
    if not with_attempts:
        return DispatchView(dispatch, parts)
    log: dict[str, list[AttemptRow]] = {part.id: [] for part in parts}
    for attempt in repository.attempts_of(session, list(log), last=ATTEMPT_LOG):
        log[attempt.delivery_id].append(attempt)
    return DispatchView(dispatch, parts, log)


def shown_detail(kind: str, detail: str | None, *, disclose: bool) -> str:
    """What a caller reads of a failure: the whole story for admins (``disclose``), a
    fixed sentence per error type for everyone else."""
    shown = detail if disclose else DELIVERY_DETAILS.get(kind, "")
    return shown or ""


def _missing(dispatch_id: str) -> NotFound:
    return NotFound(f"There is no dispatch {dispatch_id[:40]!r}.")


def _visible(session: Session, dispatch_id: str, tenant: str | None) -> DispatchRow:
    """The dispatch if ``tenant`` may see it (None: an admin, who sees all); 404 otherwise,
    exactly as for one that does not exist."""
    row = repository.get(session, dispatch_id)
    if row is None or (tenant is not None and row.owner != tenant):
        raise _missing(dispatch_id)
    return row


def accept(
    *,
    session: Session,
    client_id: str,
    names: Sequence[str] | None,
    content: bytes,
    max_timeout: float | None,
    request_id: str,
    idempotency_key: str | None,
) -> DispatchView:
    """Store the dispatch and one delivery per destination, due now (400/409 as a
    synchronous dispatch would answer)."""
    targets = targets_for(session=session, names=names)
    now = datetime.now(UTC)
    dispatch = _dispatch(
        client_id=client_id,
        mode="async",
        state="pending",
        request_id=request_id,
        downstream_key=downstream_idempotency_key(client_id, idempotency_key),
        content=content,
        max_timeout=max_timeout,
        now=now,
    )
    parts = [
        _delivery(
            dispatch,
            destination=t.name,
            webhook_id=webhook_id_for(client_id, idempotency_key, t.name),
            state="pending",
            now=now,
        )
        for t in targets
    ]
    repository.add(session, dispatch, parts)
    return DispatchView(DispatchRow(**dispatch), [DeliveryRow(**part) for part in parts])


def webhook_id_for(client_id: str, idempotency_key: str | None, destination: str) -> str:
    """The ``webhook-id`` one destination gets for a dispatch: derived from the caller's
    ``Idempotency-Key`` when there is one, so the caller's retry sends the same id again
    and a receiver that drops duplicates drops it too; a fresh one otherwise."""
    if idempotency_key is None:
        return new_message_id()
    return message_id_for(client_id, idempotency_key, destination)


def _dispatch(
    *,
    client_id: str,
    mode: str,
    state: str,
    request_id: str,
    downstream_key: str,
    content: bytes,
    max_timeout: float | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": f"dsp_{new_id()}",
        "owner": client_id,
        "mode": mode,
        "state": state,
        "request_id": request_id,
        "downstream_key": downstream_key,
        "payload": content,
        "timeout_seconds": max_timeout,
        "created_at": now,
        "updated_at": now,
    }


def _delivery(
    dispatch: dict[str, Any], *, destination: str, webhook_id: str, state: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": f"dlv_{new_id()}",
        "webhook_id": webhook_id,
        "dispatch_id": dispatch["id"],
        "owner": dispatch["owner"],
        "destination": destination,
        "state": state,
        "attempts": 0,
        "budget_used": 0,
        "round_started_at": now,
        "next_attempt_at": now if state == "pending" else None,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_attempt_at": None,
        "last_status": None,
        "last_error_type": None,
        "last_error_detail": None,
        "delivered_at": None,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class Record:
    """The rows that record a synchronous dispatch once answered."""

    dispatch: dict[str, Any]
    deliveries: list[dict[str, Any]]
    attempts: list[dict[str, Any]]


def sync_record(
    *,
    client_id: str,
    content: bytes,
    max_timeout: float | None,
    request_id: str,
    downstream_key: str,
    results: Sequence[Result],
) -> Record:
    """A synchronous dispatch as recorded: delivered or failed per destination, with its
    final attempt."""
    now = datetime.now(UTC)
    dispatch = _dispatch(
        client_id=client_id,
        mode="sync",
        state="delivered" if all(r.succeeded for r in results) else "failed",
        request_id=request_id,
        downstream_key=downstream_key,
        content=content,
        max_timeout=max_timeout,
        now=now,
    )
    parts, tries = [], []
    for result in results:
        part = _delivery(
            dispatch,
            destination=result.destination,
            webhook_id=result.webhook_id or new_message_id(),
            state="delivered" if result.succeeded else "failed",
            now=now,
        )
        started = now - timedelta(milliseconds=result.latency_ms)
        part |= {
            "attempts": result.attempts,
            "budget_used": result.attempts,
            "last_attempt_at": started if result.attempts else None,
            "last_status": result.status,
            "last_error_type": result.error_type,
            "last_error_detail": (result.error_detail or "")[:300] or None,
            "delivered_at": now if result.succeeded else None,
        }
        parts.append(part)
        if result.attempts:
            tries.append(
                {
                    "delivery_id": part["id"],
                    "number": result.attempts,
                    "worker": "sync",
                    "started_at": started,
                    "finished_at": now,
                    "latency_ms": round(result.latency_ms, 1),
                    "status": result.status,
                    "error_type": result.error_type,
                    "error_detail": part["last_error_detail"],
                }
            )
    return Record(dispatch, parts, tries)


def store(*, session: Session, records: Sequence[Record]) -> list[None]:
    repository.add_many(
        session,
        [r.dispatch for r in records],
        [part for r in records for part in r.deliveries],
        [attempt for r in records for attempt in r.attempts],
    )
    return [None] * len(records)


def get_dispatch(*, session: Session, dispatch_id: str, tenant: str | None) -> DispatchView:
    return _view(session, _visible(session, dispatch_id, tenant), with_attempts=True)


_NEWEST_FIRST: Keyset[DispatchRow] = Keyset(
    (as_time, as_str), lambda row: [row.created_at.isoformat(), row.id]
)


def list_dispatches(
    *,
    session: Session,
    codec: CursorCodec,
    tenant: str | None,
    state: str | None,
    destination: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DispatchView]:
    """One page of ``tenant``'s dispatches (everyone's for None), newest first."""
    query = {"tenant": tenant, "state": state, "destination": destination}
    page = paginate(
        codec=codec,
        keyset=_NEWEST_FIRST,
        cursor=cursor,
        query=query,
        limit=limit,
        fetch=lambda before, n: repository.page(
            session,
            owner=tenant,
            state=state,
            destination=destination,
            before=(before[0], before[1]) if before else None,
            limit=n,
        ),
    )
    parts: dict[str, list[DeliveryRow]] = {row.id: [] for row in page.items}
    for part in repository.deliveries_of(session, list(parts)):
        parts[part.dispatch_id].append(part)
    return Page([DispatchView(row, parts[row.id]) for row in page.items], page.next_cursor)


def retry_dispatch(*, session: Session, dispatch_id: str, tenant: str | None) -> DispatchView:
    """Its failed and dead deliveries back in the queue; 409 when there are none."""
    row = _visible(session, dispatch_id, tenant)
    if not repository.requeue(session, dispatch_id=row.id, now=datetime.now(UTC)):
        raise Conflict("The dispatch has no failed or dead delivery to retry.")
    return _view(session, repository.get(session, row.id) or row, with_attempts=False)


class Dispatches:
    """Dispatches as the handler sees them (built by the composition root): the destinations
    read from the database, the payload fanned out through the gateway, or stored for the
    delivery workers (``wake`` tells this process's that there is work)."""

    def __init__(
        self,
        db: Database,
        gateway: Gateway,
        codec: CursorCodec,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._codec = codec
        # Records of synchronous dispatches answered at once share a transaction (one
        # each queued on SQLite's single writer and slowed the fan-out: p50 56 -> 130 ms).
        self._records: GroupCommit[Record, None] = GroupCommit(
            lambda records: db.write(store, records=records)
        )
        self.wake = wake

    @staticmethod
    def accepting(
        *,
        client_id: str,
        payload: Any,
        names: Sequence[str] | None,
        max_timeout: float | None,
        request_id: str,
        idempotency_key: str | None,
    ) -> Step[DispatchView]:
        """The step that stores an asynchronous dispatch (400 before it, for what cannot be
        sent)."""
        if idempotency_key is not None:
            _checked_header("Idempotency-Key", idempotency_key)
        return functools.partial(
            accept,
            client_id=client_id,
            names=names,
            content=_encoded(payload),
            max_timeout=max_timeout,
            request_id=_checked_header("X-Request-ID", request_id),
            idempotency_key=idempotency_key,
        )

    async def get(self, *, dispatch_id: str, tenant: str | None) -> DispatchView:
        return await self._db.read(get_dispatch, dispatch_id=dispatch_id, tenant=tenant)

    async def list(
        self,
        *,
        tenant: str | None,
        state: str | None,
        destination: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[DispatchView]:
        return await self._db.read(
            list_dispatches,
            codec=self._codec,
            tenant=tenant,
            state=state,
            destination=destination,
            limit=limit,
            cursor=cursor,
        )

    async def retry(self, *, dispatch_id: str, tenant: str | None) -> DispatchView:
        view = await self._db.write(retry_dispatch, dispatch_id=dispatch_id, tenant=tenant)
        self.wake()
        return view

    async def dispatch(
        self,
        *,
        client_id: str,
        disclose: bool,
        payload: Any,
        names: Sequence[str] | None,
        max_timeout: float | None,
        request_id: str,
        idempotency_key: str | None,
    ) -> Report:
        """Send ``payload`` to the chosen destinations at once; 502 if every one failed.

        ``disclose`` says whether the report may carry failures' details and bodies.
        """
        if idempotency_key is not None:
            _checked_header("Idempotency-Key", idempotency_key)
        headers = {
            "x-request-id": _checked_header("X-Request-ID", request_id),
            "idempotency-key": downstream_idempotency_key(client_id, idempotency_key),
        }
        content = _encoded(payload)
        targets = await self._db.read(targets_for, names=names)
        ids = {t.name: webhook_id_for(client_id, idempotency_key, t.name) for t in targets}
        results = await self._gateway.dispatch(
            targets,
            content,
            client_id=client_id,
            headers=headers,
            max_timeout=max_timeout,
            message_ids=ids,
        )
        record = sync_record(
            client_id=client_id,
            content=content,
            max_timeout=max_timeout,
            request_id=request_id,
            downstream_key=headers["idempotency-key"],
            results=results,
        )
        try:
            await self._records.submit(record)
            dispatch_id: str | None = record.dispatch["id"]
        except (Unavailable, SQLAlchemyError) as exc:
            # The calls were made: their report is the answer, recorded or not (a 503
            # would have the caller send everything again).
            logger.warning("dispatch %s not recorded: %s", request_id, type(exc).__name__)
            dispatch_id = None
        report = Report(request_id, results, disclose, dispatch_id)
        if not any(result.succeeded for result in results):
            raise DispatchFailed(
                request_id=request_id,
                results=report.as_dict()["results"],
                dispatch_id=dispatch_id,
            )
        return report
