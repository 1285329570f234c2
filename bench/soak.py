"""Soak test: the service as users run it, under a realistic mix of requests for a minute,
watched for server errors and for memory that keeps growing.

    .venv/bin/python -m bench.soak [--seconds 60] [--warmup 10] [--workers N]
                                   [--database-url postgresql://...]

Starts ``python -m server`` in production mode (a generated ``APP_SECRET_KEY``) on a fresh
SQLite file in a temporary folder, or on ``--database-url``; migrates it and registers an
API client with ``python -m server migrate`` and ``python -m server clients create``, the
way an operator does, and lifts that client's rate limit (``APP_RATE_LIMIT_CLIENTS``) and
the anonymous one out of the way. Then wrk runs bench/wrk/soak.lua: a warm-up, and the
measured load, a mix of every common operation with a small share of invalid requests. The
resident memory of the server's process tree is sampled once a second.

Gate: exit status 1 if any answer was 5xx, any socket error (connect, read, write, timeout)
happened, the service did not come up, or the RSS grew by 10 % or more between the end of
the warm-up and the end of the load. 0 when all is well, 2 when wrk is missing or the
arguments are wrong, 130 when interrupted. Writes bench/results/soak.json and keeps the
server's log in bench/results/logs/soak-server.log.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from prometheus_client.parser import text_string_to_metric_families

if __package__ in (None, ""):  # `python bench/soak.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu
from bench.loadgen import WRK_TIMEOUT_S, WrkError
from bench.servers import HOST, REPO_ROOT, STOP_GRACE_S, free_port, log_tail
from scripts.processes import ServerProcess
from server import contract

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCRIPT = Path(__file__).resolve().parent / "wrk" / "soak.lua"
MAX_GROWTH = 0.10  # RSS growth over the load that fails the gate
SCOPES = " ".join(s for s in contract.scopes() if s != contract.ADMIN)  # all but admin
# High enough never to be reached: the limiter still counts every request.
UNREACHED_LIMIT = "1000000000/minute"
SETUP_TIMEOUT_S = 120.0
HTTP_TIMEOUT_S = 5.0
RESULT_MARK = "SOAK-RESULT "
# Settings the caller's shell may hold that would change what is measured (settings.py
# also reads the unprefixed DATABASE_URL and REDIS_URL).
FOREIGN_SETTINGS = ("DATABASE_URL", "REDIS_URL")


class SoakError(RuntimeError):
    """The soak could not run: setup failed, the service did not come up, wrk failed."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Soak the service with a realistic mix under wrk; fail on 5xx, socket "
        "errors or RSS growth.",
    )
    parser.add_argument("--seconds", type=int, default=60, help="measured load (default 60)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up seconds (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="APP_WORKERS (default 1)")
    parser.add_argument(
        "--database-url",
        help="the service's database (e.g. postgresql://user@127.0.0.1/db), migrated first; "
        "default: a fresh SQLite file in a temporary folder",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--max-growth",
        type=float,
        default=MAX_GROWTH,
        help=f"RSS growth that fails the gate, as a fraction (default {MAX_GROWTH})",
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds the service has to come up"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("seconds", "workers", "connections", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 1:
        parser.error("--warmup must be at least 1: the memory baseline is taken after it")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


# --- the server's memory -----------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's supervisor, its workers, their helpers)."""
    found: list[int] = []
    waiting = [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError, ValueError):
                waiting.extend(int(child) for child in children.read_text().split())
    return found


def rss_kib(pid: int) -> int | None:
    """VmRSS of one process in KiB; None if it is gone (or a zombie, which has none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass(frozen=True)
class MemorySample:
    elapsed_s: float  # since the service started
    phase: str
    rss_kib: int  # summed over the process tree
    processes: int


def sample_tree(pid: int, started: float, phase: str) -> MemorySample:
    sizes = [size for p in process_tree(pid) if (size := rss_kib(p)) is not None]
    return MemorySample(round(time.monotonic() - started, 1), phase, sum(sizes), len(sizes))


class MemorySampler:
    """Samples the tree's RSS once a second on a thread of its own until stopped."""

    def __init__(self, pid: int, started: float) -> None:
        self.pid = pid
        self.started = started
        self.phase = "startup"
        self.samples: list[MemorySample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(sample_tree(self.pid, self.started, self.phase))
            self._stop.wait(1.0)

    def mark(self, phase: str) -> MemorySample:
        """Sample now, as the start of ``phase``: the baseline and the final figure."""
        self.phase = phase
        sample = sample_tree(self.pid, self.started, phase)
        self.samples.append(sample)
        return sample


# --- the service -------------------------------------------------------------------------


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
        fields = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", printed, re.MULTILINE))
        if set(fields) != {"client_id", "client_secret"}:
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
        """Until GET /api/hello answers 200. Any other answer is final: a broken spec or
        handler would show there before any load."""
        assert self.server is not None, "not started"
        status = self.server.wait_answering("/api/hello", seconds=timeout_s, ready=lambda _: True)
        if status == 200:
            return
        if status is not None:
            _, body = request(self.url, "GET", "/api/hello", timeout_s=1.0)
            raise SoakError(
                f"GET /api/hello answered {status} before any load: {body[:200]!r}\n"
                + self.log_tail()
            )
        if (code := self.exit_code()) is not None:
            raise SoakError(f"exited with code {code} before answering\n{self.log_tail()}")
        raise SoakError(f"no answer on {self.url}/api/hello within {timeout_s:.0f} s")

    def check_credential(self) -> None:
        status, body = request(
            self.url, "GET", "/api/records?limit=1", headers={"X-API-Key": self.api_key}
        )
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


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    timeout_s: float = HTTP_TIMEOUT_S,
) -> tuple[int | None, bytes]:
    """(status, body) of one request; (None, b"") when nothing answered."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        connection.close()


# --- the load ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """What soak.lua's done() reported for one wrk run."""

    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    statuses: dict[int, int]
    issued: dict[str, int]
    expected_status: dict[str, int]
    replayed: int

    def by_class(self) -> dict[str, int]:
        classes = {f"{digit}xx": 0 for digit in "2345"}
        for status, count in self.statuses.items():
            key = f"{status // 100}xx"
            classes[key] = classes.get(key, 0) + count
        return classes

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())


def run_load(service: Service, args: argparse.Namespace, seconds: int, tag: str) -> LoadResult:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "-s",
        str(SCRIPT),
        service.url,
        "--",
        service.api_key,
        tag,
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk did not finish within {seconds + 30} s") from None
    if completed.returncode != 0:
        raise WrkError(f"wrk exited with {completed.returncode}: {completed.stderr.strip()}")
    return parse_result(completed.stdout)


def parse_result(output: str) -> LoadResult:
    line = next((ln for ln in output.splitlines() if ln.startswith(RESULT_MARK)), None)
    if line is None:
        raise WrkError(f"wrk printed no {RESULT_MARK.strip()} line:\n{output}")
    raw: dict[str, Any] = json.loads(line.removeprefix(RESULT_MARK))
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    return LoadResult(
        seconds=round(seconds, 2),
        requests=raw["requests"],
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        socket_errors=raw["socket_errors"],
        statuses={int(status): count for status, count in sorted(raw["statuses"].items())},
        issued=raw["issued"],
        expected_status=raw["expected_status"],
        replayed=raw["replayed"],
    )


def status_findings(result: LoadResult, connections: int) -> list[str]:
    """Where the statuses differ from what the mix should get: every request of a kind with
    an expected status (400, 404) gets it, every other one a 2xx. Requests still in flight
    when wrk stopped have no answer, hence the tolerance of one per connection."""
    findings = []
    expected: dict[int, int] = {}
    for kind, status in result.expected_status.items():
        expected[status] = expected.get(status, 0) + result.issued.get(kind, 0)
    for status, want in sorted(expected.items()):
        got = result.statuses.get(status, 0)
        if not want - connections <= got <= want:
            findings.append(f"{got} answers {status}, expected {want} (the invalid share)")
    for status, count in result.statuses.items():
        if 300 <= status < 500 and status not in expected:
            findings.append(f"{count} unexpected answers {status}")
    return findings


# --- /metrics and the server log ----------------------------------------------------------


def metrics_cross_check(service: Service, wrk_5xx: int) -> dict[str, Any]:
    """The service's own count of 5xx answers, from ``http_requests_total`` on /metrics,
    next to what wrk saw. Skipped when /metrics is not served."""
    status, body = request(service.url, "GET", "/metrics")
    if status != 200:
        return {"checked": False, "reason": f"GET /metrics answered {status}"}
    total = errors = 0.0
    for family in text_string_to_metric_families(body.decode(errors="replace")):
        for sample in family.samples:
            if sample.name != "http_requests_total":
                continue
            total += sample.value
            if sample.labels.get("status", "").startswith("5"):
                errors += sample.value
    if total == 0:
        return {"checked": False, "reason": "/metrics has no http_requests_total samples"}
    report: dict[str, Any] = {
        "checked": True,
        "requests_total": int(total),
        "server_errors": int(errors),
        "wrk_server_errors": wrk_5xx,
        "agrees": int(errors) == wrk_5xx,
    }
    return report


_PLAIN_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d[ T]|(INFO|WARNING|ERROR|DEBUG|CRITICAL):|\$ )")
# A JSON line that may be an error (others are skipped unparsed: the log has one per request).
_WORTH_PARSING = re.compile(r'"(?:error|critical)"|"exception"|"status":\s*5\d\d')
MAX_TRACEBACK_LINES = 60  # kept: the first ones and, above all, the last ones
MAX_FAILED_REQUESTS = 5


