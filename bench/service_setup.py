"""Prepare the service's benchmark database: migrations, then the API client the load runs as.

Authentication and rate limiting stay in the measured path: every workload sends
``X-API-Key`` (the peers ignore it), and the service counts every request against a
limit too high to be reached.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bench.credentials import API_KEY, CLIENT_ID
from server import migrate
from server.persistence import clients
from server.persistence.database import Database
from server.services.clients import SCOPES, hash_secret

SCOPE = " ".join(s for s in SCOPES if s != "admin")


def _add_client(*, session: Session) -> None:
    clients.add(
        session,
        client_id=CLIENT_ID,
        name="bench",
        scopes=SCOPE,
        secret_hash=hash_secret(API_KEY),
        now=datetime.now(UTC),
    )


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        await db.write(_add_client)
    finally:
        await db.dispose()


def main() -> None:
    url = os.environ["APP_DATABASE_URL"]
    migrate.upgrade(url)
    asyncio.run(_seed(url))


if __name__ == "__main__":
    main()
