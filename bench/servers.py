"""Who competes, and how each server process is started, made ready and stopped.

Every contender runs as a subprocess from the repository root, in its own process group so
that stopping it also stops the workers a supervisor (uvicorn --workers N, gunicorn) forked.
The harness never imports the apps: it only knows their import strings.
"""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Any HTTP answer on this path means the app is up; every contender serves it.
READY_PATH = "/api/hello"
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class Contender:
    name: str
    label: str
    app: str  # import string, "module:attribute", resolved from REPO_ROOT
    server: Literal["uvicorn", "gunicorn"]
    env: dict[str, str] = field(default_factory=dict)

    def command(self, port: int, workers: int) -> list[str]:
        if self.server == "uvicorn":
            # The service's production command line; the ASGI peers get exactly the same one.
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
            "uvicorn",
            env={"APP_ENVIRONMENT": "production"},
        ),
        Contender("starlette", "raw Starlette", "bench.contenders.starlette_app:app", "uvicorn"),
        Contender("fastapi", "FastAPI", "bench.contenders.fastapi_app:app", "uvicorn"),
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


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Server:
    """One running contender process (and the workers it forks), on a fresh loopback port."""

    def __init__(self, contender: Contender, workers: int, cpus: str | None, log_path: Path):
        self.contender = contender
        self.workers = workers
        self.cpus = cpus
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        command = contender.command(self.port, workers)
        if cpus is not None:
            # Affinity is inherited, so forked workers stay on these CPUs too.
            command = ["taskset", "-c", cpus, *command]
        self.command = command
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env={**os.environ, **self.contender.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: Ctrl-C in the terminal does not reach it half-way, and
                # stop() can signal the supervisor and its workers at once.
                start_new_session=True,
            )

    @property
    def pgid(self) -> int:
        """The process group of the server and its workers (its leader's pid)."""
        assert self._proc is not None, "not started"
        return self._proc.pid

    @property
    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.exit_code is not None:
                raise ServerStartError(
                    f"exited with code {self.exit_code} before answering\n{log_tail(self.log_path)}"
                )
            if self._answers():
                return
            time.sleep(0.1)
        raise ServerStartError(
            f"no HTTP answer on {self.url}{READY_PATH} within {timeout_s:.0f} s\n"
            f"{log_tail(self.log_path)}"
        )

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=1.0)
        try:
            connection.request("GET", READY_PATH)
            connection.getresponse().read()
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        # The group id is the leader's pid (start_new_session); signal that group only.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_GRACE_S)
        # Workers that outlived their supervisor would still hold a CPU: make sure they are gone.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    contender: Contender, workers: int, cpus: str | None, log_path: Path, ready_timeout_s: float
) -> Iterator[Server]:
    """A started, answering server, stopped on the way out whatever happens inside."""
    server = Server(contender, workers, cpus, log_path)
    try:
        server.start()
        server.wait_ready(ready_timeout_s)
        yield server
    finally:
        server.stop()
