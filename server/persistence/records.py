"""SQL for the ``records`` table (Core on the mapped table, as in ``users.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from server.persistence.keyset import page_of
from server.persistence.models import Record
from server.persistence.rows import each, maybe, one


@dataclass(frozen=True, slots=True)
class RecordRow:
    TABLE: ClassVar[str] = "records"

    id: int
    user_id: int
    item_id: int
    quantity: int
    processed_quantity: int
    created_at: datetime
    owner: str | None


records = cast(Table, Record.__table__)
# Built once: constructing a statement costs more than running it on SQLite.
_BY_ID = select(records).where(records.c.id == bindparam("record_id"))
_BY_ID_OWNED = _BY_ID.where(records.c.owner == bindparam("owner"))
_INSERT = insert(records).returning(*records.c)


def add(
    session: Session,
    *,
    owner: str,
    user_id: int,
    item_id: int,
    quantity: int,
    processed_quantity: int,
    now: datetime,
) -> RecordRow:
    values = {
        "owner": owner,
        "user_id": user_id,
        "item_id": item_id,
        "quantity": quantity,
        "processed_quantity": processed_quantity,
        "created_at": now,
    }
    return one(RecordRow, session.execute(_INSERT, values).one())


def get(session: Session, record_id: int, *, owner: str | None) -> RecordRow | None:
    """The record, if it exists and (unless ``owner`` is None) belongs to ``owner``."""
    if owner is None:
        return maybe(RecordRow, session.execute(_BY_ID, {"record_id": record_id}).one_or_none())
    return maybe(
        RecordRow,
        session.execute(_BY_ID_OWNED, {"record_id": record_id, "owner": owner}).one_or_none(),
    )


def page(
    session: Session,
    *,
    owner: str | None,
    user_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[RecordRow]:
    """Newest first (by id), starting below ``before_id``; only ``owner``'s unless None."""
    query = select(records)
    if owner is not None:
        query = query.where(records.c.owner == owner)
    if user_id is not None:
        query = query.where(records.c.user_id == user_id)
    position = (before_id,) if before_id is not None else None
    query = page_of(query, (records.c.id,), position, limit=limit, descending=True)
    return each(RecordRow, session.execute(query).all())
