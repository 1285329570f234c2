"""Handlers for the ``destinations`` tag (admin only: the spec requires the ``admin`` scope)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.downstream.gateway import Gateway
from server.downstream.hosts import HostAllowList
from server.handlers.paging import paged
from server.persistence.database import Database
from server.persistence.rows import DestinationRow
from server.services import destinations
from server.services.pagination import Cursors


def representation(row: DestinationRow, gateway: Gateway) -> dict[str, Any]:
    circuit = gateway.circuit(destinations.target(row))
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
        "enabled": row.enabled,
        "circuit": {
            "state": circuit.state.value,
            "consecutive_failures": circuit.consecutive_failures,
            "retry_after_seconds": round(circuit.retry_after, 3),
            "times_opened": circuit.times_opened,
        },
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


async def list_destinations(
    db: Database,
    cursors: Cursors,
    gateway: Gateway,
    request: Request,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await db.read(
        destinations.list_destinations,
        codec=cursors("destinations"),
        limit=limit,
        cursor=cursor,
    )
    return paged(request, page, lambda row: representation(row, gateway))


async def create_destination(
    body: dict[str, Any],
    db: Database,
    gateway: Gateway,
    allowed_hosts: HostAllowList,
    request: Request,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    row = await db.write(destinations.create_destination, allowed_hosts=allowed_hosts, **body)
    location = f"{request.scope['path'].rstrip('/')}/{row.name}"
    return representation(row, gateway), 201, {"Location": location}


async def get_destination(name: str, db: Database, gateway: Gateway) -> dict[str, Any]:
    return representation(await db.read(destinations.get_destination, name=name), gateway)


async def update_destination(
    name: str, body: dict[str, Any], db: Database, gateway: Gateway, allowed_hosts: HostAllowList
) -> dict[str, Any]:
    row = await db.write(
        destinations.update_destination,
        allowed_hosts=allowed_hosts,
        name=name,
        patch=body,
    )
    return representation(row, gateway)


async def delete_destination(name: str, db: Database, gateway: Gateway) -> Response:
    await db.write(destinations.delete_destination, name=name)
    gateway.forget(name)
    return Response(status_code=204)
