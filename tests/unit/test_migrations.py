"""Migrations on a database that already holds the data of the revision before (SQLite and
PostgreSQL): 0002 (owners), 0004 (optional e-mail addresses) and 0005 (signing secrets);
the migrations against the models, which must describe the same schema; and the delivery
queue's queries against the partial indexes 0007 made for them."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Index, Integer, String, Table, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import migrate
from server.persistence import dispatches
from server.persistence.database import Database
from server.persistence.models import Base, UTCDateTime
from tests import databases

T = TypeVar("T")


def database_at(backend: str, tmp_path: Any, revision: str | None) -> Iterator[str]:
    """A database of ``backend`` migrated to ``revision`` (None: empty, not migrated)."""
    if backend == "sqlite":
        url = databases.sqlite_url(tmp_path / "old.db")
        if revision is not None:
            migrate.upgrade(url, revision)
        yield url
        return
    name = f"contract_api_migration_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(databases._admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError) as error:
        databases.missing_service("PostgreSQL", error)
    url = databases._with_database(databases.POSTGRES_ADMIN_URL, name)
    if revision is not None:
        migrate.upgrade(url, revision)
    yield url
    databases.drop_postgres_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0001(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_at(request.param, tmp_path, "0001")


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0003(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_at(request.param, tmp_path, "0003")


def run(url: str, statements: list[str]) -> list[list[tuple[object, ...]]]:
    def work(*, session: Session) -> list[list[tuple[object, ...]]]:
        results = []
        for statement in statements:
            result = session.execute(text(statement), {"now": datetime.now(UTC)})
            results.append([tuple(r) for r in result] if result.returns_rows else [])
        return results

    async def go() -> list[list[tuple[object, ...]]]:
        db = Database(url)
        try:
            return await db.write(work)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_0002_keeps_old_rows_and_scopes_emails_per_owner(at_0001: str) -> None:
    run(
        at_0001,
        [
            "INSERT INTO users (name, email, age, version, created_at, updated_at) "
            "VALUES ('Ada', 'ada@example.com', 36, 1, :now, :now)",
            "INSERT INTO users (name, email, age, version, created_at, updated_at) "
            "VALUES ('Last', 'last@example.com', 1, 1, :now, :now)",
            "DELETE FROM users WHERE email = 'last@example.com'",
            "INSERT INTO records (user_id, item_id, quantity, processed_quantity, created_at) "
            "VALUES (1, 2, 3, 6, :now)",
        ],
    )
    migrate.upgrade(at_0001)
    users, records = run(
        at_0001,
        ["SELECT id, name, email, owner FROM users", "SELECT id, owner FROM records"],
    )
    assert users == [(1, "Ada", "ada@example.com", None)]  # owner-less: admins only
    assert records == [(1, None)]
    # The id of the user deleted before the migration is not handed out again.
    (new_id,) = run(
        at_0001,
        [
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('New', 'ada@example.com', 1, 1, :now, :now, 'c_a') RETURNING id",
        ],
    )[0][0]
    assert new_id == 3
    with pytest.raises(IntegrityError):
        run(
            at_0001,
            [
                "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
                "VALUES ('Dup', 'ada@example.com', 1, 1, :now, :now, 'c_a')",
            ],
        )


def test_0002_downgrades_cleanly(at_0001: str) -> None:
    migrate.upgrade(at_0001)
    migrate.downgrade(at_0001, "0001")
    migrate.upgrade(at_0001)


def test_0004_keeps_rows_ids_and_uniqueness_and_allows_no_address(at_0003: str) -> None:
    run(
        at_0003,
        [
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('Ada', 'ada@example.com', 36, 1, :now, :now, 'c_a')",
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('Last', 'last@example.com', 1, 1, :now, :now, 'c_a')",
            "DELETE FROM users WHERE name = 'Last'",
        ],
    )
    migrate.upgrade(at_0003)
    (users,) = run(at_0003, ["SELECT id, name, email FROM users"])
    assert users == [(1, "Ada", "ada@example.com")]
    run(
        at_0003,
        [
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('Ali', NULL, 25, 1, :now, :now, 'c_a')",
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('Ben', NULL, 26, 1, :now, :now, 'c_a')",
        ],
    )
    (ids,) = run(at_0003, ["SELECT id FROM users WHERE email IS NULL ORDER BY id"])
    assert ids == [(3,), (4,)]  # the deleted user's id 2 is not handed out again
    with pytest.raises(IntegrityError):
        run(
            at_0003,
            [
                "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
                "VALUES ('Dup', 'ada@example.com', 1, 1, :now, :now, 'c_a')",
            ],
        )


def test_0004_downgrades_only_when_every_user_has_an_address(at_0003: str) -> None:
    migrate.upgrade(at_0003)
    run(
        at_0003,
        [
            "INSERT INTO users (name, email, age, version, created_at, updated_at, owner) "
            "VALUES ('Ali', NULL, 25, 1, :now, :now, 'c_a')",
        ],
    )
    with pytest.raises(RuntimeError, match="no e-mail address"):
        migrate.downgrade(at_0003, "0003")
    run(at_0003, ["UPDATE users SET email = 'ali@example.com'"])
    migrate.downgrade(at_0003, "0003")
    migrate.upgrade(at_0003)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0004(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_at(request.param, tmp_path, "0004")


def test_0005_gives_every_existing_destination_a_secret_of_its_own(at_0004: str) -> None:
    columns = (
        "url, timeout_seconds, max_attempts, initial_backoff_seconds, max_backoff_seconds, "
        "failure_threshold, cooldown_seconds, enabled, created_at, updated_at"
    )
    values = "'http://127.0.0.1:9/', 5, 3, 0.1, 2, 5, 30, true, :now, :now"
    run(
        at_0004,
        [
            f"INSERT INTO destinations (name, {columns}) VALUES ('{name}', {values})"
            for name in ("audit", "billing")
        ],
    )
    migrate.upgrade(at_0004)
    (rows,) = run(
        at_0004,
        [
            "SELECT name, url, signing_secret, signing_secret_created_at, "
            "previous_signing_secret FROM destinations ORDER BY name"
        ],
    )
    assert [(row[0], row[1]) for row in rows] == [
        ("audit", "http://127.0.0.1:9/"),
        ("billing", "http://127.0.0.1:9/"),
    ]
    secrets = [row[2] for row in rows]
    assert all(re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret) for secret in secrets)
    assert len(set(secrets)) == 2
    assert all(row[3] is not None and row[4] is None for row in rows)
    migrate.downgrade(at_0004, "0004")
    migrate.upgrade(at_0004)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_head(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_at(request.param, tmp_path, "head")


def differences(connection: Connection) -> list[Any]:
    """What Alembic's autogenerate would add or change to make the database the models."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, Base.metadata))


