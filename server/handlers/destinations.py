"""Handlers for the ``destinations`` tag (admin only: the spec requires the ``admin`` scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.handlers.idempotent import idempotent
from server.handlers.paging import paged
from server.security import Principal
from server.services.destinations import (
    DestinationRow,
    Destinations,
    previous_secret_expiry,
)
from server.services.idempotency import Reply, Write


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def with_secret(row: DestinationRow, destinations: Destinations) -> dict[str, Any]:
    """The answers to creating it and to rotating its secret: the only ones that show it."""
    return {**representation(row, destinations), "signing_secret": row.signing_secret}


def representation(row: DestinationRow, destinations: Destinations) -> dict[str, Any]:
    circuit = destinations.circuit(row)
    return {
        "name": row.name,
        "url": row.url,
        "timeout_seconds": row.timeout_seconds,
        "retry": {
            "max_attempts": row.max_attempts,
            "initial_backoff_seconds": row.initial_backoff_seconds,
            "max_backoff_seconds": row.max_backoff_seconds,
        },
        "circuit_breaker": {
            "failure_threshold": row.failure_threshold,
            "cooldown_seconds": row.cooldown_seconds,
        },
        "delivery": {
            "max_attempts": row.delivery_max_attempts,
            "initial_backoff_seconds": row.delivery_initial_backoff_seconds,
            "max_backoff_seconds": row.delivery_max_backoff_seconds,
            "max_age_seconds": row.delivery_max_age_seconds,
        },
        "header_names": list(row.downstream_headers),
        "enabled": row.enabled,
        "circuit": {
            "state": circuit.state.value,
            "consecutive_failures": circuit.consecutive_failures,
            "retry_after_seconds": round(circuit.retry_after, 3),
            "times_opened": circuit.times_opened,
        },
        "signing": {
            "secret_created_at": row.signing_secret_created_at.isoformat(),
            "previous_secret_expires_at": _iso(previous_secret_expiry(row)),
        },
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


async def list_destinations(
    destinations: Destinations, request: Request, limit: int = 20, cursor: str | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await destinations.list(limit=limit, cursor=cursor)
    return paged(request, page, lambda row: representation(row, destinations))


async def create_destination(
    body: dict[str, Any], destinations: Destinations, request: Request
) -> tuple[dict[str, Any], int, dict[str, str]]:
    row = await destinations.create(
        name=body["name"],
        url=body["url"],
        timeout_seconds=body.get("timeout_seconds"),
        retry=body.get("retry"),
        circuit_breaker=body.get("circuit_breaker"),
        delivery=body.get("delivery"),
        headers=body.get("headers"),
        enabled=body.get("enabled"),
    )
    location = f"{request.scope['path'].rstrip('/')}/{row.name}"
    return with_secret(row, destinations), 201, {"Location": location}


async def get_destination(name: str, destinations: Destinations) -> dict[str, Any]:
    return representation(await destinations.get(name=name), destinations)


async def update_destination(
    name: str, body: dict[str, Any], destinations: Destinations
) -> dict[str, Any]:
    return representation(await destinations.update(name=name, patch=body), destinations)


@idempotent
def rotate_destination_secret(
    body: dict[str, Any] | None,
    principal: Principal,
    path: str,
    name: str,
    destinations: Destinations,
) -> Write[DestinationRow]:
    # With an Idempotency-Key, an admin whose answer was lost retries and gets the same
    # secret back, instead of a third one that would end the first one's overlap.
    overlap = (body or {}).get("overlap_seconds")
    return Write(
        Destinations.rotating(name=name, overlap_seconds=overlap),
        lambda row: Reply.json(200, with_secret(row, destinations)),
    )


async def delete_destination(name: str, destinations: Destinations) -> Response:
    await destinations.delete(name=name)
    return Response(status_code=204)
