"""Handlers for the ``processing`` tag."""

from __future__ import annotations

from typing import Any

from server.handlers.idempotent import idempotent
from server.security import Principal
from server.services.idempotency import Reply, Write
from server.services.processing import RecordRow, Records


@idempotent
def process_data(
    body: dict[str, int], principal: Principal, path: str
) -> Write[tuple[RecordRow, dict[str, int]]]:
    def processed(stored: tuple[RecordRow, dict[str, int]]) -> Reply:
        record, result = stored
        content: dict[str, Any] = {
            "status": "success",
            "message": "Data processed",
            "record_id": record.id,
            "result": result,
        }
        location = f"{path.rsplit('/', 1)[0]}/records/{record.id}"
        return Reply.json(200, content, {"Location": location})

    step = Records.processing(
        owner=principal.client_id,
        user_id=body["user_id"],
        item_id=body["item_id"],
        quantity=body["quantity"],
    )
    return Write(step, processed)