def on_connection(url: str, work: Callable[[Connection], T]) -> T:
    """``work`` on one connection to ``url`` (SQLite's driver or asyncpg's), committed."""

    async def go() -> T:
        db = Database(url)
        try:
            if db.sqlite:
                with db.sync_engine.connect() as connection:
                    result = work(connection)
                    connection.commit()
                    return result
            async with db.async_engine.connect() as connection:
                result = await connection.run_sync(work)
                await connection.commit()
                return result
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_the_migrations_build_exactly_what_the_models_describe(at_head: str) -> None:
    """Alembic's autogenerate finds nothing to add: no table, column, type, nullability,
    index or constraint differs between ``models.py`` and the migrated database."""
    assert on_connection(at_head, differences) == []


def test_an_autogenerated_migration_runs_as_it_is_written(at_head: str, tmp_path: Path) -> None:
    """The README's step for a new table, as a newcomer takes it: a table added to the
    models, ``alembic revision --autogenerate`` against a database at head, then the
    revision it wrote, run as written. It imports nothing of ours (our column types are
    written as the SQLAlchemy types they store), is formatted as the code is (the
    post-write hooks of ``alembic.ini``), and builds exactly what the models describe."""
    scratch = Table(
        "scratch_notes",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("text", String(500), nullable=False),
        Column("owner", String(40), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Index("ix_scratch_notes_owner_id", "owner", "id"),
    )
    try:
        versions = tmp_path / "versions"
        versions.mkdir()
        config = migrate._config(at_head)
        shipped = Path(migrate.ROOT, "migrations", "versions")
        config.set_main_option("version_locations", os.pathsep.join([str(shipped), str(versions)]))
        command.revision(
            config, "scratch notes", autogenerate=True, rev_id="9999", version_path=str(versions)
        )
        (written,) = versions.glob("*.py")
        text = written.read_text(encoding="utf-8")
        assert "server." not in text and "sa.DateTime(timezone=True)" in text, text
        # Alembic ignores what its hooks exit with: the file is judged here, from the
        # repository's settings, as `make lint` judges the code.
        settings = str(migrate.ROOT / "pyproject.toml")
        for judge in (["check"], ["format", "--check"]):
            judged = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ruff",
                    *judge,
                    "--quiet",
                    "--config",
                    settings,
                    str(written),
                ],
                check=False,
            )
            assert judged.returncode == 0, (judge, text)
        command.upgrade(config, "heads")
        assert on_connection(at_head, differences) == []
    finally:
        Base.metadata.remove(scratch)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0006(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_at(request.param, tmp_path, "0006")


def _queue_indexes(url: str) -> dict[str, str]:
    """The ``deliveries`` table's indexes as the database defines them (name -> SQL)."""
    if url.startswith("sqlite"):
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'"
        )
    else:
        query = (
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid "
            "THEN '' ELSE ' INVALID' END FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'deliveries'::regclass"
        )
    (rows,) = run(url, [query])
    return {str(name): str(sql) for name, sql in rows if sql is not None}


