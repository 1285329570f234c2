"""Handlers for the ``records`` tag."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.handlers.paging import paged
from server.security import Principal
from server.services.processing import RecordRow, Records


def representation(record: RecordRow) -> dict[str, Any]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "item_id": record.item_id,
        "quantity": record.quantity,
        "processed_quantity": record.processed_quantity,
        "created_at": record.created_at.isoformat(),
    }


async def get_record(record_id: int, records: Records, principal: Principal) -> dict[str, Any]:
    return representation(await records.get(tenant=principal.tenant, record_id=record_id))


async def list_records(
    records: Records,
    request: Request,
    principal: Principal,
    user_id: int | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await records.list(tenant=principal.tenant, user_id=user_id, limit=limit, cursor=cursor)
    return paged(request, page, representation)