def log_findings(path: Path, start: int = 0, end: int | None = None) -> dict[str, Any]:
    """Errors in the log between bytes ``start`` and ``end``: tracebacks, ERROR lines, the
    first traceback in full and the request lines (JSON access log) of the first 5xx.

    Reads both of the service's formats: JSON lines (``APP_LOG_FORMAT=json``, where a
    traceback is the ``exception`` field) and plain text (tracebacks over several lines).
    """
    findings: dict[str, Any] = {
        "tracebacks": 0,
        "error_lines": 0,
        "first_traceback": None,
        "failed_requests": [],
    }
    block: list[str] | None = None  # the plain-text traceback being collected
    previous = ""
    try:
        with path.open("rb") as log:
            log.seek(start)
            position = start
            for raw in log:
                position += len(raw)
                if end is not None and position > end:
                    break
                line = raw.decode(errors="replace").rstrip("\n")
                if block is not None:
                    if _PLAIN_RECORD.match(line):
                        findings["first_traceback"] = _shorten(block)
                        block = None
                    else:
                        block.append(line)
                if line.startswith("{"):
                    _json_line(line, findings)
                elif "Traceback (most recent call last)" in line:
                    findings["tracebacks"] += 1
                    if findings["first_traceback"] is None and block is None:
                        block = [previous, line]  # the record before it says what failed
                elif " ERROR " in line or line.startswith(("ERROR:", "CRITICAL:")):
                    findings["error_lines"] += 1
                previous = line
    except OSError:
        return findings
    if block is not None:
        findings["first_traceback"] = _shorten(block)
    return findings


