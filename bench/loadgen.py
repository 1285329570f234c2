"""Load generation: one real request to check the status, then wrk, and wrk's report parsed.

wrk is used because a Python load generator would be slower than the servers it measures.
It only reports "responses with status > 399" (as "Non-2xx or 3xx responses"), not which
status came back, so the one-off probe with urllib is what proves the status is the right one.
"""

import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench.workloads import Workload

WRK_TIMEOUT_S = 2  # per-request timeout inside wrk; a slower answer counts as a socket error
PROBE_TIMEOUT_S = 5.0
_UNIT_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


class WrkError(RuntimeError):
    """wrk failed, hung, or printed something this parser does not understand."""


@dataclass(frozen=True)
class Probe:
    status: int | None
    content_type: str | None
    body: str  # first bytes of the answer, for the JSON report
    error: str | None = None


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: dict[str, int]

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())


def probe(base_url: str, workload: Workload) -> Probe:
    request = urllib.request.Request(
        base_url + workload.path,
        data=workload.body,
        method=workload.method,
        headers=workload.headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
            return Probe(
                response.status, response.headers.get("Content-Type"), _head(response.read())
            )
    except urllib.error.HTTPError as error:  # a 4xx/5xx is an answer, not a failure
        return Probe(error.code, error.headers.get("Content-Type"), _head(error.read()))
    except OSError as error:
        return Probe(None, None, "", error=f"{type(error).__name__}: {error}")


def _head(body: bytes) -> str:
    return body[:300].decode(errors="replace")


def wrk_command(
    base_url: str,
    workload: Workload,
    *,
    threads: int,
    connections: int,
    duration_s: int,
    cpus: str | None,
) -> list[str]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "--latency",
    ]
    for name, value in workload.headers.items():
        command += ["-H", f"{name}: {value}"]
    if workload.script_path is not None:
        command += ["-s", str(workload.script_path)]
    command.append(base_url + workload.path)
    return ["taskset", "-c", cpus, *command] if cpus is not None else command


def run_wrk(command: list[str], duration_s: int) -> WrkResult:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish within {duration_s + 30} s") from error
    if completed.returncode != 0:
        raise WrkError(f"wrk exited with {completed.returncode}: {completed.stderr.strip()}")
    return parse_wrk(completed.stdout)


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_TO_MS[unit]


def _search(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise WrkError(f"wrk output has no match for {pattern!r}:\n{text}")
    return match


def parse_wrk(output: str) -> WrkResult:
    """Read the numbers out of wrk's ``--latency`` report (the format of wrk 4.x)."""
    unit = r"(us|ms|s|m|h)"
    total = _search(rf"^\s*(\d+) requests in ([\d.]+){unit}", output)
    p50 = _search(rf"^\s*50(?:\.0+)?%\s+([\d.]+){unit}\s*$", output)
    p99 = _search(rf"^\s*99(?:\.0+)?%\s+([\d.]+){unit}\s*$", output)
    rps = _search(r"^Requests/sec:\s+([\d.]+)", output)
    # Both lines are printed only when non-zero.
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_to_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        p50_ms=_to_ms(p50.group(1), p50.group(2)),
        p99_ms=_to_ms(p99.group(1), p99.group(2)),
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(g) for g in errors.groups()) if errors else (0, 0, 0, 0),
                strict=True,
            )
        ),
    )


def status_problems(
    workload: Workload, probe_result: Probe, result: WrkResult | None, expected: int | None = None
) -> list[str]:
    """Why this contender's numbers are not a fair measure of ``workload``; empty if they are.
    ``expected`` overrides the workload's status for a contender that answers another by
    design (``Contender.expected_status``)."""
    if expected is None:
        expected = workload.expected_status
    if probe_result.status is None:
        return [f"probe failed: {probe_result.error}"]
    problems = []
    if probe_result.status != expected:
        problems.append(f"probe got {probe_result.status}, expected {expected}")
    if result is not None:
        # wrk counts responses with status > 399; all or none of them should be, by design.
        should_fail = expected > 399
        wrong = result.requests - result.non_2xx_3xx if should_fail else result.non_2xx_3xx
        if wrong:
            kind = "below 400" if should_fail else ">= 400"
            problems.append(f"{wrong} of {result.requests} responses had status {kind}")
        if result.requests == 0:
            problems.append("no request completed")
    return problems
