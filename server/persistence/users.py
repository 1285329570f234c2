"""SQL for the ``users`` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.persistence.errors import Duplicate
from server.persistence.keyset import page_of
from server.persistence.models import User
from server.persistence.rows import each, maybe, one


@dataclass(frozen=True, slots=True)
class UserRow:
    TABLE: ClassVar[str] = "users"

    id: int
    name: str
    email: str | None
    age: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    owner: str | None


# SQLAlchemy Core on the mapped table: rows come back as light named tuples, without the
# ORM's identity-map machinery, which cost several times the query itself on the hot path.
users = cast(Table, User.__table__)
SORT_COLUMNS = {"created_at": users.c.created_at, "name": users.c.name}
# Built once: constructing a statement costs more than running it on SQLite.
_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_BY_ID_OWNED = _BY_ID.where(users.c.owner == bindparam("owner"))
_INSERT = insert(users).returning(*users.c)


@dataclass(frozen=True)
class UserFilters:
    owner: str | None = None  # None: every owner's users (admins)
    name_contains: str | None = None
    email: str | None = None
    min_age: int | None = None
    max_age: int | None = None


def add(
    session: Session, *, owner: str, name: str, email: str | None, age: int | None, now: datetime
) -> UserRow:
    values = {"owner": owner, "name": name, "email": email, "age": age, "version": 1}
    try:
        return one(
            UserRow,
            session.execute(_INSERT, {**values, "created_at": now, "updated_at": now}).one(),
        )
    except IntegrityError:
        raise Duplicate("email") from None  # unique per owner


def get(session: Session, user_id: int, *, owner: str | None) -> UserRow | None:
    """The user, if it exists and (unless ``owner`` is None) belongs to ``owner``."""
    if owner is None:
        return maybe(UserRow, session.execute(_BY_ID, {"user_id": user_id}).one_or_none())
    return maybe(
        UserRow, session.execute(_BY_ID_OWNED, {"user_id": user_id, "owner": owner}).one_or_none()
    )


def page(
    session: Session,
    *,
    filters: UserFilters,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> list[UserRow]:
    """One page in (sort column, id) order, starting after the keyset ``after``."""
    column = SORT_COLUMNS[sort]
    query = select(users)
    if filters.owner is not None:
        query = query.where(users.c.owner == filters.owner)
    if filters.name_contains is not None:
        query = query.where(
            func.lower(users.c.name).contains(filters.name_contains.lower(), autoescape=True)
        )
    if filters.email is not None:
        query = query.where(users.c.email == filters.email.lower())
    if filters.min_age is not None:
        query = query.where(users.c.age >= filters.min_age)
    if filters.max_age is not None:
        query = query.where(users.c.age <= filters.max_age)
    query = page_of(query, (column, users.c.id), after, limit=limit, descending=descending)
    return each(UserRow, session.execute(query).all())


def update_if_version(
    session: Session, *, user_id: int, version: int, values: Mapping[str, Any], now: datetime
) -> UserRow | None:
    """Apply ``values`` only if the row is still at ``version``; None if it moved on."""
    statement = (
        update(users)
        .where(users.c.id == user_id, users.c.version == version)
        .values(**values, version=users.c.version + 1, updated_at=now)
        .returning(*users.c)
    )
    try:
        return maybe(UserRow, session.execute(statement).one_or_none())
    except IntegrityError:
        raise Duplicate("email") from None  # unique per owner


def delete_if_version(session: Session, *, user_id: int, version: int | None) -> bool:
    """Delete the row (only at ``version`` when given); False if nothing matched."""
    statement = delete(users).where(users.c.id == user_id)
    if version is not None:
        statement = statement.where(users.c.version == version)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]
