"""Handlers for the ``processing`` tag."""

from __future__ import annotations

from typing import Any

from server.services import processing


async def process_data(body: dict[str, int]) -> dict[str, Any]:
    result = processing.process_record(
        user_id=body["user_id"], item_id=body["item_id"], quantity=body["quantity"]
    )
    return {"status": "success", "message": "Data processed", "result": result}
