"""Handlers for the ``gateway`` tag: dispatching, synchronously or not, and the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.handlers.idempotent import idempotent
from server.handlers.paging import paged
from server.ids import new_id
from server.security import Principal
from server.services.dispatching import (
    AttemptRow,
    DeliveryRow,
    Dispatches,
    DispatchView,
    shown_detail,
)
from server.services.idempotency import Idempotency, Reply, Write
from server.telemetry.context import current_request_id

RESPOND_ASYNC = "respond-async"


def prefers_async(request: Request) -> bool:
    """Whether a ``Prefer`` field asks for ``respond-async`` (RFC 7240: comma-separated
    preferences, each a case-insensitive token with an optional value and parameters,
    possibly in several fields)."""
    for field in request.headers.getlist("prefer"):
        for preference in field.split(","):
            token = preference.split(";", 1)[0].split("=", 1)[0].strip().lower()
            if token == RESPOND_ASYNC:
                return True
    return False


async def dispatch(
    body: dict[str, Any],
    dispatches: Dispatches,
    idempotency: Idempotency,
    principal: Principal,
    request: Request,
    idempotency_key: str | None = None,
) -> dict[str, Any] | Response:
    if prefers_async(request):
        answer = await accept_dispatch(
            body,
            idempotency=idempotency,
            request=request,
            principal=principal,
            idempotency_key=idempotency_key,
            dispatches=dispatches,
        )
        dispatches.wake()  # committed: this process's workers start on it now
        return answer
    # The request's X-Request-ID (the telemetry middleware returns it), sent downstream too.
    report = await dispatches.dispatch(
        client_id=principal.client_id,
        disclose=principal.is_admin,
        payload=body["payload"],
        names=body.get("destinations"),
        max_timeout=body.get("timeout_seconds"),
        request_id=current_request_id() or new_id(),
        idempotency_key=idempotency_key,
    )
    return report.as_dict()


@idempotent
def accept_dispatch(
    body: dict[str, Any],
    principal: Principal,
    path: str,
    dispatches: Dispatches,
    idempotency_key: str | None,
) -> Write[DispatchView]:
    """``Prefer: respond-async``: stored, then answered 202 (replayed for a retry with the
    same ``Idempotency-Key``)."""
    step = Dispatches.accepting(
        client_id=principal.client_id,
        payload=body["payload"],
        names=body.get("destinations"),
        max_timeout=body.get("timeout_seconds"),
        request_id=current_request_id() or new_id(),
        idempotency_key=idempotency_key,
    )
    return Write(
        step,
        lambda view: Reply.json(
            202,
            representation(view, disclose=principal.is_admin),
            {
                "Location": f"{path.removesuffix('/dispatch')}/dispatches/{view.dispatch.id}",
                "Preference-Applied": RESPOND_ASYNC,
            },
        ),
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _error(
    kind: str | None, detail: str | None, *, disclose: bool, key: str
) -> dict[str, dict[str, str]]:
    """``{key: error}``, or nothing when there was none; the detail is the destination's
    own words only for admins."""
    if kind is None:
        return {}
    return {key: {"type": kind, "detail": shown_detail(kind, detail, disclose=disclose)}}


def _attempt(row: AttemptRow, *, disclose: bool) -> dict[str, Any]:
    return {
        "number": row.number,
        "started_at": row.started_at.isoformat(),
        "finished_at": _iso(row.finished_at),
        "latency_ms": row.latency_ms,
        "status": row.status,
        **_error(row.error_type, row.error_detail, disclose=disclose, key="error"),
    }


def _delivery(
    row: DeliveryRow, attempts: list[AttemptRow] | None, *, disclose: bool
) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": row.id,
        "webhook_id": row.webhook_id,
        "destination": row.destination,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "last_attempt_at": _iso(row.last_attempt_at),
        "delivered_at": _iso(row.delivered_at),
        "last_status": row.last_status,
        **_error(row.last_error_type, row.last_error_detail, disclose=disclose, key="last_error"),
    }
    if attempts is not None:
        shown["attempt_log"] = [_attempt(a, disclose=disclose) for a in attempts]
    return shown


def representation(view: DispatchView, *, disclose: bool) -> dict[str, Any]:
    row = view.dispatch
    return {
        "id": row.id,
        "mode": row.mode,
        "state": row.state,
        "request_id": row.request_id,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "deliveries": [
            _delivery(
                part,
                view.attempts.get(part.id, []) if view.attempts is not None else None,
                disclose=disclose,
            )
            for part in view.deliveries
        ],
    }


async def list_dispatches(
    dispatches: Dispatches,
    principal: Principal,
    request: Request,
    state: str | None = None,
    destination: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await dispatches.list(
        tenant=principal.tenant, state=state, destination=destination, limit=limit, cursor=cursor
    )
    return paged(request, page, lambda view: representation(view, disclose=principal.is_admin))


async def get_dispatch(
    dispatch_id: str, dispatches: Dispatches, principal: Principal
) -> dict[str, Any]:
    view = await dispatches.get(dispatch_id=dispatch_id, tenant=principal.tenant)
    return representation(view, disclose=principal.is_admin)


async def retry_dispatch(
    dispatch_id: str, dispatches: Dispatches, principal: Principal, request: Request
) -> tuple[dict[str, Any], int, dict[str, str]]:
    view = await dispatches.retry(dispatch_id=dispatch_id, tenant=principal.tenant)
    location = request.scope["path"].removesuffix("/retry")
    return representation(view, disclose=principal.is_admin), 202, {"Location": location}
