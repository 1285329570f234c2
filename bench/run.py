"""Benchmark entry point: the service against its peers, on this machine, in one run.

    .venv/bin/python -m bench.run [--quick] [--contenders service,fastapi-tutorial] ...

Each round starts every contender in turn (one worker, pinned to one CPU, wrk pinned to
another) on a fresh SQLite file of its own, checks it answers each workload with the expected
status, warms it up, measures it with wrk (and the CPU time the server process spent
meanwhile), and stops it (and deletes the file). Rounds
interleave the contenders so that a slow minute of a shared machine hits all of them rather
than one, and the medians over rounds are compared. A last phase measures the service with
several workers against one. The run prints a table and the targets' verdicts and writes
bench/results/latest.json and latest.png.

Exit status: 0 when the run completed (a missed target is a finding, not a crash), 1 when
nothing at all could be measured, 2 when wrk is missing or the arguments are wrong, 130 when
interrupted. Every server is stopped, and the run's temporary database directory removed, on
every one of those paths.
"""

import argparse
import datetime
import os
import shlex
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any, Literal, NoReturn

if __package__ in (None, ""):  # `python bench/run.py`: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu, report
from bench.loadgen import WrkError, WrkResult, probe, run_wrk, status_problems, wrk_command
from bench.report import Measurement
from bench.servers import CONTENDERS, Contender, Server, ServerStartError, running
from bench.workloads import (
    SCALING_MINIMUM,
    SCALING_WORKERS,
    SCALING_WORKLOAD,
    SUBJECT,
    TARGETS,
    WORKLOADS,
    Workload,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}


