"""The service under soak: ``python -m server`` in production mode, set up the way an
operator does (``migrate``, ``clients create``), started, waited for and stopped with
``scripts.processes.ServerProcess``, the one helper the e2e tests and the benchmarks use."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.servers import HOST, READY_PATH, REPO_ROOT, STOP_GRACE_S, free_port, log_tail
from scripts.processes import ServerProcess
from server import contract

SCOPES = " ".join(s for s in contract.scopes() if s != contract.ADMIN)  # all but admin
# High enough never to be reached: the limiter still counts every request.
UNREACHED_LIMIT = "1000000000/minute"
SETUP_TIMEOUT_S = 120.0
HTTP_TIMEOUT_S = 5.0
# Settings the caller's shell may hold that would change what is measured (settings.py
# also reads the unprefixed DATABASE_URL and REDIS_URL).
FOREIGN_SETTINGS = ("DATABASE_URL", "REDIS_URL")
# What ``python -m server clients create`` prints, one "label: value" line each.
CREATED_LABELS = ("client_id", "client_secret")


class SoakError(RuntimeError):
    """The soak could not run: setup failed, the service did not come up, wrk failed."""


@dataclass
class Service:
    """``python -m server`` in its own process group, with the client the load runs as."""

    database_url: str
    workers: int
    log_path: Path
    port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    client_id: str = ""
    api_key: str = ""
    server: ServerProcess | None = None
    started: float = 0.0
    log_offset: int = 0  # where the server's own output begins in the log
    log_end: int | None = None  # and where it ends

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def environment(self) -> dict[str, str]:
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("APP_") and name not in FOREIGN_SETTINGS
        }
        environment = {
            **inherited,
            "APP_ENVIRONMENT": "production",
            "APP_SECRET_KEY": self.secret_key,
            "APP_DATABASE_URL": self.database_url,
            "APP_HOST": HOST,
            "APP_PORT": str(self.port),
            "APP_WORKERS": str(self.workers),
            "APP_RATE_LIMIT_ANONYMOUS": UNREACHED_LIMIT,  # GET /api/hello, all from 127.0.0.1
        }
        if self.client_id:
            environment["APP_RATE_LIMIT_CLIENTS"] = json.dumps({self.client_id: UNREACHED_LIMIT})
        return environment

    def manage(self, *arguments: str) -> str:
        """Run ``python -m server <arguments>`` to completion; its stdout. Logged."""
        command = [sys.executable, "-m", "server", *arguments]
        with self.log_path.open("ab") as log:
            log.write(f"$ python -m server {shlex.join(arguments)}\n".encode())
            log.flush()
            try:
                completed = subprocess.run(
                    command,
                    cwd=REPO_ROOT,
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    timeout=SETUP_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SoakError(
                    f"python -m server {arguments[0]} took more than {SETUP_TIMEOUT_S:.0f} s"
                ) from None
        if completed.returncode != 0:
            raise SoakError(
                f"python -m server {arguments[0]} failed with code {completed.returncode}\n"
                + log_tail(self.log_path)
            )
        return completed.stdout.decode(errors="replace")

    def prepare(self) -> None:
        """Migrate the database and register the client the load authenticates as."""
        self.manage("migrate")
        name = f"soak-{datetime.datetime.now(datetime.UTC):%Y%m%d-%H%M%S}"
        printed = self.manage("clients", "create", "--name", name, "--scopes", SCOPES)
        fields = labelled_values(printed)
        if not all(fields.get(label) for label in CREATED_LABELS):
            raise SoakError(f"unexpected output of python -m server clients create:\n{printed}")
        self.client_id, self.api_key = fields["client_id"], fields["client_secret"]

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.log_offset = log.tell()
            log.write(
                f"$ python -m server  (APP_WORKERS={self.workers}, port {self.port})\n".encode()
            )
        # Its own process group: stop() reaches the supervisor and its workers at once.
        self.server = ServerProcess.start(
            [sys.executable, "-m", "server"],
            url=self.url,
            log=self.log_path,
            env=self.environment(),
            cwd=REPO_ROOT,
        )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        assert self.server is not None, "not started"
        return self.server.process.pid

    def exit_code(self) -> int | None:
        return None if self.server is None else self.server.process.poll()

    def wait_ready(self, timeout_s: float) -> None:
        """Until READY_PATH answers 200. Any other answer is final: a broken spec or
        handler would show there before any load."""
        assert self.server is not None, "not started"
        status = self.server.wait_answering(READY_PATH, seconds=timeout_s, ready=lambda _: True)
        if status == 200:
            return
        if status is not None:
            raise SoakError(
                f"GET {READY_PATH} answered {status} before any load\n{self.log_tail()}"
            )
        if (code := self.exit_code()) is not None:
            raise SoakError(f"exited with code {code} before answering\n{self.log_tail()}")
        raise SoakError(f"no answer on {self.url}{READY_PATH} within {timeout_s:.0f} s")

    def get(self, path: str, *, authenticated: bool = False) -> tuple[int | None, bytes]:
        """(status, body) of ``GET path``, as the soak client with ``authenticated``;
        (None, b"") when nothing answered."""
        headers = {"X-API-Key": self.api_key} if authenticated else {}
        try:
            response = httpx.get(self.url + path, headers=headers, timeout=HTTP_TIMEOUT_S)
        except httpx.HTTPError:
            return None, b""
        return response.status_code, response.content

    def check_credential(self) -> None:
        status, body = self.get("/api/records?limit=1", authenticated=True)
        if status != 200:
            raise SoakError(f"GET /api/records with the soak client answered {status}: {body!r}")

    def log_tail(self, lines: int = 25) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.stop(group=True, grace=STOP_GRACE_S * 2)
        with contextlib.suppress(OSError):
            self.log_end = self.log_path.stat().st_size


def labelled_values(printed: str) -> dict[str, str]:
    """The ``label: value`` lines of a management command's output, by label."""
    values = {}
    for line in printed.splitlines():
        label, colon, value = line.partition(":")
        if colon and label.strip() in CREATED_LABELS:
            values[label.strip()] = value.strip()
    return values
