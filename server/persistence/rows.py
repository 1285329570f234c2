"""How a repository turns SQLAlchemy Core's rows (named tuples) into its typed rows: one
frozen dataclass per table, defined in the repository that hands it out (``UserRow`` in
``persistence/users.py``), so that mypy checks every field name from the database to the
answer. ``tests/unit/test_rows.py`` finds each by its ``TABLE`` and holds it to that
table's columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Row

T = TypeVar("T")


def one(kind: type[T], row: Row[Any]) -> T:
    return kind(**row._mapping)


def maybe(kind: type[T], row: Row[Any] | None) -> T | None:
    return None if row is None else kind(**row._mapping)


def each(kind: type[T], rows: Iterable[Row[Any]]) -> list[T]:
    return [kind(**row._mapping) for row in rows]
