"""Shared fixtures: database_url -> settings -> app -> client, composed (flaskr's conftest);
``client_with(**overrides)`` is the one way a test gets a client on an app of other settings.

Tests get a fresh, migrated SQLite database by default. A test module that must hold on
both backends parametrizes ``database_url`` indirectly with ``BACKENDS``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog
from starlette.testclient import TestClient

from server.app import ContractApp, create_app
from server.settings import Settings
from server.telemetry.logs import add_request_id
from tests import databases
from tests.config import ClientWith, make_settings
from tests.downstream import Downstream, running
from tests.identities import ADMIN, ALICE

BACKENDS = ["sqlite", "postgresql"]

# The request log (structlog) is captured in the test process, not written anywhere.
REQUEST_LOG = structlog.testing.LogCapture()


@pytest.fixture(scope="session", autouse=True)
def captured_request_log() -> None:
    structlog.configure(
        processors=[add_request_id, structlog.processors.add_log_level, REQUEST_LOG],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )


@pytest.fixture
def request_log() -> list[dict[str, Any]]:
    """The request log's lines of this test (every level; the app decides what to log)."""
    REQUEST_LOG.entries.clear()
    return REQUEST_LOG.entries


@pytest.fixture
def process_logging_restored() -> Iterator[None]:
    """For a test that sets up logging as a server process would (``configure_logging``,
    ``python -m server``): the test process's logging is put back afterwards."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.asgi", "uvicorn.access", "httpx"]
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate, logger.disabled)
        for logger in map(logging.getLogger, names)
    ]
    structlog_config = structlog.get_config()
    yield
    for logger, handlers, level, propagate, disabled in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled
    logging.captureWarnings(False)
    structlog.configure(**structlog_config)


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
def admin(client: TestClient) -> TestClient:
    """The ``client``, calling as ``ADMIN`` from now on (one client: one lifespan)."""
    client.headers.update(ADMIN.headers)
    return client


@pytest.fixture
def anonymous(app: ContractApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def client_with(settings: Settings) -> ClientWith:
    """``client_with(**overrides)``: a test client on a new app of this test's ``settings``
    with ``overrides`` (checked as any settings are; ``database_url=`` too), calling as
    ``headers=`` (nobody by default). Start it with ``with``: its lifespan is the block."""

    def build(*, headers: Mapping[str, str] | None = None, **overrides: object) -> TestClient:
        changed = Settings(**{**settings.model_dump(), **overrides}) if overrides else settings
        return TestClient(create_app(changed), base_url="http://testserver", headers=headers)

    return build


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
