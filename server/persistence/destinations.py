"""SQL for the ``destinations`` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.persistence.errors import Duplicate
from server.persistence.models import Destination

destinations = cast(Table, Destination.__table__)
_BY_NAME = select(destinations).where(destinations.c.name == bindparam("name"))
_INSERT = insert(destinations).returning(*destinations.c)
# Built once: every dispatch runs one of these, and building costs more than running.
_ALL = select(destinations).order_by(destinations.c.name)
_NAMED = _ALL.where(destinations.c.name.in_(bindparam("names", expanding=True)))


def add(session: Session, values: Mapping[str, Any]) -> Row[Any]:
    try:
        return session.execute(_INSERT, dict(values)).one()
    except IntegrityError:
        raise Duplicate("name") from None


def get(session: Session, name: str) -> Row[Any] | None:
    return session.execute(_BY_NAME, {"name": name}).one_or_none()


def page(session: Session, *, after: str | None, limit: int) -> list[Row[Any]]:
    """By name, starting after the name ``after``."""
    query = select(destinations)
    if after is not None:
        query = query.where(destinations.c.name > after)
    return list(session.execute(query.order_by(destinations.c.name).limit(limit)).all())


def named(session: Session, names: Sequence[str] | None) -> list[Row[Any]]:
    """The destinations called ``names`` (every one when None), by name."""
    if names is None:
        return list(session.execute(_ALL).all())
    return list(session.execute(_NAMED, {"names": list(names)}).all())


def change(session: Session, name: str, values: Mapping[str, Any]) -> Row[Any] | None:
    statement = (
        update(destinations)
        .where(destinations.c.name == name)
        .values(**values)
        .returning(*destinations.c)
    )
    return session.execute(statement).one_or_none()


def remove(session: Session, name: str) -> bool:
    result = session.execute(delete(destinations).where(destinations.c.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]