def _shorten(lines: list[str]) -> str:
    if len(lines) > MAX_TRACEBACK_LINES:
        lines = [*lines[:10], "...", *lines[10 - MAX_TRACEBACK_LINES :]]
    return "\n".join(lines)


def _json_line(line: str, findings: dict[str, Any]) -> None:
    if not _WORTH_PARSING.search(line):
        return  # a request answered without error: most of the log
    try:
        record = json.loads(line)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    if record.get("level") in ("error", "critical"):
        findings["error_lines"] += 1
    exception = record.get("exception")
    if isinstance(exception, str):
        findings["tracebacks"] += 1
        if findings["first_traceback"] is None:
            context = {k: v for k, v in record.items() if k != "exception"}
            findings["first_traceback"] = json.dumps(context) + "\n" + exception
    status = record.get("status")
    failed = findings["failed_requests"]
    if isinstance(status, int) and status >= 500 and len(failed) < MAX_FAILED_REQUESTS:
        failed.append(line)


# --- the run ------------------------------------------------------------------------------


def memory_summary(
    samples: list[MemorySample], baseline: MemorySample, final: MemorySample
) -> dict[str, Any]:
    measured = sorted(
        [s for s in samples if s.phase in ("load", "final")] + [baseline],
        key=lambda s: s.elapsed_s,
    )
    peak = max(measured, key=lambda s: s.rss_kib)
    # Caches filling up grow fast and level off; a leak keeps its slope. The second half's
    # share of the growth tells the two apart.
    halfway = baseline.elapsed_s + (final.elapsed_s - baseline.elapsed_s) / 2
    middle = next(s for s in measured if s.elapsed_s >= halfway)
    size = baseline.rss_kib or 1
    return {
        "baseline_kib": baseline.rss_kib,
        "final_kib": final.rss_kib,
        "peak_kib": peak.rss_kib,
        "growth": round((final.rss_kib - baseline.rss_kib) / size, 4),
        "growth_second_half": round((final.rss_kib - middle.rss_kib) / size, 4),
        "processes": final.processes,
    }


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def render(
    measured: dict[str, Any], logs: dict[str, Any], findings: list[str], failures: list[str]
) -> str:
    result: LoadResult = measured["load"]
    warmup: LoadResult = measured["warmup"]
    memory, metrics = measured["memory"], measured["metrics"]
    usage: cpu.Usage | None = measured["cpu"]
    classes = result.by_class()
    exact = ", ".join(f"{status}: {count:,}" for status, count in result.statuses.items())
    errors = result.socket_errors
    mix = ", ".join(f"{kind} {count:,}" for kind, count in result.issued.items())
    replays_sent = result.issued.get("process_replay", 0)
    if metrics["checked"]:
        metric_line = (
            f"{metrics['server_errors']} 5xx of {metrics['requests_total']:,} counted by the "
            f"service, wrk saw {metrics['wrk_server_errors']}: "
            + ("agrees" if metrics["agrees"] else "DISAGREES")
        )
    else:
        metric_line = f"not checked ({metrics['reason']})"
    lines = [
        f"requests       {result.requests:,} in {result.seconds:.1f} s = {result.rps:,.0f} req/s; "
        f"latency p50 {result.p50_ms:.2f} ms, p90 {result.p90_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, max {result.max_ms:.0f} ms",
        f"statuses       2xx {classes['2xx']:,}  3xx {classes['3xx']:,}  "
        f"4xx {classes['4xx']:,}  5xx {classes['5xx']:,}   ({exact})",
        f"socket errors  {result.socket_error_count} (connect {errors['connect']}, read "
        f"{errors['read']}, write {errors['write']}, timeout {errors['timeout']})",
        f"mix sent       {mix}",
        f"replays        {result.replayed:,} answers Idempotent-Replayed, "
        f"{replays_sent:,} replays sent",
        f"warm-up        {warmup.requests:,} requests, 5xx {warmup.server_errors}, "
        f"socket errors {warmup.socket_error_count}",
        f"memory (RSS)   baseline {_mib(memory['baseline_kib'])}, final "
        f"{_mib(memory['final_kib'])}, peak {_mib(memory['peak_kib'])}, growth "
        f"{memory['growth']:+.1%}, of which {memory['growth_second_half']:+.1%} in the second "
        f"half ({memory['processes']} process(es))",
        f"/metrics       {metric_line}",
    ]
    if usage is not None:
        lines.append(
            f"machine        other processes used {usage.others:.2f} CPU and the hypervisor "
            f"stole {usage.steal:.2f} during the load"
            + (": req/s and latency are not comparable with a quiet run" if usage.noisy else "")
        )
    for part, label in (("serving", "server log"), ("setup", "setup log")):
        found = logs[part]
        lines.append(
            f"{label:<14} {found['tracebacks']} traceback(s), {found['error_lines']} ERROR "
            f"line(s) ({'python -m server' if part == 'serving' else 'migrate, clients create'})"
        )
    lines += [f"warning        {finding}" for finding in findings]
    for part in ("serving", "setup"):
        found = logs[part]
        if found["failed_requests"]:
            lines.append(f"first 5xx in the {part} log:")
            lines += [f"  | {line}" for line in found["failed_requests"]]
        if found["first_traceback"]:
            lines.append(f"first traceback in the {part} log:")
            shown = found["first_traceback"].splitlines()
            if part == "setup" and len(shown) > 8:  # not what the soak is about: in brief
                shown = [*shown[:4], "...", *shown[-3:]]
            lines += [f"  | {line}" for line in shown]
    lines.append("verdict        " + ("FAIL: " + "; ".join(failures) if failures else "PASS"))
    return "\n".join(lines)


