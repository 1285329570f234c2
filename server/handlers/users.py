"""Handlers for the ``users`` tag."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.handlers.idempotent import idempotent
from server.handlers.paging import paged
from server.http import conditions
from server.security import Principal
from server.services.idempotency import Reply, Write
from server.services.users import UserRow, Users


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
def create_user(body: dict[str, Any], principal: Principal, path: str) -> Write[UserRow]:
    def created(user: UserRow) -> Reply:
        location = f"{path.rstrip('/')}/{user.id}"
        headers = {"Location": location, "ETag": conditions.etag(user.version)}
        return Reply.json(201, representation(user), headers)

    step = Users.creating(
        owner=principal.client_id, name=body["name"], email=body.get("email"), age=body.get("age")
    )
    return Write(step, created)


async def get_user(
    user_id: int, users: Users, principal: Principal, if_none_match: str | None = None
) -> Response | tuple[dict[str, Any], int, dict[str, str]]:
    user = await users.get(tenant=principal.tenant, user_id=user_id)
    if conditions.none_match(if_none_match, user.version):
        return Response(status_code=304, headers={"ETag": conditions.etag(user.version)})
    return _with_etag(user)


async def list_users(
    users: Users,
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
    page = await users.list(
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
    users: Users,
    principal: Principal,
    if_match: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    user = await users.replace(
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
    users: Users,
    principal: Principal,
    if_match: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    user = await users.update(
        tenant=principal.tenant,
        user_id=user_id,
        expected=conditions.if_match(if_match),
        patch=body,
    )
    return _with_etag(user)


async def delete_user(
    user_id: int, users: Users, principal: Principal, if_match: str | None = None
) -> Response:
    await users.delete(
        tenant=principal.tenant,
        user_id=user_id,
        expected=conditions.if_match(if_match),
    )
    return Response(status_code=204)
