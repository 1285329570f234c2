"""Shared fixtures: database_url -> settings -> app -> client, composed (flaskr's conftest).

Tests get a fresh, migrated SQLite database by default. A test module that must hold on
both backends parametrizes ``database_url`` indirectly with ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import ContractApp, create_app
from server.settings import Settings
from tests import databases
from tests.config import make_settings
from tests.downstream import Downstream, running
from tests.identities import ALICE

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.make_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url, name = databases.create_postgres_database()
    yield url
    databases.drop_postgres_database(name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        databases.truncate_postgres(url)
        return url
    return databases.fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> ContractApp:
    return create_app(settings)


@pytest.fixture
def client(app: ContractApp) -> Iterator[TestClient]:
    """Calls as ``ALICE`` (every scope but admin); pass other headers to be someone else."""
    with TestClient(app, base_url="http://testserver", headers=ALICE.headers) as test_client:
        yield test_client


@pytest.fixture
def anonymous(app: ContractApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = databases.empty_redis()
    yield url
    databases.empty_redis()


@pytest.fixture(scope="session")
def downstream_server() -> Iterator[Downstream]:
    with running(Downstream()) as server:
        yield server


@pytest.fixture
def downstream(downstream_server: Downstream) -> Downstream:
    """A real downstream API on a loopback port (see tests/downstream.py), counters reset."""
    downstream_server.reset()
    return downstream_server
