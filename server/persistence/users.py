"""SQL for the ``users`` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import Conflict
from server.persistence.models import User

SORT_COLUMNS = {"created_at": User.created_at, "name": User.name}


@dataclass(frozen=True)
class UserFilters:
    name_contains: str | None = None
    email: str | None = None
    min_age: int | None = None
    max_age: int | None = None


def _duplicate_email(email: str) -> Conflict:
    return Conflict(f"A user with the email {email[:254]!r} already exists.")


def insert(session: Session, *, name: str, email: str, age: int | None, now: datetime) -> User:
    user = User(name=name, email=email, age=age, version=1, created_at=now, updated_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise _duplicate_email(email) from None
    return user


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def page(
    session: Session,
    *,
    filters: UserFilters,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> list[User]:
    """One page in (sort column, id) order, starting after the keyset ``after``."""
    column = SORT_COLUMNS[sort]
    query = select(User)
    if filters.name_contains is not None:
        query = query.where(
            func.lower(User.name).contains(filters.name_contains.lower(), autoescape=True)
        )
    if filters.email is not None:
        query = query.where(User.email == filters.email.lower())
    if filters.min_age is not None:
        query = query.where(User.age >= filters.min_age)
    if filters.max_age is not None:
        query = query.where(User.age <= filters.max_age)
    if after is not None:
        keyset = tuple_(column, User.id)
        query = query.where(keyset < after if descending else keyset > after)
    order = (column.desc(), User.id.desc()) if descending else (column.asc(), User.id.asc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def update_if_version(
    session: Session, *, user_id: int, version: int, values: Mapping[str, Any], now: datetime
) -> User | None:
    """Apply ``values`` only if the row is still at ``version``; None if it moved on."""
    statement = (
        update(User)
        .where(User.id == user_id, User.version == version)
        .values(**values, version=User.version + 1, updated_at=now)
        .returning(User)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    try:
        return session.execute(statement).scalars().one_or_none()
    except IntegrityError:
        raise _duplicate_email(str(values.get("email", ""))) from None


def delete_if_version(session: Session, *, user_id: int, version: int | None) -> bool:
    """Delete the row (only at ``version`` when given); False if nothing matched."""
    statement = delete(User).where(User.id == user_id)
    if version is not None:
        statement = statement.where(User.version == version)
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]
