"""Keyset pagination in SQL, one way for every list: a page is the rows after a position
in the list's order, that order being its columns (the last one unique), all ascending or
all descending. The cursors that carry a position are ``services/pagination.py``'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, tuple_


def page_of(
    query: Select[Any],
    order: Sequence[ColumnElement[Any]],
    after: Sequence[Any] | None,
    *,
    limit: int,
    descending: bool = False,
) -> Select[Any]:
    """``query``'s rows in ``order``, from the first past the position ``after`` (from the
    start: None), at most ``limit`` of them. The comparison is a row value, ``(a, b) > (x,
    y)``, which both backends answer from an index on the same columns."""
    if after is not None:
        if len(after) != len(order):
            raise ValueError(f"a position of {len(after)} values for {len(order)} columns")
        key = tuple_(*order) if len(order) > 1 else order[0]
        value = tuple_(*after) if len(order) > 1 else after[0]
        query = query.where(key < value if descending else key > value)
    return query.order_by(*(c.desc() if descending else c.asc() for c in order)).limit(limit)
