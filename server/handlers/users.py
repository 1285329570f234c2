"""Handlers for the ``users`` tag."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from server.handlers.idempotent import idempotent
from server.handlers.paging import paged
from server.http import conditions
from server.persistence.database import Database
from server.persistence.rows import UserRow
from server.security import Principal
from server.services import users
from server.services.idempotency import Reply
from server.services.pagination import Cursors


def representation(user: UserRow) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "age": user.age,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def _with_etag(user: UserRow) -> tuple[dict[str, Any], int, dict[str, str]]:
    return representation(user), 200, {"ETag": conditions.etag(user.version)}


@idempotent
def create_user(session: Session, body: dict[str, Any], principal: Principal, path: str) -> Reply:
    user = users.create_user(
        session=session,
        owner=principal.client_id,
        name=body["name"],
        email=body.get("email"),
        age=body.get("age"),
    )
    headers = {"Location": f"{path.rstrip('/')}/{user.id}", "ETag": conditions.etag(user.version)}
    return Reply.json(201, representation(user), headers)


async def get_user(
    user_id: int, db: Database, principal: Principal, if_none_match: str | None = None
) -> Response | tuple[dict[str, Any], int, dict[str, str]]:
    user = await db.read(users.get_user, tenant=principal.tenant, user_id=user_id)
    if conditions.none_match(if_none_match, user.version):
        return Response(status_code=304, headers={"ETag": conditions.etag(user.version)})
    return _with_etag(user)


async def list_users(
    db: Database,
    cursors: Cursors,
    request: Request,
    principal: Principal,
    name_contains: str | None = None,
    email: str | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    sort: str = "created_at",
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await db.read(
        users.list_users,
        codec=cursors("users"),
        tenant=principal.tenant,
        name_contains=name_contains,
        email=email,
        min_age=min_age,
        max_age=max_age,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return paged(request, page, representation)


async def replace_user(
    user_id: int,
    body: dict[str, Any],
    db: Database,
    principal: Principal,
    if_match: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    user = await db.write(
        users.replace_user,
        tenant=principal.tenant,
        user_id=user_id,
        expected=conditions.if_match(if_match),
        name=body["name"],
        email=body.get("email"),
        age=body.get("age"),
    )
    return _with_etag(user)


async def update_user(
    user_id: int,
    body: dict[str, Any],
    db: Database,
    principal: Principal,
    if_match: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    user = await db.write(
        users.update_user,
        tenant=principal.tenant,
        user_id=user_id,
        expected=conditions.if_match(if_match),
        patch=body,
    )
    return _with_etag(user)


async def delete_user(
    user_id: int, db: Database, principal: Principal, if_match: str | None = None
) -> Response:
    await db.write(
        users.delete_user,
        tenant=principal.tenant,
        user_id=user_id,
        expected=conditions.if_match(if_match),
    )
    return Response(status_code=204)