def _names(value: str, known: dict[str, Any], what: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown) or '(none given)'}; choose from "
            + ", ".join(known)
        )
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark the service against raw Starlette, FastAPI (as its SQL tutorial "
        "teaches it, and on async SQLAlchemy) and Flask with wrk.",
    )
    parser.add_argument(
        "--contenders",
        type=lambda v: _names(v, CONTENDERS, "contender"),
        default=list(CONTENDERS),
        help=f"comma-separated, default all: {','.join(CONTENDERS)}",
    )
    parser.add_argument(
        "--workloads",
        type=lambda v: _names(v, WORKLOADS_BY_NAME, "workload"),
        default=list(WORKLOADS_BY_NAME),
        help=f"comma-separated, default all: {','.join(WORKLOADS_BY_NAME)}",
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=int, help="seconds of wrk per measurement (default 5)")
    parser.add_argument("--warmup", type=int, help="seconds of wrk discarded first (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        help="measure again when other load disturbed a measurement, up to N times (default 1)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1 round of 2 s, 1 s warm-up"
    )
    parser.add_argument(
        "--no-scaling",
        dest="scaling",
        action="store_false",
        help=f"skip the {SCALING_WORKERS}-worker measurement of the service",
    )
    parser.add_argument(
        "--scaling-workers",
        type=int,
        default=SCALING_WORKERS,
        help=f"workers for the scaling measurement (default {SCALING_WORKERS})",
    )
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin server and wrk to CPUs"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds a server has to come up"
    )
    parser.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="where the run's temporary directory of SQLite files goes (default: the system's "
        "temporary directory); every contender's files are on the same filesystem",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    # --quick only changes the defaults: explicit --rounds/--duration/--warmup still win.
    if args.rounds is None:
        args.rounds = 1 if quick else 3
    if args.duration is None:
        args.duration = 2 if quick else 5
    if args.warmup is None:
        args.warmup = 1 if quick else 2
    for name in ("rounds", "duration", "threads", "connections", "scaling_workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.retries < 0:
        parser.error("--warmup and --retries must not be negative")
    return args


def pick_cpus(pin: bool) -> tuple[str | None, str | None]:
    """(server CPU, wrk CPU), so the two never compete for a core; (None, None) if we can't."""
    if not pin or shutil.which("taskset") is None:
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return str(cpus[0]), str(cpus[1])


class Runner:
    """Drives the rounds and collects one Measurement per (round, contender, workload)."""

    def __init__(
        self,
        args: argparse.Namespace,
        server_cpus: str | None,
        wrk_cpus: str | None,
        db_dir: Path,
    ):
        self.args = args
        self.server_cpus = server_cpus
        self.wrk_cpus = wrk_cpus
        # Fresh SQLite files go here, one per server start, deleted when it stops.
        self.db_dir = db_dir
        self.log_dir: Path = args.results_dir / "logs"
        self.measurements: list[Measurement] = []
        self.start_errors: dict[str, str] = {}

    def run(self) -> None:
        contenders = [CONTENDERS[name] for name in self.args.contenders]
        workloads = [WORKLOADS_BY_NAME[name] for name in self.args.workloads]
        for round_no in range(1, self.args.rounds + 1):
            print(f"\n== round {round_no}/{self.args.rounds}", flush=True)
            for contender in contenders:
                if contender.name in self.start_errors:
                    continue  # it could not start before; don't pay its timeout every round
                self.run_contender(round_no, contender, workloads)
            if self.args.scaling and SUBJECT in self.args.contenders:
                self.run_scaling(round_no)

    def run_contender(self, round_no: int, contender: Contender, workloads: list[Workload]) -> None:
        log_path = self.log_dir / f"r{round_no}-{contender.name}.log"
        db_path = self.db_dir / f"r{round_no}-{contender.name}.db"
        try:
            with running(
                contender, 1, self.server_cpus, log_path, db_path, self.args.ready_timeout
            ) as server:
                self.seed(server)
                for workload in workloads:
                    self.measure(server, workload, round_no, "main", self.wrk_cpus)
                    if server.exit_code is not None:
                        message = f"exited with code {server.exit_code} during the load"
                        print(f"  !! {contender.name}: {message}, see {log_path}", flush=True)
                        break
        except ServerStartError as error:
            self.report_start_error(contender.name, str(error), log_path)

    def run_scaling(self, round_no: int) -> None:
        """The service with one worker and with several, both unpinned with wrk unpinned:
        the ratio is only meaningful if both sides run under the same conditions."""
        if SUBJECT in self.start_errors:
            return
        workload = WORKLOADS_BY_NAME[SCALING_WORKLOAD]
        for workers in (1, self.args.scaling_workers):
            name = f"{SUBJECT} ({workers} workers)"
            if name in self.start_errors:
                return
            log_path = self.log_dir / f"r{round_no}-{SUBJECT}-scaling-w{workers}.log"
            db_path = self.db_dir / f"r{round_no}-{SUBJECT}-scaling-w{workers}.db"
            try:
                with running(
                    CONTENDERS[SUBJECT], workers, None, log_path, db_path, self.args.ready_timeout
                ) as server:
                    self.seed(server)
                    self.measure(server, workload, round_no, "scaling", None)
            except ServerStartError as error:
                self.report_start_error(name, str(error), log_path)
                return

    def seed(self, server: Server) -> None:
        """The fixture user, for contenders that get it through their API. A failure is only
        reported: the get_user probe then gets 404 and flags the measurement."""
        error = server.seed()
        if error is not None:
            print(f"  !! {server.contender.name}: could not create user 1: {error}", flush=True)

    def report_start_error(self, name: str, error: str, log_path: Path) -> None:
        self.start_errors[name] = error
        first, _, rest = error.partition("\n")
        print(f"  !! {name}: FAILED TO START, {first}; skipped from now on (log: {log_path})")
        for line in rest.splitlines():
            print(f"     | {line}")
        sys.stdout.flush()

    def measure(
        self,
        server: Server,
        workload: Workload,
        round_no: int,
        phase: Literal["main", "scaling"],
        wrk_cpus: str | None,
    ) -> None:
        name = server.contender.name
        label = name if phase == "main" else f"{name} x{server.workers}w"
        probe_result = probe(server.url, workload)
        result = None
        usage = None
        attempts = 0
        problems: list[str] = []
        if probe_result.status is None:
            pass  # no answer at all: status_problems() says why
        elif probe_result.status >= 500:
            # A broken contender answers an error page fast or slowly; neither is worth timing.
            problems.append("server error: not measured")
        else:
            try:
                if self.args.warmup:
                    run_wrk(
                        self._wrk(server, workload, self.args.warmup, wrk_cpus), self.args.warmup
                    )
                result, usage, attempts = self.load(server, workload, wrk_cpus, label)
            except WrkError as error:
                problems.append(f"wrk failed: {error}")
        if server.exit_code is not None:
            # Its last requests hit a closed port: wrk's figure times the crash, not the work.
            measured = (
                f" (wrk saw {result.rps:,.0f} req/s, {result.socket_error_count} socket errors)"
                if result
                else ""
            )
            problems.append(
                f"server exited with code {server.exit_code} during the load{measured}: not counted"
            )
            result = None
        expected = server.contender.expects(workload.name, workload.expected_status)
        problems = status_problems(workload, probe_result, result, expected) + problems
        cpu_us = report.cpu_per_request(usage, result)
        measurement = Measurement(
            phase=phase,
            round=round_no,
            contender=name,
            workload=workload.name,
            workers=server.workers,
            pinned=server.cpus is not None,
            probe=probe_result,
            wrk=result,
            cpu=usage,
            attempts=attempts,
            problems=problems,
            cpu_us_per_request=cpu_us,
        )
        self.measurements.append(measurement)
        cpu_text = f"{cpu_us:7,.0f}" if cpu_us is not None else f"{'-':>7}"
        numbers = (
            f"{result.rps:>9,.0f} req/s  cpu {cpu_text} µs/req  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
            if result
            else f"{'-':>9} req/s"
        )
        flag = f"  !! {'; '.join(problems)}" if problems else ""
        if usage is not None and usage.noisy:
            flag += f"  (noisy: {usage.others:.2f} CPU used by others, {usage.steal:.2f} stolen)"
        print(
            f"  {label:<18} {workload.name:<16} {numbers}  [status {probe_result.status}]{flag}",
            flush=True,
        )

    def load(
        self, server: Server, workload: Workload, wrk_cpus: str | None, label: str
    ) -> tuple[WrkResult, cpu.Usage | None, int]:
        """The wrk run proper. One that others disturbed is measured again (up to --retries
        times) and the least disturbed attempt kept: the disturbance came from outside, so
        the quieter number is the truer one. Returns (result, CPU usage, attempts made)."""
        best: tuple[WrkResult, cpu.Usage | None] | None = None
        attempt = 0
        for attempt in range(1, self.args.retries + 2):
            before = cpu.snapshot(server.pgid)
            result = run_wrk(
                self._wrk(server, workload, self.args.duration, wrk_cpus), self.args.duration
            )
            usage = cpu.usage(before, cpu.snapshot(server.pgid))
            if best is None or _disturbance(usage) < _disturbance(best[1]):
                best = (result, usage)
            if usage is None or not usage.noisy or attempt > self.args.retries:
                break
            print(
                f"  {label:<18} {workload.name:<16} {result.rps:>9,.0f} req/s  noisy "
                f"({usage.others:.2f} CPU used by others, {usage.steal:.2f} stolen): again",
                flush=True,
            )
        assert best is not None
        return best[0], best[1], attempt

    def _wrk(self, server: Server, workload: Workload, seconds: int, cpus: str | None) -> list[str]:
        return wrk_command(
            server.url,
            workload,
            threads=self.args.threads,
            connections=self.args.connections,
            duration_s=seconds,
            cpus=cpus,
        )


def _disturbance(usage: cpu.Usage | None) -> float:
    return 0.0 if usage is None else usage.others + usage.steal


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    # SIGTERM takes the same path as Ctrl-C, so the finally blocks stop every server.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "error: wrk is not installed; it generates the load. Install it with\n"
            "    apt-get install wrk        (Debian/Ubuntu; brew install wrk on macOS)",
            file=sys.stderr,
        )
        return 2
    for workload in WORKLOADS:
        workload.check()
    signal.signal(signal.SIGTERM, _interrupt)

    args.results_dir.mkdir(parents=True, exist_ok=True)
    log_dir = args.results_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    for old_log in log_dir.glob("*.log"):
        old_log.unlink()

    server_cpus, wrk_cpus = pick_cpus(args.pin)
    machine = report.machine_info()
    started = datetime.datetime.now(datetime.UTC)
    pinning = (
        f"server on CPU {server_cpus}, wrk on CPU {wrk_cpus}"
        if server_cpus
        else "no CPU pinning (needs taskset and 2 CPUs)"
    )
    print(
        f"bench: {', '.join(args.contenders)} x {', '.join(args.workloads)}; "
        f"{args.rounds} round(s) of wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s after {args.warmup} s warm-up; {pinning}\n"
        + report.machine_line(machine),
        flush=True,
    )
    background = cpu.background()
    if background is not None:
        print(
            f"background load before start: {background.others:.2f} CPU used by other processes, "
            f"{background.steal:.2f} stolen by the hypervisor"
            + (" -- EXPECT NOISY NUMBERS" if background.noisy else ""),
            flush=True,
        )

    if args.db_dir is not None:
        args.db_dir.mkdir(parents=True, exist_ok=True)
    db_dir = Path(tempfile.mkdtemp(prefix="bench-db-", dir=args.db_dir))
    print(
        f"databases: a fresh SQLite file (WAL, synchronous=NORMAL) per server start, in {db_dir}",
        flush=True,
    )
    runner = Runner(args, server_cpus, wrk_cpus, db_dir)
    try:
        runner.run()
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, no results written", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(db_dir, ignore_errors=True)
    finished = datetime.datetime.now(datetime.UTC)

    measurements = runner.measurements
    contenders = [c for c in args.contenders if any(m.contender == c for m in measurements)]
    cells = report.summarize(measurements, args.contenders, args.workloads)
    targets = report.evaluate_targets(cells, TARGETS)
    scaling = report.evaluate_scaling(
        measurements, SCALING_WORKLOAD, args.scaling_workers, SCALING_MINIMUM
    )

    labels = {name: CONTENDERS[name].label for name in args.contenders}
    print("\n" + report.render_table(cells, args.contenders, args.workloads, labels))
    if SUBJECT in contenders:
        print(f"\ntargets for the {SUBJECT} (req/s ratios, median over rounds):")
        print(report.render_targets(targets, scaling))
    else:
        print(f"\ntargets: not evaluated, the {SUBJECT} was not measured")
    for name, error in runner.start_errors.items():
        print(f"!! {name} failed to start: {error.partition(chr(10))[0]}")
    print(report.machine_line(machine))

    document = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "config": {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "server_cpus": server_cpus,
            "wrk_cpus": wrk_cpus,
            "noisy_retries": args.retries,
            "cpu_us_per_request": "utime + stime of the server's process group (every thread "
            "and child, /proc/<pid>/stat) over the measured wrk run, divided by the requests "
            f"wrk completed; clock tick {1e6 / cpu.TICKS_PER_S:,.0f} µs",
            "scaling_workers": args.scaling_workers if args.scaling else None,
            "database": {
                "engine": "SQLite, WAL, synchronous=NORMAL, fresh file per server start",
                "dir": str(db_dir),
            },
            "contenders": {name: asdict(CONTENDERS[name]) for name in args.contenders},
            "workloads": [asdict(WORKLOADS_BY_NAME[name]) for name in args.workloads],
        },
        "machine": machine,
        "background_load_at_start": background,
        "start_errors": runner.start_errors,
        "summary": [
            {
                **asdict(cell),
                "rps_ratio_to_reference": report.ratio(cell.rps, _reference(cells, cell, "rps")),
                "p50_ratio_to_reference": report.ratio(
                    cell.p50_ms, _reference(cells, cell, "p50_ms")
                ),
                "p99_ratio_to_reference": report.ratio(
                    cell.p99_ms, _reference(cells, cell, "p99_ms")
                ),
                "cpu_us_per_request_ratio_to_reference": report.ratio(
                    cell.cpu_us_per_request, _reference(cells, cell, "cpu_us_per_request")
                ),
            }
            for cell in cells.values()
        ],
        "targets": targets,
        "scaling": scaling,
        "measurements": measurements,
    }
    json_path = args.results_dir / "latest.json"
    report.write_json(json_path, document)
    print(f"\nwrote {json_path}")

    png_path = args.results_dir / "latest.png"
    try:
        report.write_png(
            png_path,
            cells,
            contenders,
            {name: CONTENDERS[name].label for name in contenders},
            # A contender keeps its colour whichever subset is run: C0..C9 is matplotlib's cycle.
            {name: f"C{index}" for index, name in enumerate(CONTENDERS)},
            args.workloads,
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, one worker each, "
            f"median of {args.rounds} round(s), {started:%Y-%m-%d %H:%M} UTC\n"
            + report.machine_line(machine),
        )
        print(f"wrote {png_path}")
    except ImportError:
        print("matplotlib is not installed: no chart (pip install -e '.[bench]')")

    return 0 if any(m.wrk is not None for m in measurements) else 1


def _reference(cells: dict[tuple[str, str], report.Cell], cell: report.Cell, attr: str) -> Any:
    reference = cells.get((report.REFERENCE, cell.workload))
    return getattr(reference, attr) if reference else None


if __name__ == "__main__":
    sys.exit(main())
