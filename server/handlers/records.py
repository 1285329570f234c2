"""Handlers for the ``records`` tag."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.handlers.paging import paged
from server.persistence.database import Database
from server.persistence.rows import RecordRow
from server.security import Principal
from server.services import processing
from server.services.pagination import Cursors


def representation(record: RecordRow) -> dict[str, Any]:
    return {
        "id": record.id,
        "user_id": record.user_id,
        "item_id": record.item_id,
        "quantity": record.quantity,
        "processed_quantity": record.processed_quantity,
        "created_at": record.created_at.isoformat(),
    }


async def get_record(record_id: int, db: Database, principal: Principal) -> dict[str, Any]:
    record = await db.read(processing.get_record, tenant=principal.tenant, record_id=record_id)
    return representation(record)


async def list_records(
    db: Database,
    cursors: Cursors,
    request: Request,
    principal: Principal,
    user_id: int | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    page = await db.read(
        processing.list_records,
        codec=cursors("records"),
        tenant=principal.tenant,
        user_id=user_id,
        limit=limit,
        cursor=cursor,
    )
    return paged(request, page, representation)
