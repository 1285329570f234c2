"""The rules for users: unique emails, optimistic concurrency with versions, pagination.

Every function that reads takes ``tenant``: the client whose users are visible, or None for
an admin, who sees every client's. Another client's user is simply not there (404).
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.errors import Conflict, NotFound, PreconditionFailed
from server.persistence import users as repository
from server.persistence.database import Database
from server.persistence.errors import Duplicate
from server.persistence.users import UserFilters

# Re-exported (``as``): the rows this service hands out, named by its callers.
from server.persistence.users import UserRow as UserRow
from server.services.idempotency import Step
from server.services.pagination import CursorCodec, Keyset, Page, as_int, as_str, as_time, paginate
from server.services.versions import Versions

MAX_PATCH_ATTEMPTS = 5


def _lowered(email: str | None) -> str | None:
    """E-mail addresses are stored lower-cased; a user may have none."""
    return email.lower() if email is not None else None


def _now() -> datetime:
    return datetime.now(UTC)


def _existing(session: Session, user_id: int, tenant: str | None) -> UserRow:
    user = repository.get(session, user_id, owner=tenant)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def _check_expected(user: UserRow, expected: Versions | None) -> None:
    if expected is not None and not expected.allow(user.version):
        raise PreconditionFailed(
            "The user changed since you read it; fetch it again and retry.", version=user.version
        )


def _email_taken() -> Conflict:
    # Unique per owner: another client's users never make this fire.
    # Not quoted back: the caller knows what it sent, and an answer echoes no input.
    return Conflict("You already have a user with this email.")


def create_user(
    *, session: Session, owner: str, name: str, email: str | None, age: int | None
) -> UserRow:
    """Store a new user of ``owner``; 409 if ``owner`` already has a user with this email."""
    try:
        return repository.add(
            session, owner=owner, name=name, email=_lowered(email), age=age, now=_now()
        )
    except Duplicate:
        raise _email_taken() from None


def get_user(*, session: Session, tenant: str | None, user_id: int) -> UserRow:
    """The user, or 404."""
    return _existing(session, user_id, tenant)


def list_users(
    *,
    session: Session,
    codec: CursorCodec,
    tenant: str | None,
    name_contains: str | None = None,
    email: str | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[UserRow]:
    """One page of ``tenant``'s users (everyone's for None), filtered, in ``sort`` order
    (``-`` first: descending), then by id."""
    filters = UserFilters(
        owner=tenant, name_contains=name_contains, email=email, min_age=min_age, max_age=max_age
    )
    column = sort.removeprefix("-")
    return paginate(
        codec=codec,
        keyset=_BY[column],
        cursor=cursor,
        query={"filters": asdict(filters), "sort": sort},
        limit=limit,
        fetch=lambda after, n: repository.page(
            session,
            filters=filters,
            sort=column,
            descending=sort.startswith("-"),
            after=after,
            limit=n,
        ),
    )


_BY: dict[str, Keyset[UserRow]] = {
    "created_at": Keyset((as_time, as_int), lambda row: [row.created_at.isoformat(), row.id]),
    "name": Keyset((as_str, as_int), lambda row: [row.name, row.id]),
}


def replace_user(
    *,
    session: Session,
    tenant: str | None,
    user_id: int,
    expected: Versions | None,
    name: str,
    email: str | None,
    age: int | None,
) -> UserRow:
    """Replace every writable field; 404, 409 on a taken email, 412 on a version not expected."""
    values = {"name": name, "email": _lowered(email), "age": age}
    return _change(session, tenant, user_id, expected, values)


def update_user(
    *,
    session: Session,
    tenant: str | None,
    user_id: int,
    expected: Versions | None,
    patch: dict[str, Any],
) -> UserRow:
    """Apply a JSON merge patch (the schema allows only name, email, age; email and age
    may be null)."""
    values = dict(patch)
    if "email" in values:
        values["email"] = _lowered(values["email"])
    return _change(session, tenant, user_id, expected, values)


def _change(
    session: Session,
    tenant: str | None,
    user_id: int,
    expected: Versions | None,
    values: dict[str, Any],
) -> UserRow:
    # Optimistic concurrency: the UPDATE only applies to the version we checked, so two
    # writers can never both win. A lost race is re-read and re-checked: with a stale
    # precondition that is a 412, without one the change is simply retried.
    for _ in range(MAX_PATCH_ATTEMPTS):
        user = _existing(session, user_id, tenant)
        _check_expected(user, expected)
        if not values:
            return user
        try:
            updated = repository.update_if_version(
                session, user_id=user_id, version=user.version, values=values, now=_now()
            )
        except Duplicate:
            raise _email_taken() from None
        if updated is not None:
            return updated
    raise PreconditionFailed(
        "The user keeps changing; retry.", version=_existing(session, user_id, tenant).version
    )


def delete_user(
    *, session: Session, tenant: str | None, user_id: int, expected: Versions | None
) -> None:
    """Delete; 404 if absent, 412 on a version not expected."""
    user = _existing(session, user_id, tenant)
    _check_expected(user, expected)
    deleted = repository.delete_if_version(
        session, user_id=user_id, version=user.version if expected is not None else None
    )
    if not deleted:
        current = repository.get(session, user_id, owner=tenant)
        if current is None:
            raise NotFound(f"There is no user {user_id}.")
        raise PreconditionFailed("The user changed since you read it.", version=current.version)


class Users:
    """The users service as the handlers see it: each call is one unit of work, a
    transaction for a change, a plain read otherwise. Built by the composition root."""

    def __init__(self, db: Database, codec: CursorCodec) -> None:
        self._db = db
        self._codec = codec

    @staticmethod
    def creating(*, owner: str, name: str, email: str | None, age: int | None) -> Step[UserRow]:
        """Creating a user as a step of a larger transaction (an idempotent write's)."""
        return functools.partial(create_user, owner=owner, name=name, email=email, age=age)

    async def get(self, *, tenant: str | None, user_id: int) -> UserRow:
        return await self._db.read(get_user, tenant=tenant, user_id=user_id)

    async def list(
        self,
        *,
        tenant: str | None,
        name_contains: str | None,
        email: str | None,
        min_age: int | None,
        max_age: int | None,
        sort: str,
        limit: int,
        cursor: str | None,
    ) -> Page[UserRow]:
        return await self._db.read(
            list_users,
            codec=self._codec,
            tenant=tenant,
            name_contains=name_contains,
            email=email,
            min_age=min_age,
            max_age=max_age,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )

    async def replace(
        self,
        *,
        tenant: str | None,
        user_id: int,
        expected: Versions | None,
        name: str,
        email: str | None,
        age: int | None,
    ) -> UserRow:
        return await self._db.write(
            replace_user,
            tenant=tenant,
            user_id=user_id,
            expected=expected,
            name=name,
            email=email,
            age=age,
        )

    async def update(
        self, *, tenant: str | None, user_id: int, expected: Versions | None, patch: dict[str, Any]
    ) -> UserRow:
        return await self._db.write(
            update_user, tenant=tenant, user_id=user_id, expected=expected, patch=patch
        )

    async def delete(self, *, tenant: str | None, user_id: int, expected: Versions | None) -> None:
        await self._db.write(delete_user, tenant=tenant, user_id=user_id, expected=expected)
