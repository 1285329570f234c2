"""Keyset pagination, one way for every list: opaque, signed cursors and ``paginate``.

A cursor carries the keyset to continue after and a fingerprint of the filters and sort it
was issued for; it is signed (itsdangerous) so that a client cannot forge or alter one.
A list says how it is ordered with a ``Keyset`` (what a cursor's position holds, and a
row's position) and how to fetch rows after a position; ``paginate`` does the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from itsdangerous import BadData, URLSafeSerializer

from server.errors import InvalidCursor


class CursorCodec:
    def __init__(self, secret: str, *, purpose: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=f"cursor:{purpose}")

    @staticmethod
    def fingerprint(query: dict[str, Any]) -> str:
        return hashlib.sha256(orjson.dumps(query, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    def encode(self, position: list[Any], *, query: dict[str, Any]) -> str:
        return self._serializer.dumps({"p": position, "q": self.fingerprint(query)})

    def decode(self, cursor: str, *, query: dict[str, Any]) -> list[Any]:
        """The position in ``cursor``; 400 if it was altered or issued for another query."""
        try:
            payload = self._serializer.loads(cursor)
        except BadData:
            raise InvalidCursor("The cursor is not one this service issued.") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("p"), list):
            raise InvalidCursor("The cursor is not one this service issued.")
        if payload.get("q") != self.fingerprint(query):
            raise InvalidCursor(
                "The cursor belongs to other filters or another sort; start without a cursor."
            )
        return payload["p"]


class Cursors:
    """One codec per list (its purpose), all signed with the app's secret; the composition
    root makes it and hands each service its list's codec (``cursors("users")``)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._codecs: dict[str, CursorCodec] = {}

    def __call__(self, purpose: str) -> CursorCodec:
        codec = self._codecs.get(purpose)
        if codec is None:
            codec = self._codecs[purpose] = CursorCodec(self._secret, purpose=purpose)
        return codec


T = TypeVar("T")
_NOT_OURS = "The cursor is not one this service issued."


def as_int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(value)
    return value


def as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


def as_time(value: Any) -> datetime:
    return datetime.fromisoformat(as_str(value))


@dataclass(frozen=True)
class Keyset(Generic[T]):
    """A list's order as its cursors record it: how to read each value of a position (a
    value that does not read is a cursor not ours: 400), and a row's position."""

    parse: tuple[Callable[[Any], Any], ...]
    position: Callable[[T], list[Any]]

    def after(self, position: list[Any]) -> tuple[Any, ...]:
        if len(position) != len(self.parse):
            raise InvalidCursor(_NOT_OURS)
        try:
            return tuple(read(value) for read, value in zip(self.parse, position, strict=True))
        except (TypeError, ValueError):
            raise InvalidCursor(_NOT_OURS) from None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None


def paginate(
    *,
    codec: CursorCodec,
    keyset: Keyset[T],
    cursor: str | None,
    query: dict[str, Any],
    limit: int,
    fetch: Callable[[tuple[Any, ...] | None, int], Sequence[T]],
) -> Page[T]:
    """``fetch(after, n)``: up to ``n`` rows after the position (from the start: None)."""
    after = keyset.after(codec.decode(cursor, query=query)) if cursor is not None else None
    rows = list(fetch(after, limit + 1))  # one more than asked: is there a next page?
    if len(rows) <= limit:
        return Page(rows, None)
    del rows[limit:]
    return Page(rows, codec.encode(keyset.position(rows[-1]), query=query))
