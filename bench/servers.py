"""Who competes, and how each server process is started, made ready and stopped.

Every contender runs as a subprocess from the repository root, in its own process group so
that stopping it also stops the workers a supervisor (uvicorn --workers N, gunicorn) forked.
The harness never imports the apps: it only knows their import strings.

Every server start gets a fresh SQLite file of its own (named by the caller, in the run's
temporary directory), deleted when the server stops: the tables start empty each time, so
the rows earlier rounds inserted cannot slow later ones down. The service's file is migrated
before it starts and its fixture user created through its API once it answers; the peers
create their tables and that user themselves at start-up.
"""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from bench.credentials import API_KEY
from scripts.processes import ServerProcess, log_tail

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Any HTTP answer on this path means the app is up; every contender serves it.
READY_PATH = "/api/hello"
STOP_GRACE_S = 5.0
MIGRATE_TIMEOUT_S = 120.0

# The user every contender must hold as id 1 for the get_user workload. The peers seed the
# same one in their start-up code (bench/contenders/*.py); the service gets it through its API.
SEED_PATH = "/api/users"
SEED_USER = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}
AUTH = {"X-API-Key": API_KEY}


@dataclass(frozen=True)
class Contender:
    name: str
    label: str
    app: str  # import string, "module:attribute", resolved from REPO_ROOT
    # "service": ``python -m server``, the service's own command line (its bounded edge,
    # uvicorn with uvloop and httptools); the peers run uvicorn's or gunicorn's.
    server: Literal["service", "uvicorn", "gunicorn"]
    env: dict[str, str] = field(default_factory=dict)
    # The environment variable that tells the app its database, and its value, where {path}
    # is the absolute path of the SQLite file the harness made for this start.
    db_env: str = "BENCH_DB"
    db_value: str = "{path}"
    # Run (as ``python <migrate...>`` from REPO_ROOT, same environment) before the server
    # starts, to create the tables; empty when the app creates them itself.
    migrate: tuple[str, ...] = ()
    # POST SEED_USER to SEED_PATH once the server answers (the peers seed it themselves).
    seed_via_api: bool = False
    # Workload name -> the status this contender answers instead of the workload's
    # expected_status, by design (FastAPI's own 422 for an invalid body, in the tutorial peer).
    expected_status: dict[str, int] = field(default_factory=dict)

    def expects(self, workload: str, default: int) -> int:
        return self.expected_status.get(workload, default)

    def environment(self, db_path: Path) -> dict[str, str]:
        return {
            **os.environ,
            **self.env,
            self.db_env: self.db_value.format(path=db_path.resolve()),
        }

    def command(self, port: int, workers: int) -> list[str]:
        if self.server == "service":
            return [
                sys.executable, "-m", "server", "serve",
                "--host", HOST, "--port", str(port), "--workers", str(workers),
            ]  # fmt: skip
        if self.server == "uvicorn":
            # The server the service runs on, as the ASGI peers' docs teach it.
            return [
                sys.executable, "-m", "uvicorn", self.app,
                "--host", HOST, "--port", str(port), "--workers", str(workers),
                "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "gunicorn", self.app,
            "--bind", f"{HOST}:{port}", "--workers", str(workers),
            "--worker-class", "sync", "--log-level", "warning",
        ]  # fmt: skip


CONTENDERS: dict[str, Contender] = {
    c.name: c
    for c in (
        Contender(
            "service",
            "service (Connexion)",
            "server.asgi:app",
            "service",
            env={
                "APP_ENVIRONMENT": "production",
                "APP_SECRET_KEY": "bench-secret-0123456789-0123456789-0123456789",
                # Counted on every request, never reached.
                "APP_RATE_LIMIT": "1000000000/minute",
                "APP_RATE_LIMIT_ANONYMOUS": "1000000000/minute",
                # The peers run with --no-access-log; metrics stay on, as shipped.
                "APP_ACCESS_LOG": "false",
                "APP_LOG_LEVEL": "warning",
            },
            db_env="APP_DATABASE_URL",
            db_value="sqlite+aiosqlite:///{path}",
            migrate=("-m", "bench.service_setup"),
            seed_via_api=True,
        ),
        Contender("starlette", "raw Starlette", "bench.contenders.starlette_app:app", "uvicorn"),
        # FastAPI as its "SQL (Relational) Databases" tutorial teaches it: what most users run.
        Contender(
            "fastapi-tutorial",
            "FastAPI tutorial (sync SQLModel, thread pool)",
            "bench.contenders.fastapi_tutorial_app:app",
            "uvicorn",
            expected_status={"process_invalid": 422},
        ),
        Contender(
            "fastapi-async",
            "FastAPI async (async SQLAlchemy, aiosqlite)",
            "bench.contenders.fastapi_app:app",
            "uvicorn",
        ),
        Contender("flask", "Flask + gunicorn", "bench.contenders.flask_app:app", "gunicorn"),
    )
}


