"""Alembic environment: migrates the database the service is configured for."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from server.persistence.database import Database
from server.persistence.migrating import render_item
from server.persistence.models import Base
from server.settings import Settings

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    # A URL set by the caller (tests, server.migrate) wins over the environment.
    return config.attributes.get("database_url") or Settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(db: Database) -> None:
    # The pool is disposed on the loop its connections were made on: from a second
    # asyncio.run() asyncpg could not close them and logged an error for each.
    try:
        async with db.async_engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await db.dispose()


def run_migrations_online() -> None:
    db = Database(database_url())
    if db.sqlite:
        try:
            with db.sync_engine.connect() as connection:
                _run(connection)
                connection.commit()
        finally:
            asyncio.run(db.dispose())
    else:
        asyncio.run(_run_async(db))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