def test_0007_makes_the_queue_indexes_partial_and_keeps_every_delivery(at_0006: str) -> None:
    """Up: the three queue indexes are partial, on the predicate the queries say (Alembic's
    comparison does not look at a WHERE), valid, and every row is kept; down: the indexes
    of 0006 again. On PostgreSQL both ways build before they drop, CONCURRENTLY."""
    columns = (
        "id, webhook_id, dispatch_id, owner, destination, state, attempts, budget_used, "
        "round_started_at, next_attempt_at, created_at, updated_at"
    )
    run(
        at_0006,
        [
            f"INSERT INTO deliveries ({columns}) VALUES ('dlv_{state}', 'msg_{state}', 'dsp_1', "
            f"'c_a', 'billing', '{state}', 0, 0, :now, :now, :now, :now)"
            for state in ("pending", "delivering", "delivered", "dead")
        ],
    )
    migrate.upgrade(at_0006, "0007")
    indexes = _queue_indexes(at_0006)
    predicates = {
        "ix_deliveries_pending_next_attempt_at": "pending",
        "ix_deliveries_pending_owner_next_attempt_at": "pending",
        "ix_deliveries_delivering_lease_expires_at": "delivering",
    }
    for name, state in predicates.items():
        where = indexes[name].partition(" WHERE ")[2]
        assert re.fullmatch(rf"\(*state\)*(::text)? = '{state}'(::text)?\)*", where), indexes[name]
    assert not any(name.startswith("ix_deliveries_state_") for name in indexes)
    assert not any(sql.endswith(" INVALID") for sql in indexes.values())
    (kept,) = run(at_0006, ["SELECT id FROM deliveries ORDER BY id"])
    assert [row[0] for row in kept] == [
        "dlv_dead", "dlv_delivered", "dlv_delivering", "dlv_pending"
    ]  # fmt: skip

    migrate.downgrade(at_0006, "0006")
    indexes = _queue_indexes(at_0006)
    assert set(predicates).isdisjoint(indexes)
    assert {
        "ix_deliveries_state_next_attempt_at",
        "ix_deliveries_state_owner_next_attempt_at",
        "ix_deliveries_state_lease_expires_at",
    } <= set(indexes)