class ServerStartError(RuntimeError):
    """The contender did not come up; the message says why, with the tail of its log."""


def free_port() -> int:
    # The port is released before the server binds it; on a quiet loopback that race is moot.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def remove_database(path: Path) -> None:
    """The SQLite file and its WAL and shared-memory companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Server:
    """One running contender process (and the workers it forks), on a fresh loopback port,
    with a fresh SQLite file at ``db_path``."""

    def __init__(
        self, contender: Contender, workers: int, cpus: str | None, log_path: Path, db_path: Path
    ):
        self.contender = contender
        self.workers = workers
        self.cpus = cpus
        self.log_path = log_path
        self.db_path = db_path
        self.env = contender.environment(db_path)
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        command = contender.command(self.port, workers)
        if cpus is not None:
            # Affinity is inherited, so forked workers stay on these CPUs too.
            command = ["taskset", "-c", cpus, *command]
        self.command = command
        self._server: ServerProcess | None = None

    def start(self) -> None:
        remove_database(self.db_path)  # never reuse a file: every start begins empty
        with self.log_path.open("wb") as log:
            if self.contender.migrate:
                self._migrate(log)
        # Its own process group: Ctrl-C in the terminal does not reach it half-way, and
        # stop() signals the supervisor and its workers at once.
        self._server = ServerProcess.start(
            self.command, url=self.url, log=self.log_path, env=self.env, cwd=REPO_ROOT
        )

    def _migrate(self, log: IO[bytes]) -> None:
        command = [sys.executable, *self.contender.migrate]
        log.write(f"$ {' '.join(command)}\n".encode())
        log.flush()
        try:
            completed = subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=MIGRATE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ServerStartError(
                f"migrations did not finish within {MIGRATE_TIMEOUT_S:.0f} s"
            ) from None
        if completed.returncode != 0:
            log.flush()
            raise ServerStartError(
                f"migrations failed with code {completed.returncode}\n{log_tail(self.log_path)}"
            )
        log.write(b"$ (migrations done, starting the server)\n")
        log.flush()

    def seed(self) -> str | None:
        """Create the fixture user through the API if this contender needs it; None when
        done (or not needed), else what went wrong."""
        if not self.contender.seed_via_api:
            return None
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10.0)
        try:
            connection.request(
                "POST",
                SEED_PATH,
                body=json.dumps(SEED_USER),
                headers={"Content-Type": "application/json", **AUTH},
            )
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            return f"POST {SEED_PATH} failed: {type(error).__name__}: {error}"
        finally:
            connection.close()
        if response.status != 201:
            return f"POST {SEED_PATH} answered {response.status}: {body[:200]!r}"
        return None

    @property
    def pgid(self) -> int:
        """The process group of the server and its workers (its leader's pid)."""
        assert self._server is not None, "not started"
        return self._server.process.pid

    @property
    def exit_code(self) -> int | None:
        return None if self._server is None else self._server.process.poll()

    def wait_ready(self, timeout_s: float) -> None:
        """Until any HTTP answer on READY_PATH (the contenders differ in what they answer)."""
        assert self._server is not None, "not started"
        ready = self._server.wait_answering(READY_PATH, seconds=timeout_s, ready=lambda _: True)
        if ready is not None:
            return
        if self.exit_code is not None:
            raise ServerStartError(
                f"exited with code {self.exit_code} before answering\n{log_tail(self.log_path)}"
            )
        raise ServerStartError(
            f"no HTTP answer on {self.url}{READY_PATH} within {timeout_s:.0f} s\n"
            f"{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(group=True, grace=STOP_GRACE_S)


@contextlib.contextmanager
def running(
    contender: Contender,
    workers: int,
    cpus: str | None,
    log_path: Path,
    db_path: Path,
    ready_timeout_s: float,
) -> Iterator[Server]:
    """A started, answering server on a fresh database, stopped and its database deleted on
    the way out whatever happens inside. Seeding is left to the caller (``Server.seed``),
    which decides what a failure means."""
    server = Server(contender, workers, cpus, log_path, db_path)
    try:
        server.start()
        server.wait_ready(ready_timeout_s)
        yield server
    finally:
        server.stop()
        remove_database(db_path)
