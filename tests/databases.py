"""Test databases: a migrated SQLite file per test, one PostgreSQL database per session,
and a Redis database (number 15 by default, emptied per test) for shared rate limits.

PostgreSQL and Redis are the real servers on 127.0.0.1 (``TEST_POSTGRES_URL`` and
``TEST_REDIS_URL`` override the addresses). Without one, its cases skip with the reason,
unless ``REQUIRE_SERVICES=1`` (set by ``.ci/run``), which turns its absence into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import NoReturn

import asyncpg
import pytest
import redis

from server import migrate
from server.persistence.models import Base
from tests import identities

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Every table but api_clients, which keeps the seeded identities.
TABLES = ", ".join(sorted(set(Base.metadata.tables) - {"api_clients"}))


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose service or tool is missing, or fail it under REQUIRE_SERVICES=1."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


def missing_service(what: str, error: BaseException) -> NoReturn:
    unavailable(f"{what} is not reachable ({type(error).__name__}: {error})")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_sqlite_template(folder: Path) -> Path:
    template = folder / "template.db"
    migrate.upgrade(sqlite_url(template))
    identities.seed(sqlite_url(template))
    return template


def fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "test.db"
    shutil.copyfile(template, target)
    return sqlite_url(target)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_postgres_database() -> tuple[str, str]:
    """A new, migrated database; returns (url, name)."""
    name = f"contract_api_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        missing_service(f"PostgreSQL at {POSTGRES_ADMIN_URL}", error)
    url = _with_database(POSTGRES_ADMIN_URL, name)
    migrate.upgrade(url)
    identities.seed(url)
    return url, name


def create_closed_postgres_database() -> tuple[str, str]:
    """A new database that refuses every connection (``ALLOW_CONNECTIONS false``, as an
    operator closes one for maintenance); returns (url, name)."""
    name = f"contract_api_closed_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        missing_service(f"PostgreSQL at {POSTGRES_ADMIN_URL}", error)
    asyncio.run(_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    return _with_database(POSTGRES_ADMIN_URL, name), name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def truncate_postgres(url: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(url, timeout=5)
        try:
            await connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
        finally:
            await connection.close()

    asyncio.run(run())


def empty_redis() -> str:
    """The test Redis database, emptied; fails or skips (see above) if Redis is absent."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        missing_service(f"Redis at {REDIS_URL}", error)
    finally:
        client.close()
    return REDIS_URL
