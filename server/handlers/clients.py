"""Handlers for the ``clients`` tag (admin only: the spec requires the ``admin`` scope)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.handlers.paging import paged
from server.persistence.database import Database
from server.persistence.rows import ClientRow
from server.security import Authenticator, Principal
from server.services import clients
from server.services.pagination import Cursors


def representation(client: ClientRow) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scopes": client.scopes.split(),
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


async def list_clients(
    db: Database, cursors: Cursors, request: Request, limit: int = 20, cursor: str | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await db.read(
        clients.list_clients,
        codec=cursors("clients"),
        limit=limit,
        cursor=cursor,
    )
    return paged(request, page, representation)


async def create_client(
    body: dict[str, Any], db: Database, request: Request
) -> tuple[dict[str, Any], int, dict[str, str]]:
    client, secret = await db.write(clients.create_client, name=body["name"], scopes=body["scopes"])
    location = f"{request.scope['path'].rstrip('/')}/{client.client_id}"
    return {**representation(client), "client_secret": secret}, 201, {"Location": location}


async def get_client(client_id: str, db: Database) -> dict[str, Any]:
    return representation(await db.read(clients.get_client, client_id=client_id))


async def revoke_client(
    client_id: str, db: Database, authenticator: Authenticator, principal: Principal
) -> dict[str, Any]:
    client = await db.write(clients.revoke_client, client_id=client_id, caller=principal.client_id)
    authenticator.forget(client_id)  # at once here; other instances within the cache bound
    return representation(client)
