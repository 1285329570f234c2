"""The run, start to end: the arguments, the service set up and started, the warm-up and the
measured load with the memory sampled throughout, then the verdict and the report."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from bench import cpu
from bench.loadgen import WrkError
from bench.servers import REPO_ROOT
from bench.soak.load import SCRIPT, LoadResult, run_load, status_findings
from bench.soak.logs import log_findings
from bench.soak.memory import MemorySampler, memory_summary, mib
from bench.soak.metrics import metrics_cross_check
from bench.soak.report import document, gate, render
from bench.soak.service import Service, SoakError

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
MAX_GROWTH = 0.10  # RSS growth over the load that fails the gate


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


def soak(args: argparse.Namespace, service: Service) -> dict[str, Any]:
    """Set up, start, load and measure the service; the measurements. Raises SoakError
    when it cannot get that far."""
    service.prepare()
    service.start()
    tag = secrets.token_hex(4)

    def load(seconds: int, phase: str) -> LoadResult:
        return run_load(
            service.url,
            service.api_key,
            threads=args.threads,
            connections=args.connections,
            seconds=seconds,
            tag=f"{tag}-{phase}",
        )

    with MemorySampler(service.pid, service.started) as sampler:
        service.wait_ready(args.ready_timeout)
        service.check_credential()
        sampler.mark("warmup")
        print(f"warm-up: {args.warmup} s", flush=True)
        warmup = load(args.warmup, "w")
        baseline = sampler.mark("load")
        print(
            f"load: {args.seconds} s (baseline RSS {mib(baseline.rss_kib)} in "
            f"{baseline.processes} process(es))",
            flush=True,
        )
        before = cpu.snapshot(service.pid)
        result = load(args.seconds, "m")
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

    report = document(
        args,
        started=started,
        temporary=temporary,
        measured=measured,
        logs=logs,
        log_path=log_path,
        findings=findings,
        failures=failures,
    )
    json_path = args.results_dir / "soak.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {json_path}")
    return 1 if failures else 0
