"""SQL for the ``destinations`` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.persistence.errors import Duplicate
from server.persistence.keyset import page_of
from server.persistence.models import Destination
from server.persistence.rows import each, maybe, one


@dataclass(frozen=True, slots=True)
class DestinationRow:
    TABLE: ClassVar[str] = "destinations"

    name: str
    url: str
    timeout_seconds: float
    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    failure_threshold: int
    cooldown_seconds: float
    enabled: bool
    # Never in a repr (a log line, a traceback): the secrets that sign its requests.
    signing_secret: str = field(repr=False)
    signing_secret_created_at: datetime
    previous_signing_secret: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None
    delivery_max_attempts: int
    delivery_initial_backoff_seconds: float
    delivery_max_backoff_seconds: float
    delivery_max_age_seconds: int
    # Never in a repr either: sent downstream, never answered (an Authorization value).
    downstream_headers: dict[str, str] = field(repr=False)
    created_at: datetime
    updated_at: datetime


destinations = cast(Table, Destination.__table__)
_BY_NAME = select(destinations).where(destinations.c.name == bindparam("name"))
_INSERT = insert(destinations).returning(*destinations.c)
# Built once: every dispatch runs one of these, and building costs more than running.
_ALL = select(destinations).order_by(destinations.c.name)
_NAMED = _ALL.where(destinations.c.name.in_(bindparam("names", expanding=True)))


def add(session: Session, values: Mapping[str, Any]) -> DestinationRow:
    try:
        return one(DestinationRow, session.execute(_INSERT, dict(values)).one())
    except IntegrityError:
        raise Duplicate("name") from None


def get(session: Session, name: str) -> DestinationRow | None:
    return maybe(DestinationRow, session.execute(_BY_NAME, {"name": name}).one_or_none())


def page(session: Session, *, after: str | None, limit: int) -> list[DestinationRow]:
    """By name, starting after the name ``after``."""
    position = (after,) if after is not None else None
    query = page_of(select(destinations), (destinations.c.name,), position, limit=limit)
    return each(DestinationRow, session.execute(query).all())


def named(session: Session, names: Sequence[str] | None) -> list[DestinationRow]:
    """The destinations called ``names`` (every one when None), by name."""
    if names is None:
        return each(DestinationRow, session.execute(_ALL).all())
    return each(DestinationRow, session.execute(_NAMED, {"names": list(names)}).all())


def change(session: Session, name: str, values: Mapping[str, Any]) -> DestinationRow | None:
    statement = (
        update(destinations)
        .where(destinations.c.name == name)
        .values(**values)
        .returning(*destinations.c)
    )
    return maybe(DestinationRow, session.execute(statement).one_or_none())


def rotate(
    session: Session, name: str, *, secret: str, now: datetime, keep_until: datetime | None
) -> DestinationRow | None:
    """The new ``secret`` in one statement, the current one kept beside it until
    ``keep_until`` (dropped when None): the UPDATE reads the current secret under its row
    lock, so concurrent rotations queue and each keeps the one before it."""
    c = destinations.c
    statement = (
        update(destinations)
        .where(c.name == name)
        .values(
            signing_secret=secret,
            signing_secret_created_at=now,
            previous_signing_secret=c.signing_secret if keep_until is not None else None,
            previous_secret_expires_at=keep_until,
            updated_at=now,
        )
        .returning(*destinations.c)
    )
    return maybe(DestinationRow, session.execute(statement).one_or_none())


def remove(session: Session, name: str) -> bool:
    result = session.execute(delete(destinations).where(destinations.c.name == name))
    return bool(result.rowcount)  # type: ignore[attr-defined]
