"""Engine and sessions: SQLite (WAL) by default, PostgreSQL through asyncpg when configured.

Every way of failing to reach the database (refused connection, timeout, locked or missing
file, pool exhausted) leaves ``transaction()`` as ``DatabaseUnavailable``, which the API
answers with 503 and ``Retry-After``; nothing else in the service handles driver errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from server.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, OSError, asyncio.TimeoutError)


def async_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver: ``postgresql://`` -> asyncpg."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}.get(
        parsed.drivername, parsed.drivername
    )
    if driver == "sqlite":
        driver = "sqlite+aiosqlite"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str, *, pool_size: int, timeout: float, sqlite_synchronous: str
) -> AsyncEngine:
    url = async_url(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": timeout})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        pool_pre_ping=False,
        connect_args={"timeout": timeout, "command_timeout": timeout * 2},
    )


class Database:
    """The one engine of the process and the sessions made from it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        timeout: float = 5.0,
        sqlite_synchronous: str = "NORMAL",
        retry_after: int = 5,
    ) -> None:
        self.url = async_url(url)
        self.retry_after = retry_after
        self.engine = create_engine(
            self.url, pool_size=pool_size, timeout=timeout, sqlite_synchronous=sqlite_synchronous
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing writers here instead of letting them
        # collide on the file lock avoids its busy-wait sleeps (milliseconds each).
        self._write_slot: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if is_sqlite(self.url) else contextlib.nullcontext()
        )
        # Reads run in autocommit: no BEGIN/ROLLBACK round trips, so a read is one query.
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on success and rolled back on error."""
        try:
            async with self._write_slot, self._sessions() as session, session.begin():
                yield session
        except _UNREACHABLE as exc:
            logger.warning("database unreachable: %s", type(exc).__name__)
            raise DatabaseUnavailable(retry_after=self.retry_after) from exc

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only, outside any explicit transaction."""
        try:
            async with self._read_sessions() as session:
                yield session
        except _UNREACHABLE as exc:
            logger.warning("database unreachable: %s", type(exc).__name__)
            raise DatabaseUnavailable(retry_after=self.retry_after) from exc

    async def dispose(self) -> None:
        await self.engine.dispose()
