"""The API clients every test database starts with, and their headers.

Secrets are fixed (and shaped like real ones) so that any test, process or fuzz run can
use them; ``seed`` stores only their hashes, as the service does.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from server.contract import ADMIN
from server.downstream.hosts import HostAllowList
from server.persistence import clients as repository
from server.persistence.database import Database
from server.services import destinations
from server.services.clients import SCOPES, hash_secret

# Every scope but admin.
EVERYDAY_SCOPES = " ".join(scope for scope in SCOPES if scope != ADMIN)


@dataclass(frozen=True)
class Identity:
    client_id: str
    name: str
    scopes: str

    @property
    def secret(self) -> str:
        return f"{self.client_id}.test-secret-of-{self.name}-0123456789abcdef"

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}


ALICE = Identity("c_a11ce0000000000a", "alice", EVERYDAY_SCOPES)
BOB = Identity("c_b0b000000000000b", "bob", EVERYDAY_SCOPES)
READER = Identity("c_eade700000000000", "reader", "records:read users:read")
ADMIN = Identity("c_ad000000000000ad", "admin", "admin")
ALL = (ALICE, BOB, READER, ADMIN)


def _add_all(*, session: Session) -> None:
    now = datetime.now(UTC)
    for identity in ALL:
        repository.add(
            session,
            client_id=identity.client_id,
            name=identity.name,
            scopes=identity.scopes,
            secret_hash=hash_secret(identity.secret),
            now=now,
        )


def write_database(database_url: str, work: Callable[..., object], **kwargs: object) -> None:
    async def run() -> None:
        db = Database(database_url)
        try:
            await db.write(work, **kwargs)
        finally:
            await db.dispose()

    asyncio.run(run())


def seed(database_url: str) -> None:
    """Store the test clients in a migrated database."""
    write_database(database_url, _add_all)


def seed_destination(database_url: str, name: str, url: str) -> None:
    """Store one enabled destination with default settings."""
    write_database(
        database_url,
        destinations.create_destination,
        allowed_hosts=HostAllowList([]),
        name=name,
        url=url,
    )


def write_schemathesis_auth(path: Path, user: Identity, peer: Identity) -> dict[str, object]:
    """Schemathesis' auth file (``[auth.wfc]``): requests go as ``user``, and its
    object-level authorization check replays them as ``peer``. Returns the config table."""
    entries = [
        {"name": i.name, "fixedHeaders": [{"name": "X-API-Key", "value": i.secret}]}
        for i in (user, peer)
    ]
    path.write_text(json.dumps({"auth": entries}))
    return {"path": str(path), "user": user.name, "peers": [user.name, peer.name]}


if __name__ == "__main__":  # scripts/fuzz.sh: seed a database, write who calls
    database_url, folder = sys.argv[1], Path(sys.argv[2])
    seed(database_url)
    wfc = write_schemathesis_auth(folder / "auth.json", ALICE, BOB)
    peers = ", ".join(f'"{name}"' for name in wfc["peers"])  # type: ignore[attr-defined]
    (folder / "wfc.toml").write_text(
        f'\n[auth.wfc]\npath = "{wfc["path"]}"\nuser = "{wfc["user"]}"\npeers = [{peers}]\n'
    )
    for name, identity in (("alice", ALICE), ("admin", ADMIN)):
        (folder / f"{name}.env").write_text(
            f"export CONTRACT_API_KEY={identity.secret} CONTRACT_CLIENT_ID={identity.client_id}\n"
        )
