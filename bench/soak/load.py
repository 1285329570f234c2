"""The load: wrk running bench/wrk/soak.lua, whose ``done()`` prints its whole result as one
JSON line (wrk's own text summary is never parsed), and what the statuses say."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.loadgen import WRK_TIMEOUT_S, WrkError

SCRIPT = Path(__file__).resolve().parents[1] / "wrk" / "soak.lua"
RESULT_MARK = "SOAK-RESULT "  # soak.lua's done() prints its JSON after this


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


def run_load(
    url: str, api_key: str, *, threads: int, connections: int, seconds: int, tag: str
) -> LoadResult:
    """wrk with soak.lua against ``url`` for ``seconds``, as ``api_key``; ``tag`` keeps this
    run's Idempotency-Keys and emails apart from every other run's."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "-s",
        str(SCRIPT),
        url,
        "--",
        api_key,
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
