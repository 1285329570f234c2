"""Handlers for the ``gateway`` tag."""

from __future__ import annotations

from typing import Any

from server.security import Principal
from server.services.dispatching import Dispatches, new_id
from server.telemetry.context import current_request_id


async def dispatch(
    body: dict[str, Any],
    dispatches: Dispatches,
    principal: Principal,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
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
