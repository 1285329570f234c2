"""Fan-out benchmark: ``POST /api/dispatch`` to two destinations that each answer after 50 ms.

    .venv/bin/python -m bench.fanout [--connections 32] [--duration 5] [--rounds 3] [--quick]

Two downstream servers (bench/downstream.py, a 50 ms sleep) and the service start on
loopback; the service's database holds the two destinations. wrk keeps 32 dispatches in
flight for the measured seconds (server on one CPU, wrk on the other, as in bench.run).
The target is the median latency (p50) under 60 ms: the two 50 ms calls must overlap and
the gateway add little. The overhead is the service's p50 minus the p50 of one
destination measured directly, under the same concurrency, in the same run. Next to it,
the service's own CPU time per dispatch (its process group's user + system time over the
measured run, divided by the dispatches answered): what decides how many dispatches a core
carries, steadier than req/s on a shared machine.

Writes bench/results/fanout.json. Exit status: 0 when measured (a missed target is a
finding), 1 when nothing could be measured, 2 when wrk is missing.
"""

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench import cpu, report
from bench.loadgen import WrkError, WrkResult, probe, run_wrk, wrk_command
from bench.run import RESULTS_DIR, pick_cpus
from bench.servers import CONTENDERS, Contender, ServerStartError, running
from bench.workloads import JSON, Workload

TARGET_P50_MS = 60.0
DELAY_MS = 50
DISPATCH = Workload(
    "dispatch",
    "POST",
    "/api/dispatch",
    200,
    script="dispatch.lua",
    body=b'{"payload": {"order_id": 1042, "total": 99.5}}',
    headers=JSON,
)
# The same request, straight to one destination: what the gateway's answer cannot beat.
DIRECT = dataclasses.replace(DISPATCH, name="direct", path="/hook")
DOWNSTREAM = Contender("downstream", "50 ms downstream", "bench.downstream:app", "uvicorn")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--connections", type=int, default=32, help="dispatches in flight")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds discarded first")
    parser.add_argument("--rounds", type=int, default=3, help="measurements (median kept)")
    parser.add_argument(
        "--workers", type=int, default=1, help="service workers (more than 1: not pinned)"
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s, 1 s warm-up")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2, 1
    return args


def measure(
    url: str, workload: Workload, seconds: int, args: argparse.Namespace, cpus: str | None
) -> WrkResult:
    command = wrk_command(
        url, workload, threads=1, connections=args.connections, duration_s=seconds, cpus=cpus
    )
    return run_wrk(command, seconds)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    DISPATCH.check()
    server_cpu, wrk_cpu = pick_cpus(True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    logs = args.results_dir / "logs"
    logs.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    print(
        f"fan-out: 2 destinations answering after {DELAY_MS} ms, {args.connections} dispatches "
        f"in flight, {args.rounds} x {args.duration} s; target p50 < {TARGET_P50_MS:.0f} ms",
        flush=True,
    )
    direct: list[WrkResult] = []
    dispatched: list[WrkResult] = []
    cpu_us: list[float] = []  # the service's CPU per dispatch, each round
    try:
        with ExitStack() as stack:
            downstreams = [
                # On wrk's CPU: the service's CPU is the service's alone, as in bench.run.
                stack.enter_context(
                    running(DOWNSTREAM, 1, wrk_cpu, logs / f"fanout-{name}.log", work / name, 30)
                )
                for name in ("a", "b")
            ]
            service = dataclasses.replace(
                CONTENDERS["service"],
                env={
                    **CONTENDERS["service"].env,
                    "APP_DISPATCH_ALLOWED_HOSTS": '["127.0.0.1"]',
                    "BENCH_DESTINATIONS": ",".join(
                        f"{name}={server.url}/hook"
                        for name, server in zip("ab", downstreams, strict=True)
                    ),
                },
                seed_via_api=False,
            )
            server = stack.enter_context(
                running(
                    service,
                    args.workers,
                    server_cpu if args.workers == 1 else None,
                    logs / "fanout-service.log",
                    work / "db",
                    30,
                )
            )
            answer = probe(server.url, DISPATCH)
            if answer.status != 200 or '"summary":"complete"' not in answer.body:
                print(f"error: the probe dispatch answered {answer.status}: {answer.body}")
                return 1
            if args.warmup:
                measure(server.url, DISPATCH, args.warmup, args, wrk_cpu)
            for round_no in range(1, args.rounds + 1):
                direct.append(measure(downstreams[0].url, DIRECT, args.duration, args, wrk_cpu))
                before = cpu.snapshot(server.pgid)
                dispatched.append(measure(server.url, DISPATCH, args.duration, args, wrk_cpu))
                used = report.cpu_per_request(
                    cpu.usage(before, cpu.snapshot(server.pgid)), dispatched[-1]
                )
                if used is not None:
                    cpu_us.append(used)
                for label, result in (("direct", direct[-1]), ("dispatch", dispatched[-1])):
                    cost = f"  cpu {used:6,.0f} µs/dispatch" if label == "dispatch" and used else ""
                    print(
                        f"  round {round_no} {label:<8} {result.rps:>7,.0f} req/s  "
                        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                        f"non-2xx {result.non_2xx_3xx}  socket errors "
                        f"{result.socket_error_count}{cost}",
                        flush=True,
                    )
    except (ServerStartError, WrkError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    p50 = statistics.median(r.p50_ms for r in dispatched)
    cpu_median = statistics.median(cpu_us) if cpu_us else None
    p99 = statistics.median(r.p99_ms for r in dispatched)
    baseline = statistics.median(r.p50_ms for r in direct)
    errors = sum(r.non_2xx_3xx + r.socket_error_count for r in dispatched)
    verdict = "PASS" if p50 < TARGET_P50_MS and errors == 0 else "FAIL"
    summary = {
        "connections": args.connections,
        "workers": args.workers,
        "destinations": 2,
        "delay_ms": DELAY_MS,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "dispatch_p50_ms": round(p50, 2),
        "dispatch_p99_ms": round(p99, 2),
        "dispatch_rps": round(statistics.median(r.rps for r in dispatched), 1),
        "dispatch_cpu_us": round(cpu_median, 1) if cpu_median is not None else None,
        "direct_p50_ms": round(baseline, 2),
        "overhead_p50_ms": round(p50 - baseline, 2),
        "errors": errors,
        "target_p50_ms": TARGET_P50_MS,
        "verdict": verdict,
    }
    (args.results_dir / "fanout.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\ndispatch p50 {p50:.2f} ms (p99 {p99:.2f} ms), service CPU "
        f"{cpu_median or 0:,.0f} µs per dispatch; one destination alone p50 "
        f"{baseline:.2f} ms; overhead {p50 - baseline:.2f} ms; errors {errors}\n"
        f"target p50 < {TARGET_P50_MS:.0f} ms: {verdict}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
