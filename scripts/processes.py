"""Start a server process, wait until it answers, stop it and whatever it started: the one
way the e2e tests, the benchmarks (``bench/servers.py``, ``bench/soak/service.py``) and the
cluster script (``scripts/cluster.py``) run servers.

Every process starts in a session of its own (its group id is its pid), with its output
appended to a log: Ctrl-C in a terminal reaches only the caller, which stops things in
order, and a stop can reach the workers a supervisor forked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def log_tail(path: Path, lines: int = 30, *, offset: int = 0) -> str:
    """The last ``lines`` of ``path`` from byte ``offset`` on ("" if it cannot be read)."""
    try:
        with path.open("rb") as text:
            text.seek(offset)
            output = text.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(output.strip().splitlines()[-lines:])


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    log_offset: int = 0  # where this process's output starts in ``log``

    @classmethod
    def start(
        cls,
        command: Sequence[str],
        *,
        url: str,
        log: Path,
        env: Mapping[str, str],
        cwd: Path = ROOT,
        pass_fds: Sequence[int] = (),
    ) -> ServerProcess:
        with log.open("ab") as out:
            offset = out.tell()
            process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=tuple(pass_fds),
                start_new_session=True,
            )
        return cls(url=url, process=process, log=log, log_offset=offset)

    def wait_answering(
        self,
        path: str,
        *,
        seconds: float,
        verify: ssl.SSLContext | bool = True,
        ready: Callable[[int], bool] = lambda status: status == 200,
    ) -> int | None:
        """Poll ``GET {url}{path}`` until an answer's status is ``ready`` (200 by default;
        ``lambda _: True`` takes any answer) and return that status; None when the process
        exits first or ``seconds`` pass without one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                status = httpx.get(self.url + path, timeout=1, verify=verify).status_code
            except httpx.TransportError:
                status = None
            if status is not None and ready(status):
                return status
            time.sleep(0.1)
        return None

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` of this process's own output."""
        return log_tail(self.log, lines, offset=self.log_offset)

    def stop(
        self, *, sig: int = signal.SIGTERM, group: bool = False, grace: float = 10.0
    ) -> int | None:
        """``sig`` to the process (to its whole group with ``group``), up to ``grace``
        seconds for it to exit, then SIGKILL to the group: nothing it forked outlives it.
        Its exit code (None if it could not be reaped)."""
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if group:
                    os.killpg(process.pid, sig)
                else:
                    process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: pgid == pid
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
        return process.poll()
