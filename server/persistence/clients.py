"""SQL for the ``api_clients`` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.persistence.keyset import page_of
from server.persistence.models import ApiClient
from server.persistence.rows import each, maybe, one


@dataclass(frozen=True, slots=True)
class ClientRow:
    TABLE: ClassVar[str] = "api_clients"

    client_id: str
    name: str
    scopes: str  # space-separated, as in OAuth2
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


clients = cast(Table, ApiClient.__table__)
_BY_ID = select(clients).where(clients.c.client_id == bindparam("client_id"))
_INSERT = insert(clients).returning(*clients.c)


def add(
    session: Session, *, client_id: str, name: str, scopes: str, secret_hash: str, now: datetime
) -> ClientRow:
    values = {
        "client_id": client_id,
        "name": name,
        "scopes": scopes,
        "secret_hash": secret_hash,
        "created_at": now,
        "revoked_at": None,
    }
    return one(ClientRow, session.execute(_INSERT, values).one())


def get(session: Session, client_id: str) -> ClientRow | None:
    return maybe(ClientRow, session.execute(_BY_ID, {"client_id": client_id}).one_or_none())


def page(session: Session, *, after: tuple[datetime, str] | None, limit: int) -> list[ClientRow]:
    """Oldest first, by (created_at, client_id), starting after the keyset ``after``."""
    query = page_of(
        select(clients), (clients.c.created_at, clients.c.client_id), after, limit=limit
    )
    return each(ClientRow, session.execute(query).all())


def revoke(session: Session, *, client_id: str, now: datetime) -> ClientRow | None:
    """Mark the client revoked (once: a second revocation keeps the first time)."""
    session.execute(
        update(clients)
        .where(clients.c.client_id == client_id, clients.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return get(session, client_id)
