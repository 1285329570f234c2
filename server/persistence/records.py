"""SQL for the ``records`` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.persistence.models import Record


def insert(
    session: Session,
    *,
    user_id: int,
    item_id: int,
    quantity: int,
    processed_quantity: int,
    now: datetime,
) -> Record:
    record = Record(
        user_id=user_id,
        item_id=item_id,
        quantity=quantity,
        processed_quantity=processed_quantity,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return record


def get(session: Session, record_id: int) -> Record | None:
    return session.get(Record, record_id)


def page(
    session: Session, *, user_id: int | None, before_id: int | None, limit: int
) -> list[Record]:
    """Newest first (by id), starting below ``before_id``."""
    query = select(Record)
    if user_id is not None:
        query = query.where(Record.user_id == user_id)
    if before_id is not None:
        query = query.where(Record.id < before_id)
    return list(session.scalars(query.order_by(Record.id.desc()).limit(limit)))
