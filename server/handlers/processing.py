"""Handlers for the ``processing`` tag."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from server.handlers.idempotent import idempotent
from server.security import Principal
from server.services import processing
from server.services.idempotency import Reply


@idempotent
def process_data(session: Session, body: dict[str, int], principal: Principal, path: str) -> Reply:
    record, result = processing.process_and_store(
        session=session,
        owner=principal.client_id,
        user_id=body["user_id"],
        item_id=body["item_id"],
        quantity=body["quantity"],
    )
    content: dict[str, Any] = {
        "status": "success",
        "message": "Data processed",
        "record_id": record.id,
        "result": result,
    }
    location = f"{path.rsplit('/', 1)[0]}/records/{record.id}"
    return Reply.json(200, content, {"Location": location})
