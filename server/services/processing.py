"""Processing of submitted records, and their storage."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from server.errors import NotFound
from server.persistence import records as repository
from server.persistence.database import Database

# Re-exported (``as``): the rows this service hands out, named by its callers.
from server.persistence.records import RecordRow as RecordRow
from server.services.idempotency import Step
from server.services.pagination import CursorCodec, Keyset, Page, as_int, paginate


def process_record(*, user_id: int, item_id: int, quantity: int) -> dict[str, int]:
    """Return the processed record: the quantity doubled, the ids unchanged."""
    return {"user_id": user_id, "item_id": item_id, "quantity": quantity * 2}


def process_and_store(
    *, session: Session, owner: str, user_id: int, item_id: int, quantity: int
) -> tuple[RecordRow, dict[str, int]]:
    """Process a record and store it; return the stored row and the processed result."""
    result = process_record(user_id=user_id, item_id=item_id, quantity=quantity)
    record = repository.add(
        session,
        owner=owner,
        user_id=user_id,
        item_id=item_id,
        quantity=quantity,
        processed_quantity=result["quantity"],
        now=datetime.now(UTC),
    )
    return record, result


def get_record(*, session: Session, tenant: str | None, record_id: int) -> RecordRow:
    """The stored record, or 404 (also when it is another client's)."""
    record = repository.get(session, record_id, owner=tenant)
    if record is None:
        raise NotFound(f"There is no record {record_id}.")
    return record


def list_records(
    *,
    session: Session,
    codec: CursorCodec,
    tenant: str | None,
    user_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[RecordRow]:
    """One page of records, newest first."""
    return paginate(
        codec=codec,
        keyset=_NEWEST_FIRST,
        cursor=cursor,
        query={"user_id": user_id, "tenant": tenant},
        limit=limit,
        fetch=lambda after, n: repository.page(
            session, owner=tenant, user_id=user_id, before_id=after[0] if after else None, limit=n
        ),
    )


_NEWEST_FIRST: Keyset[RecordRow] = Keyset((as_int,), lambda row: [row.id])


class Records:
    """The records service as the handlers see it (built by the composition root)."""

    def __init__(self, db: Database, codec: CursorCodec) -> None:
        self._db = db
        self._codec = codec

    @staticmethod
    def processing(
        *, owner: str, user_id: int, item_id: int, quantity: int
    ) -> Step[tuple[RecordRow, dict[str, int]]]:
        """Processing and storing a record as a step of a larger transaction."""
        return functools.partial(
            process_and_store, owner=owner, user_id=user_id, item_id=item_id, quantity=quantity
        )

    async def get(self, *, tenant: str | None, record_id: int) -> RecordRow:
        return await self._db.read(get_record, tenant=tenant, record_id=record_id)

    async def list(
        self, *, tenant: str | None, user_id: int | None, limit: int, cursor: str | None
    ) -> Page[RecordRow]:
        return await self._db.read(
            list_records,
            codec=self._codec,
            tenant=tenant,
            user_id=user_id,
            limit=limit,
            cursor=cursor,
        )
