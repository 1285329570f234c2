"""Engines and units of work: SQLite (WAL) by default, PostgreSQL through asyncpg.

Services and repositories are plain synchronous SQLAlchemy code taking a ``Session``; each
service's class runs them with ``await db.write(fn, ...)`` (one transaction) or ``await
db.read(fn, ...)``. How that code reaches the database depends on the backend:

* PostgreSQL: ``AsyncSession.run_sync`` runs it on the event loop, each statement awaiting
  asyncpg (SQLAlchemy's greenlet bridge), so nothing blocks and no thread is involved.
* SQLite: the whole unit of work runs on a thread of its own with the standard ``sqlite3``
  driver: one thread hop per request instead of the several per statement an async
  adapter costs (about 0.2 ms each on these machines). Writes go through a single writer
  thread, which is also how SQLite wants them: one writer at a time, no busy-waiting.

Every way of failing to reach the database (refused connection, timeout, locked or
missing file, pool exhausted, a server shutting down, starting up or closed to
connections) surfaces as ``DatabaseUnavailable``, which the API answers
with 503 and ``Retry-After``; nothing else in the service handles driver errors.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from server.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
UnitOfWork = Callable[..., T]

_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, OSError, asyncio.TimeoutError)
# asyncpg's server errors all reach SQLAlchemy as a plain DBAPIError; these SQLSTATEs say
# the server cannot serve a connection now, not that the SQL is wrong: 57P01/57P02 (shut
# down by an admin, or after a crash), 57P03 (starting up or shutting down), 53300 (too
# many connections). Class 08 (connection exception) counts whole.
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# 55000 (object not in prerequisite state) counts only when no statement ran, that is
# when connecting: "database is not currently accepting connections" (ALLOW_CONNECTIONS
# false). In a statement it is a bug of that statement.
_UNREACHABLE_ON_CONNECT = frozenset({"55000"})
SQLITE_READERS = 4


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached now (a retry may succeed)."""
    if isinstance(exc, _UNREACHABLE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if not isinstance(sqlstate, str):
        return False
    if sqlstate.startswith("08") or sqlstate in _UNREACHABLE_STATES:
        return True
    return exc.statement is None and sqlstate in _UNREACHABLE_ON_CONNECT


def normalize_url(url: str) -> str:
    """Accept the usual spellings: ``postgresql://`` -> asyncpg, any ``sqlite`` -> sqlite3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+pysqlite"}.get(
        backend, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_engine(url: str, *, timeout: float, synchronous: str, pool_size: int) -> Engine:
    engine = create_engine(
        normalize_url(url),
        connect_args={"timeout": timeout, "check_same_thread": False},
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=timeout,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def postgres_engine(url: str, *, pool_size: int, timeout: float) -> AsyncEngine:
    return create_async_engine(
        normalize_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout,
        connect_args={"timeout": timeout, "command_timeout": timeout * 2},
    )


class Database:
    """The process's engine, and the two ways to run a unit of work on it."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        timeout: float = 5.0,
        sqlite_synchronous: str = "NORMAL",
        retry_after: int = 5,
    ) -> None:
        self.url = normalize_url(url)
        self.retry_after = retry_after
        self.sqlite = is_sqlite(self.url)
        if self.sqlite:
            self.sync_engine = sqlite_engine(
                self.url,
                timeout=timeout,
                synchronous=sqlite_synchronous,
                pool_size=SQLITE_READERS + 1,
            )
            self._local = threading.local()
            self._held: list[Connection] = []
            self._executors: dict[str, ThreadPoolExecutor] = {}
        else:
            self.async_engine = postgres_engine(self.url, pool_size=pool_size, timeout=timeout)
            self._sessions = async_sessionmaker(self.async_engine, expire_on_commit=False)
            # Reads run in autocommit: no BEGIN/ROLLBACK round trips, so a read is one query.
            self._read_sessions = async_sessionmaker(
                self.async_engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )

    async def write(self, work: UnitOfWork[T], /, **kwargs: Any) -> T:
        """``work(session=..., **kwargs)`` in one transaction, committed if it returns."""
        try:
            if self.sqlite:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    self._executor("sqlite-writer", 1),
                    partial(self._sqlite_transaction, work, kwargs),
                )
            async with self._sessions() as session, session.begin():
                return await session.run_sync(_call, work, kwargs)
        except (*_UNREACHABLE, DBAPIError) as exc:
            if not is_unreachable(exc):
                raise
            raise self._unavailable(exc) from exc

    async def read(self, work: UnitOfWork[T], /, **kwargs: Any) -> T:
        """``work(session=..., **kwargs)`` for reads only, outside an explicit transaction."""
        try:
            if self.sqlite:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    self._executor("sqlite-reader", SQLITE_READERS),
                    partial(self._sqlite_read, work, kwargs),
                )
            async with self._read_sessions() as session:
                return await session.run_sync(_call, work, kwargs)
        except (*_UNREACHABLE, DBAPIError) as exc:
            if not is_unreachable(exc):
                raise
            raise self._unavailable(exc) from exc

    def _executor(self, name: str, threads: int) -> ThreadPoolExecutor:
        # Made on first use (and again after dispose), so an app can be started twice.
        executor = self._executors.get(name)
        if executor is None:
            executor = self._executors[name] = ThreadPoolExecutor(threads, thread_name_prefix=name)
        return executor

    def _thread_connection(self) -> Connection:
        # Each SQLite thread keeps one connection for its life: no pool checkout and reset
        # per request (that alone cost more than the query).
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = self._local.connection = self.sync_engine.connect()
            self._held.append(connection)
        return connection

    def _sqlite_transaction(self, work: UnitOfWork[T], kwargs: dict[str, Any]) -> T:
        connection = self._thread_connection()
        try:
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                return work(session=session, **kwargs)
        except BaseException:
            if connection.in_transaction():
                connection.rollback()
            raise

    def _sqlite_read(self, work: UnitOfWork[T], kwargs: dict[str, Any]) -> T:
        connection = self._thread_connection()
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                return work(session=session, **kwargs)
        finally:
            if connection.in_transaction():
                connection.rollback()  # end the read snapshot, so WAL can be checkpointed

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        logger.warning("database unreachable: %s", type(exc).__name__)
        return DatabaseUnavailable(retry_after=self.retry_after)

    async def dispose(self) -> None:
        if self.sqlite:
            executors, self._executors = self._executors, {}
            for executor in executors.values():
                executor.shutdown(wait=True)
            held, self._held = self._held, []
            for connection in held:
                connection.close()
            self._local = threading.local()
            self.sync_engine.dispose()
        else:
            await self.async_engine.dispose()


def _call(session: Session, work: UnitOfWork[T], kwargs: dict[str, Any]) -> T:
    return work(session=session, **kwargs)