def gate(
    result: LoadResult, warmup: LoadResult, memory: dict[str, Any], max_growth: float
) -> list[str]:
    failures = []
    for label, run in (("load", result), ("warm-up", warmup)):
        if run.server_errors:
            failures.append(f"{run.server_errors} answers 5xx during the {label}")
        if run.socket_error_count:
            failures.append(f"{run.socket_error_count} socket errors during the {label}")
    if result.requests == 0:
        failures.append("no request completed")
    if memory["growth"] >= max_growth:
        failures.append(f"RSS grew {memory['growth']:.1%} (limit {max_growth * 100:g} %)")
    return failures


def soak(args: argparse.Namespace, service: Service) -> dict[str, Any]:
    """Set up, start, load and measure the service; the report document. Raises SoakError
    when it cannot get that far."""
    service.prepare()
    service.start()
    tag = secrets.token_hex(4)
    with MemorySampler(service.pid, service.started) as sampler:
        service.wait_ready(args.ready_timeout)
        service.check_credential()
        sampler.mark("warmup")
        print(f"warm-up: {args.warmup} s", flush=True)
        warmup = run_load(service, args, args.warmup, f"{tag}-w")
        baseline = sampler.mark("load")
        print(
            f"load: {args.seconds} s (baseline RSS {_mib(baseline.rss_kib)} in "
            f"{baseline.processes} process(es))",
            flush=True,
        )
        before = cpu.snapshot(service.pid)
        result = run_load(service, args, args.seconds, f"{tag}-m")
        usage = cpu.usage(before, cpu.snapshot(service.pid))
        final = sampler.mark("final")
    if (code := service.exit_code()) is not None:
        raise SoakError(
            f"the service exited with code {code} during the load\n{service.log_tail()}"
        )
    memory = memory_summary(sampler.samples, baseline, final)
    metrics = metrics_cross_check(service, result.server_errors + warmup.server_errors)
    return {
        "warmup": warmup,
        "load": result,
        "memory": memory,
        "metrics": metrics,
        "samples": sampler.samples,
        "cpu": usage,
    }


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    # SIGTERM takes the same path as Ctrl-C, so the finally blocks stop the server.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    logs_dir = args.results_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = logs_dir / "soak-server.log"
    log_path.unlink(missing_ok=True)

    temporary = None
    database_url = args.database_url
    if database_url is None:
        temporary = Path(tempfile.mkdtemp(prefix="soak-db-"))
        database_url = f"sqlite:///{temporary / 'soak.db'}"
    database = "SQLite in " + str(temporary) if temporary else "--database-url"
    service = Service(database_url, args.workers, log_path)
    started = datetime.datetime.now(datetime.UTC)
    print(
        f"soak: python -m server (production, {args.workers} worker(s), {database}); wrk "
        f"-t{args.threads} -c{args.connections} {args.warmup} s warm-up + {args.seconds} s "
        f"of {SCRIPT.relative_to(REPO_ROOT)}",
        flush=True,
    )
    try:
        measured = soak(args, service)
    except (SoakError, WrkError) as error:
        print(f"error: {error}\n(the whole log: {log_path})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped, no results written", file=sys.stderr)
        return 130
    finally:
        service.stop()
        if temporary is None and service.client_id:
            # A shared database keeps the run's users and records, not a live credential.
            with contextlib.suppress(SoakError):
                service.manage("clients", "revoke", service.client_id)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    result: LoadResult = measured["load"]
    warmup: LoadResult = measured["warmup"]
    logs = {
        "setup": log_findings(log_path, 0, service.log_offset),
        "serving": log_findings(log_path, service.log_offset, service.log_end),
    }
    findings = status_findings(result, args.connections)
    if measured["metrics"].get("checked") and not measured["metrics"]["agrees"]:
        findings.append("the service's 5xx count on /metrics differs from wrk's")
    failures = gate(result, warmup, measured["memory"], args.max_growth)
    print("\n" + render(measured, logs, findings, failures))

    document = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "config": {
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "database": "sqlite (temporary file)" if temporary else "--database-url",
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "wrk_timeout_s": WRK_TIMEOUT_S,
            "script": str(SCRIPT.relative_to(REPO_ROOT)),
            "max_growth": args.max_growth,
        },
        "verdict": "FAIL" if failures else "PASS",
        "failures": failures,
        "warnings": findings,
        "load": {**asdict(result), "by_class": result.by_class()},
        "warmup": {**asdict(warmup), "by_class": warmup.by_class()},
        "memory": measured["memory"],
        "metrics": measured["metrics"],
        "server_log": {"path": str(log_path), **logs},
        "cpu_of_others_during_load": asdict(measured["cpu"]) if measured["cpu"] else None,
        "rss_samples": [asdict(sample) for sample in measured["samples"]],
    }
    json_path = args.results_dir / "soak.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {json_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
