"""API clients: who may call the API, with which scopes, and how their secrets are kept.

A client's secret is ``<client_id>.<random>``: 256 random bits, shown once at creation.
Only its SHA-256 is stored. A slow password hash would add nothing for a random token of
that size, and would cost every cache miss dearly; the embedded client id lets a key be
looked up by primary key and then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from server import contract
from server.contract import ADMIN
from server.errors import Conflict, NotFound, ValidationFailed
from server.persistence import clients as repository

# Re-exported (``as``): the rows this service hands out, named by its callers.
from server.persistence.clients import ClientRow as ClientRow
from server.persistence.database import Database
from server.services.pagination import CursorCodec, Keyset, Page, as_str, as_time, paginate

# Every scope an operation can require, as the spec's OAuth2 scheme lists them.
SCOPES = contract.scopes()
CLIENT_ID_PREFIX = "c_"
_CLIENT_ID = re.compile(r"c_[A-Za-z0-9_-]{1,38}")


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(8)


def new_secret(client_id: str) -> str:
    return f"{client_id}.{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def client_id_of(secret: str) -> str | None:
    """The client id a secret names, or None if it is not shaped like one of ours."""
    client_id, dot, rest = secret.partition(".")
    if not dot or not rest or not _CLIENT_ID.fullmatch(client_id):
        return None  # not one of ours: no query is made for it (NUL and all)
    return client_id


def effective_scopes(scopes: frozenset[str]) -> frozenset[str]:
    """What a client may do or ask a token for: ``admin`` implies every scope."""
    return frozenset(SCOPES) if ADMIN in scopes else scopes


def normalize_scopes(scopes: Iterable[str]) -> str:
    """Known scopes, deduplicated, in a stable order, space-separated (RFC 6749 §3.3)."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationFailed(
            [{"field": "scopes", "message": f"unknown scope {name[:40]!r}"} for name in unknown]
        )
    return " ".join(scope for scope in SCOPES if scope in wanted)


def create_client(*, session: Session, name: str, scopes: Iterable[str]) -> tuple[ClientRow, str]:
    """Register a client; returns the stored row and its secret (the only time it exists)."""
    client_id = new_client_id()
    secret = new_secret(client_id)
    row = repository.add(
        session,
        client_id=client_id,
        name=name,
        scopes=normalize_scopes(scopes),
        secret_hash=hash_secret(secret),
        now=datetime.now(UTC),
    )
    return row, secret


def find_client(*, session: Session, client_id: str) -> ClientRow | None:
    """The client, revoked or not, or None."""
    return repository.get(session, client_id)


def get_client(*, session: Session, client_id: str) -> ClientRow:
    """The client, or 404."""
    row = repository.get(session, client_id)
    if row is None:
        raise NotFound(f"There is no client {client_id[:40]!r}.")
    return row


def revoke_client(*, session: Session, client_id: str, caller: str | None = None) -> ClientRow:
    """Revoke the client's secret and every token issued to it; 404 if unknown, 409 if it
    is the ``caller`` itself (an admin would lock itself out mid-request; the management
    command, which has no caller, may revoke any client)."""
    if client_id == caller:
        raise Conflict(
            "A client cannot revoke itself; revoke it with another admin client, or with "
            "`python -m server clients revoke`."
        )
    row = repository.revoke(session, client_id=client_id, now=datetime.now(UTC))
    if row is None:
        raise NotFound(f"There is no client {client_id[:40]!r}.")
    return row


def all_clients(*, session: Session) -> list[ClientRow]:
    """Every client, oldest first (for the management command)."""
    rows: list[ClientRow] = []
    after = None
    while page := repository.page(session, after=after, limit=500):
        rows += page
        after = (page[-1].created_at, page[-1].client_id)
    return rows


def list_clients(
    *, session: Session, codec: CursorCodec, limit: int, cursor: str | None
) -> Page[ClientRow]:
    """One page of clients, oldest first."""
    return paginate(
        codec=codec,
        keyset=_BY_AGE,
        cursor=cursor,
        query={},
        limit=limit,
        fetch=lambda after, n: repository.page(session, after=after, limit=n),
    )


_BY_AGE: Keyset[ClientRow] = Keyset(
    (as_time, as_str), lambda row: [row.created_at.isoformat(), row.client_id]
)


class Clients:
    """The API clients service as the handlers see it (built by the composition root).

    ``forget`` is told of every revocation, so that whoever caches credentials (the
    authenticator) drops the client at once."""

    def __init__(self, db: Database, codec: CursorCodec, *, forget: Callable[[str], None]) -> None:
        self._db = db
        self._codec = codec
        self._forget = forget

    async def list(self, *, limit: int, cursor: str | None) -> Page[ClientRow]:
        return await self._db.read(list_clients, codec=self._codec, limit=limit, cursor=cursor)

    async def create(self, *, name: str, scopes: Iterable[str]) -> tuple[ClientRow, str]:
        return await self._db.write(create_client, name=name, scopes=scopes)

    async def get(self, *, client_id: str) -> ClientRow:
        return await self._db.read(get_client, client_id=client_id)

    async def find(self, client_id: str) -> ClientRow | None:
        """The client, revoked or not, or None (for the authenticator)."""
        return await self._db.read(find_client, client_id=client_id)

    async def revoke(self, *, client_id: str, caller: str | None) -> ClientRow:
        row = await self._db.write(revoke_client, client_id=client_id, caller=caller)
        self._forget(client_id)  # at once here; other instances within their cache bound
        return row
