"""Handlers for the ``processing`` tag."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from server.persistence.database import Database
from server.security import Principal
from server.services import idempotency, processing
from server.services.idempotency import Reply


async def process_data(
    body: dict[str, int],
    db: Database,
    request: Request,
    principal: Principal,
    idempotency_key: str | None = None,
) -> Response:
    def work(session: Session) -> Reply:
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
        location = f"{request.scope['path'].rsplit('/', 1)[0]}/records/{record.id}"
        return Reply.json(200, content, {"Location": location})

    return await idempotency.run_once(
        db=db,
        scope=idempotency.scope_for(principal.client_id, "process_data"),
        key=idempotency_key,
        payload=body,
        instance=request.scope["path"],
        work=work,
    )
