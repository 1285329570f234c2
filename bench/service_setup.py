"""Prepare the service's benchmark database: migrations, the API client the load runs as and,
for the fan-out benchmark, the destinations in ``BENCH_DESTINATIONS`` (``name=url,...``).

A database kept between runs (PostgreSQL, ``python -m bench.deliveries --database-url``)
already holds them: the client is kept, and a destination of that name is pointed at this
run's URL.

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
from server.contract import ADMIN
from server.downstream.hosts import HostAllowList
from server.persistence import clients
from server.persistence import destinations as destinations_repository
from server.persistence.database import Database
from server.services import destinations
from server.services.clients import SCOPES, hash_secret

SCOPE = " ".join(s for s in SCOPES if s != ADMIN)


def _add_client(*, session: Session) -> None:
    if clients.get(session, CLIENT_ID) is not None:
        return
    clients.add(
        session,
        client_id=CLIENT_ID,
        name="bench",
        scopes=SCOPE,
        secret_hash=hash_secret(API_KEY),
        now=datetime.now(UTC),
    )


def _add_destinations(*, session: Session, spec: str) -> None:
    for entry in filter(None, spec.split(",")):
        name, _, url = entry.partition("=")
        if destinations_repository.get(session, name) is not None:
            destinations.update_destination(
                session=session, allowed_hosts=HostAllowList([]), name=name, patch={"url": url}
            )
            continue
        destinations.create_destination(
            session=session, allowed_hosts=HostAllowList([]), name=name, url=url
        )


async def seed(url: str) -> None:
    """The benchmark's API client, and the destinations of ``BENCH_DESTINATIONS``."""
    db = Database(url)
    try:
        await db.write(_add_client)
        await db.write(_add_destinations, spec=os.environ.get("BENCH_DESTINATIONS", ""))
    finally:
        await db.dispose()


def main() -> None:
    url = os.environ["APP_DATABASE_URL"]
    migrate.upgrade(url)
    asyncio.run(seed(url))


if __name__ == "__main__":
    main()
