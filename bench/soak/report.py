"""The verdict and the report: the gate over the measurements, the summary printed for a
person and the JSON document written to bench/results/soak.json."""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import cpu
from bench.loadgen import WRK_TIMEOUT_S
from bench.servers import REPO_ROOT
from bench.soak.load import SCRIPT, LoadResult
from bench.soak.memory import mib


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
        f"memory (RSS)   baseline {mib(memory['baseline_kib'])}, final "
        f"{mib(memory['final_kib'])}, peak {mib(memory['peak_kib'])}, growth "
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


def document(
    args: argparse.Namespace,
    *,
    started: datetime.datetime,
    temporary: Path | None,
    measured: dict[str, Any],
    logs: dict[str, Any],
    log_path: Path,
    findings: list[str],
    failures: list[str],
) -> dict[str, Any]:
    """The JSON report of one run."""
    result: LoadResult = measured["load"]
    warmup: LoadResult = measured["warmup"]
    return {
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
