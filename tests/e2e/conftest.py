"""Real uvicorn servers on loopback ports, for tests that need sockets or processes."""

from __future__ import annotations

import os
import socket
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from contract_api_client import AuthenticatedClient, Client
from contract_api_client.api.oauth import issue_token
from contract_api_client.models import TokenRequest, TokenResponse

from scripts.processes import ServerProcess
from server import migrate
from tests import databases, identities
from tests.config import GENEROUS, TEST_SECRET
from tests.databases import sqlite_url
from tests.identities import ALICE, Identity

ROOT = Path(__file__).resolve().parents[2]


LiveServer = ServerProcess  # started, waited for and stopped the one way (scripts/processes.py)


def start_server(
    database_url: str, log: Path, *, ca_file: Path | None = None, **env: str
) -> LiveServer:
    """Start `python -m server serve` on a socket we bound, so there is no port race.
    With ``APP_TLS_*`` in ``env`` it serves HTTPS, checked against ``ca_file``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    environment = {
        **os.environ,
        "APP_ENVIRONMENT": "production",
        "APP_DATABASE_URL": database_url,
        "APP_SECRET_KEY": TEST_SECRET,
        "APP_RATE_LIMIT": GENEROUS,
        "APP_RATE_LIMIT_ANONYMOUS": GENEROUS,
        "APP_LOG_LEVEL": "warning",
        **env,
    }
    scheme = "https" if "APP_TLS_CERTFILE" in env else "http"
    server = ServerProcess.start(
        # The service's own command line, on a socket we bound (socket activation).
        [sys.executable, "-m", "server", "serve", "--fd", str(sock.fileno())],
        url=f"{scheme}://127.0.0.1:{port}",
        log=log,
        env=environment,
        pass_fds=[sock.fileno()],
    )
    sock.close()
    verify = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    return answering(server, "/api/hello", seconds=20, verify=verify)


def answering(
    server: LiveServer, path: str, *, seconds: float, verify: ssl.SSLContext | bool = True
) -> LiveServer:
    """``server`` once ``path`` answers 200; the test fails with its log if it never does."""
    if server.wait_answering(path, seconds=seconds, verify=verify) is None:
        server.stop()
        pytest.fail(f"the server did not start:\n{server.log_tail(60)}")
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_module(database_url: str, log: Path, **env: str) -> LiveServer:
    """Start `python -m server` as an operator would (its supervisor, its workers), with
    only the ``APP_*`` variables given here; returns once it answers."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    environment.update(APP_DATABASE_URL=database_url, APP_PORT=str(port), **env)
    server = ServerProcess.start(
        [sys.executable, "-m", "server"], url=f"http://127.0.0.1:{port}", log=log, env=environment
    )
    return answering(server, "/api/health/live", seconds=30)


@contextmanager
def seeded_server(folder: Path, **env: str) -> Iterator[LiveServer]:
    """``start_server`` on a migrated SQLite database in ``folder`` with the test
    identities, stopped at the end."""
    database_url = sqlite_url(folder / "server.db")
    migrate.upgrade(database_url)
    identities.seed(database_url)
    server = start_server(database_url, folder / "server.log", **env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, seeded database of each backend, empty of everything else."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        databases.truncate_postgres(url)
        return url
    return databases.fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_server(tmp_path_factory.mktemp("live"), APP_MAX_BODY_BYTES="65536") as server:
        yield server


def with_api_key(server: LiveServer, identity: Identity = ALICE) -> AuthenticatedClient:
    """The generated client, authenticating with an API key (``X-API-Key``)."""
    return AuthenticatedClient(
        base_url=f"{server.url}/api",
        token=identity.secret,
        prefix="",
        auth_header_name="X-API-Key",
        timeout=5,
    )


def with_bearer_token(server: LiveServer, identity: Identity = ALICE) -> AuthenticatedClient:
    """The generated client, with a JWT it got from /oauth/token (client credentials)."""
    with Client(base_url=f"{server.url}/api", timeout=5) as anonymous:
        granted = issue_token.sync(
            client=anonymous,
            body=TokenRequest(
                grant_type="client_credentials",
                client_id=identity.client_id,
                client_secret=identity.secret,
            ),
        )
    assert isinstance(granted, TokenResponse), granted
    return AuthenticatedClient(base_url=f"{server.url}/api", token=granted.access_token, timeout=5)
