"""Opaque, signed pagination cursors.

A cursor carries the keyset to continue after and a fingerprint of the filters and sort it
was issued for; it is signed (itsdangerous) so that a client cannot forge or alter one.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

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


@lru_cache(maxsize=32)
def cursor_codec(secret: str, purpose: str) -> CursorCodec:
    """The codec for ``purpose``, made once per secret rather than once per request."""
    return CursorCodec(secret, purpose=purpose)
