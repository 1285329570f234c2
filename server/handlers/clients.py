"""Handlers for the ``clients`` tag (admin only: the spec requires the ``admin`` scope)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.handlers.paging import paged
from server.security import Principal
from server.services.clients import ClientRow, Clients


def representation(client: ClientRow) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scopes": client.scopes.split(),
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


async def list_clients(
    clients: Clients, request: Request, limit: int = 20, cursor: str | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await clients.list(limit=limit, cursor=cursor)
    return paged(request, page, representation)


async def create_client(
    body: dict[str, Any], clients: Clients, request: Request
) -> tuple[dict[str, Any], int, dict[str, str]]:
    client, secret = await clients.create(name=body["name"], scopes=body["scopes"])
    location = f"{request.scope['path'].rstrip('/')}/{client.client_id}"
    return {**representation(client), "client_secret": secret}, 201, {"Location": location}


async def get_client(client_id: str, clients: Clients) -> dict[str, Any]:
    return representation(await clients.get(client_id=client_id))


async def revoke_client(client_id: str, clients: Clients, principal: Principal) -> dict[str, Any]:
    return representation(await clients.revoke(client_id=client_id, caller=principal.client_id))