def test_0007_builds_its_indexes_concurrently_on_postgresql() -> None:
    """What 0007 sends to PostgreSQL (Alembic's offline SQL): every index built and dropped
    CONCURRENTLY, outside a transaction, so the table is never locked against reads and
    writes while the indexes are built."""
    config = migrate._config(databases.POSTGRES_ADMIN_URL)
    config.output_buffer = io.StringIO()
    command.upgrade(config, "0006:0007", sql=True)
    sql = config.output_buffer.getvalue()
    assert sql.count("CREATE INDEX CONCURRENTLY IF NOT EXISTS") == 3, sql
    assert sql.count("DROP INDEX CONCURRENTLY IF EXISTS") == 3, sql
    assert not re.search(r"(CREATE|DROP) INDEX (?!CONCURRENTLY)", sql), sql


def test_the_queue_is_searched_through_its_partial_indexes(at_head: str) -> None:
    """Every query the delivery workers make of the queue (claim, rescue, depth) is planned
    on the partial indexes of open deliveries, never a scan of the whole table. The
    PostgreSQL half is the one with teeth: with a generic plan, as a prepared statement
    gets after five runs, a state passed as a parameter would be a Seq Scan. SQLite plans
    with the bound values, so its half only checks that the indexes serve at all."""
    now = datetime.now(UTC)

    def queries(session: Session) -> list[tuple[str, Any]]:
        seen: list[tuple[str, Any]] = []

        def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().startswith("SELECT") and "FROM deliveries" in statement:
                seen.append((statement, parameters))

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            dispatches.claim(session, worker="w", now=now, lease=timedelta(seconds=30), limit=4)
            dispatches.lapsed(session, now=now, limit=4)
            dispatches.depth(session)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        return seen

    def plans(*, session: Session) -> list[tuple[str, str]]:
        earlier = now - timedelta(minutes=1)
        session.execute(
            dispatches.deliveries.insert().values(
                id="dlv_1", webhook_id="msg_1", dispatch_id="dsp_1", owner="c", destination="d",
                state="pending", attempts=0, budget_used=0, round_started_at=earlier,
                next_attempt_at=earlier, created_at=earlier, updated_at=earlier,
            )
        )  # fmt: skip
        connection = session.connection()
        found = []
        for number, (statement, parameters) in enumerate(queries(session)):
            if connection.dialect.name == "sqlite":
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                found.append((statement, " ".join(str(r[-1]) for r in rows)))
                continue
            connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql(f"PREPARE queue_{number} AS {statement}")
            values = ", ".join(
                str(v) if isinstance(v, int) else "'{}'".format(str(v).replace("'", "''"))
                for v in parameters
            )
            rows = connection.exec_driver_sql(
                f"EXPLAIN EXECUTE queue_{number}" + (f"({values})" if values else "")
            )
            found.append((statement, " ".join(str(r[0]) for r in rows)))
        return found

    async def go() -> list[tuple[str, str]]:
        db = Database(at_head)
        try:
            return await db.write(plans)
        finally:
            await db.dispose()

    found = asyncio.run(go())
    assert len(found) >= 5  # due by owner, busy, locks, lapsed, depth per state
    for statement, plan in found:
        assert re.search(r"ix_deliveries_(pending|delivering)_", plan), (statement, plan)
        # A scan of a partial index is the queue's size; a scan of the table is not.
        assert not re.search(r"SCAN deliveries(?! USING)|Seq Scan", plan), (statement, plan)
