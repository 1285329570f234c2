"""With the database unreachable, every data operation is a 503 problem, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from server.errors import DatabaseUnavailable
from server.persistence.database import Database, is_unreachable
from tests import databases
from tests.config import ClientWith
from tests.identities import ALICE

UNREACHABLE = {
    # Nothing listens on port 9 of loopback: the connection is refused at once.
    "postgresql": "postgresql://postgres@127.0.0.1:9/test",
    # A file in a folder that does not exist cannot be opened.
    "sqlite": "sqlite:////nonexistent-folder/contract-api.db",
}
REQUESTS = [
    ("GET", "/api/users/1", None),
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"name": "Ada", "email": "ada@example.com"}),
    ("POST", "/api/process_data", {"user_id": 1, "item_id": 1, "quantity": 1}),
    ("GET", "/api/records", None),
]


@pytest.fixture(scope="module")
def closed_postgres_url() -> Iterator[str]:
    """A PostgreSQL server that answers, but refuses connections to this database (55000)."""
    url, name = databases.create_closed_postgres_database()
    yield url
    databases.drop_postgres_database(name)


@pytest.fixture(params=[*UNREACHABLE, "postgresql-closed"])
def down_client(request: pytest.FixtureRequest, client_with: ClientWith) -> Iterator[TestClient]:
    if request.param == "postgresql-closed":
        url = request.getfixturevalue("closed_postgres_url")
    else:
        url = UNREACHABLE[request.param]
    with client_with(database_url=url, database_timeout=1.0, headers=ALICE.headers) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_response_503_with_retry_after(
    down_client: TestClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = down_client.request(method, path, json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:contract-api:problem:database-unavailable",
        "title": "Database unavailable",
        "status": 503,
        "detail": "The database cannot be reached right now; retry later.",
        "instance": path,
    }


def test_service_still_answers_what_needs_no_database(down_client: TestClient) -> None:
    assert down_client.get("/api/hello").status_code == 200


class _DriverError(Exception):
    """What SQLAlchemy's asyncpg adapter puts in ``DBAPIError.orig``: it has ``sqlstate``."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class TestIsUnreachable:
    @pytest.mark.parametrize(
        ("sqlstate", "statement"),
        [
            pytest.param("08006", "SELECT 1", id="connection-failure"),
            pytest.param("08003", "SELECT 1", id="connection-does-not-exist"),
            pytest.param("57P01", "SELECT 1", id="admin-shutdown"),
            pytest.param("57P02", "SELECT 1", id="crash-shutdown"),
            pytest.param("57P03", None, id="cannot-connect-now"),
            pytest.param("53300", None, id="too-many-connections"),
            pytest.param("55000", None, id="database-not-accepting-connections"),
        ],
    )
    def test_server_that_cannot_serve_now(self, sqlstate: str, statement: str | None) -> None:
        exc = DBAPIError(statement, None, _DriverError("refused", sqlstate))
        assert is_unreachable(exc)

    @pytest.mark.parametrize(
        ("sqlstate", "statement"),
        [
            pytest.param("42P01", "SELECT * FROM nowhere", id="undefined-table"),
            pytest.param("23505", "INSERT INTO users", id="unique-violation"),
            pytest.param("22P02", "SELECT 'x'::int", id="invalid-text-representation"),
            pytest.param("55000", "SELECT currval('s')", id="prerequisite-state-in-a-statement"),
            pytest.param("53100", "INSERT INTO users", id="disk-full"),
        ],
    )
    def test_sql_bugs_stay_errors(self, sqlstate: str, statement: str | None) -> None:
        exc = DBAPIError(statement, None, _DriverError("wrong", sqlstate))
        assert not is_unreachable(exc)

    def test_driver_error_without_sqlstate_is_not_unreachable(self) -> None:
        assert not is_unreachable(DBAPIError("SELECT 1", None, Exception("?")))


def _read_on_postgres(url: str, work: Callable[..., None]) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            await db.read(work)
        finally:
            await db.dispose()

    asyncio.run(run())


class TestPostgresConnectionLost:
    def test_backend_terminated_mid_statement_is_unavailable(self, postgres_url: str) -> None:
        def terminate_own_backend(session: Session) -> None:
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

        with pytest.raises(DatabaseUnavailable):
            _read_on_postgres(postgres_url, terminate_own_backend)

    def test_sql_bug_is_not_unavailable(self, postgres_url: str) -> None:
        def query_missing_table(session: Session) -> None:
            session.execute(text("SELECT * FROM no_such_table"))

        with pytest.raises(ProgrammingError):
            _read_on_postgres(postgres_url, query_missing_table)
