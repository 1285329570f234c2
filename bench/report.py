"""Turning measurements into the verdict: medians, ratios, targets, the table, JSON and PNG.

Nothing here starts processes or sends traffic; bench/run.py hands over plain measurements.
Ratios are always taken within one run (same machine, same minutes), never against numbers
from another day, because absolute req/s on a shared 2-core machine drift far more than that.
"""

import json
import os
import platform
import sqlite3
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from bench.cpu import NOISY_CPUS, Usage
from bench.loadgen import Probe, WrkResult
from bench.workloads import REFERENCE, SUBJECT, Target

Verdict = Literal["PASS", "FAIL", "N/A", "INVALID"]


@dataclass(frozen=True)
class Measurement:
    """One contender under one workload in one round."""

    phase: Literal["main", "scaling"]
    round: int
    contender: str
    workload: str
    workers: int
    pinned: bool
    probe: Probe
    wrk: WrkResult | None
    # CPU taken by other processes and by the hypervisor while wrk ran (None: not known).
    cpu: Usage | None = None
    # wrk runs made; more than one when a noisy one was measured again (kept: the quietest).
    attempts: int = 1
    # Reasons the numbers do not measure the intended response (wrong status...).
    problems: list[str] = field(default_factory=list)
    # The server's own CPU time (its process group: every thread and child, from /proc) over
    # the measured wrk run, divided by the requests wrk completed; None: not known.
    cpu_us_per_request: float | None = None

    @property
    def status_ok(self) -> bool:
        return not self.problems


def cpu_per_request(usage: Usage | None, wrk: WrkResult | None) -> float | None:
    """Server CPU microseconds per completed request, from one measurement."""
    if usage is None or usage.server_cpu_s is None or wrk is None or wrk.requests <= 0:
        return None
    return usage.server_cpu_s * 1e6 / wrk.requests


@dataclass(frozen=True)
class Cell:
    """Medians over rounds for one (contender, workload)."""

    contender: str
    workload: str
    rounds: int
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    rps_min: float | None
    rps_max: float | None
    socket_errors: int
    # Server CPU microseconds per request (median over rounds): req/s depend on how busy the
    # machine is, this much less.
    cpu_us_per_request: float | None
    cpu_others: float | None  # CPUs, median over rounds; see bench/cpu.py
    cpu_steal: float | None
    problems: list[str]

    @property
    def status_ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class TargetResult:
    workload: str
    baseline: str
    minimum: float
    ratio: float | None
    verdict: Verdict
    note: str = ""


@dataclass(frozen=True)
class ScalingResult:
    workload: str
    workers: int
    rps_one: float | None  # medians over rounds
    rps_many: float | None
    ratio: float | None
    minimum: float
    verdict: Verdict
    # Each round's req/s, to show how steady the multi-worker figure is (accept() balancing
    # between workers varies from one server start to the next).
    rounds_one: list[float] = field(default_factory=list)
    rounds_many: list[float] = field(default_factory=list)
    note: str = ""


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _cell(contender: str, workload: str, runs: list[Measurement]) -> Cell:
    measured = [m.wrk for m in runs if m.wrk is not None]
    rps = [r.rps for r in measured]
    problems = list(dict.fromkeys(p for m in runs for p in m.problems))  # unique, in order
    return Cell(
        contender=contender,
        workload=workload,
        rounds=len(measured),
        rps=_median(rps),
        p50_ms=_median([r.p50_ms for r in measured]),
        p99_ms=_median([r.p99_ms for r in measured]),
        rps_min=min(rps, default=None),
        rps_max=max(rps, default=None),
        socket_errors=sum(r.socket_error_count for r in measured),
        cpu_us_per_request=_median(
            [
                m.cpu_us_per_request
                for m in runs
                if m.wrk is not None and m.cpu_us_per_request is not None
            ]
        ),
        cpu_others=_median([m.cpu.others for m in runs if m.cpu is not None]),
        cpu_steal=_median([m.cpu.steal for m in runs if m.cpu is not None]),
        problems=problems,
    )


def summarize(
    measurements: list[Measurement], contenders: list[str], workloads: list[str]
) -> dict[tuple[str, str], Cell]:
    """One Cell per (contender, workload) of the main phase that has at least one attempt."""
    cells = {}
    for contender in contenders:
        for workload in workloads:
            runs = [
                m
                for m in measurements
                if m.phase == "main" and m.contender == contender and m.workload == workload
            ]
            if runs:
                cells[contender, workload] = _cell(contender, workload, runs)
    return cells


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def evaluate_targets(
    cells: dict[tuple[str, str], Cell], targets: tuple[Target, ...]
) -> list[TargetResult]:
    results = []
    for target in targets:
        subject = cells.get((SUBJECT, target.workload))
        baseline = cells.get((target.baseline, target.workload))
        value = ratio(subject.rps if subject else None, baseline.rps if baseline else None)
        verdict: Verdict
        note = ""
        flagged = [c.contender for c in (subject, baseline) if c is not None and not c.status_ok]
        if flagged:
            # A contender answering the wrong status did different work: no verdict either way.
            verdict = "INVALID"
            note = f"{', '.join(flagged)} flagged, see table"
        elif value is None:
            verdict = "N/A"
            missing = [name for name, c in ((SUBJECT, subject), (target.baseline, baseline))
                       if c is None or c.rps is None]  # fmt: skip
            note = "not measured: " + ", ".join(missing)
        else:
            verdict = "PASS" if value >= target.minimum else "FAIL"
        results.append(
            TargetResult(target.workload, target.baseline, target.minimum, value, verdict, note)
        )
    return results


def evaluate_scaling(
    measurements: list[Measurement], workload: str, workers: int, minimum: float
) -> ScalingResult | None:
    runs = [m for m in measurements if m.phase == "scaling"]
    if not runs:
        return None
    one_runs = [m for m in runs if m.workers == 1]
    many_runs = [m for m in runs if m.workers == workers]
    one = _cell(SUBJECT, workload, one_runs)
    many = _cell(SUBJECT, workload, many_runs)
    value = ratio(many.rps, one.rps)
    verdict: Verdict
    note = ""
    if not (one.status_ok and many.status_ok):
        verdict, note = "INVALID", "; ".join(dict.fromkeys(one.problems + many.problems))
    elif value is None:
        verdict, note = "N/A", "not measured"
    else:
        verdict = "PASS" if value >= minimum else "FAIL"
    return ScalingResult(
        workload,
        workers,
        one.rps,
        many.rps,
        value,
        minimum,
        verdict,
        rounds_one=[m.wrk.rps for m in one_runs if m.wrk],
        rounds_many=[m.wrk.rps for m in many_runs if m.wrk],
        note=note,
    )


# ---------------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _command_output(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (completed.stdout or completed.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("connexion", "starlette", "uvicorn", "uvloop", "httptools", "orjson",
                    "fastapi", "pydantic", "flask", "gunicorn",
                    "sqlalchemy", "aiosqlite", "sqlmodel", "anyio"):  # fmt: skip
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_model": _cpu_model(),
        "nproc": os.cpu_count(),
        "usable_cpus": sorted(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _command_output(["wrk", "--version"]),
        "git": _command_output(["git", "describe", "--always", "--dirty"]),
        "packages": versions,
    }


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"machine: {machine['cpu_model']}, nproc {machine['nproc']}, "
        f"Python {machine['python']}, kernel {machine['kernel']}"
    )


# ------------------------------------------------------------------------------------ table


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_table(
    cells: dict[tuple[str, str], Cell],
    contenders: list[str],
    workloads: list[str],
    labels: dict[str, str] | None = None,
) -> str:
    """One row per (workload, contender), with every ratio taken against REFERENCE."""
    width = max([10, *(len(c) for c in contenders)])
    header = (
        f"{'workload':<16} {'contender':<{width}} {'req/s':>9} {'ratio':>6} {'spread':>7} "
        f"{'cpu µs/req':>10} {'ratio':>6} "
        f"{'p50 ms':>7} {'ratio':>6} {'p99 ms':>7} {'ratio':>6}  note"
    )
    lines = [header, "-" * len(header)]
    for workload in workloads:
        reference = cells.get((REFERENCE, workload))
        ref_rps = reference.rps if reference else None
        ref_cpu = reference.cpu_us_per_request if reference else None
        ref_p50 = reference.p50_ms if reference else None
        ref_p99 = reference.p99_ms if reference else None
        for contender in contenders:
            cell = cells.get((contender, workload))
            if cell is None:
                continue
            notes = []
            if not cell.status_ok:
                notes.append("FLAGGED: " + "; ".join(cell.problems))
            if cell.socket_errors:
                notes.append(f"{cell.socket_errors} socket errors")
            if cell.cpu_others is not None and cell.cpu_others >= NOISY_CPUS:
                notes.append(f"noisy: others used {cell.cpu_others:.2f} CPU")
            if cell.cpu_steal is not None and cell.cpu_steal >= NOISY_CPUS:
                notes.append(f"noisy: {cell.cpu_steal:.2f} CPU stolen")
            if cell.rps is None and cell.status_ok:
                notes.append("not measured")
            # (max - min) / median over rounds: how far to trust small differences.
            spread = "-"
            if (
                cell.rounds > 1
                and cell.rps
                and cell.rps_max is not None
                and cell.rps_min is not None
            ):
                spread = f"{(cell.rps_max - cell.rps_min) / cell.rps:.0%}"
            flag = "!" if not cell.status_ok else " "
            lines.append(
                f"{workload:<16} {contender:<{width}}{flag}{_num(cell.rps, ',.0f'):>9} "
                f"{_num(ratio(cell.rps, ref_rps), '.2f'):>6} "
                f"{spread:>7} "
                f"{_num(cell.cpu_us_per_request, ',.0f'):>10} "
                f"{_num(ratio(cell.cpu_us_per_request, ref_cpu), '.2f'):>6} "
                f"{_num(cell.p50_ms, '.2f'):>7} "
                f"{_num(ratio(cell.p50_ms, ref_p50), '.2f'):>6} "
                f"{_num(cell.p99_ms, '.2f'):>7} "
                f"{_num(ratio(cell.p99_ms, ref_p99), '.2f'):>6}  " + " | ".join(notes)
            )
    lines += [
        "-" * len(header),
        f"ratio = contender / {REFERENCE} on the same workload in this run (req/s: higher is "
        "better;",
        "cpu and latency: lower is better). spread = (max - min) / median req/s over the "
        "rounds. ! = flagged.",
        "cpu µs/req = the server's own CPU time (utime + stime of its process group, all "
        "threads and",
        "children, from /proc) over the measured run / requests completed; median over rounds.",
    ]
    if labels:
        lines.append("contenders: " + "; ".join(f"{c} = {labels[c]}" for c in contenders))
    return "\n".join(lines)


def render_targets(targets: list[TargetResult], scaling: ScalingResult | None) -> str:
    lines = []
    for t in targets:
        lines.append(
            f"{t.verdict:<7}  {t.workload:<16} {SUBJECT + '/' + t.baseline:<26} "
            f"{_num(t.ratio, '.3f'):>6}x  (target >= {t.minimum:.2f})"
            + (f"  [{t.note}]" if t.note else "")
        )
    if scaling is not None:
        lines.append(
            f"{scaling.verdict:<7}  {scaling.workload:<16} "
            f"{f'{scaling.workers} vs 1 worker':<26} {_num(scaling.ratio, '.3f'):>6}x  "
            f"(target >= {scaling.minimum:.2f})  {SUBJECT} unpinned, "
            f"{_num(scaling.rps_many, ',.0f')} vs {_num(scaling.rps_one, ',.0f')} req/s"
            + (f"  [{scaling.note}]" if scaling.note else "")
        )
        if len(scaling.rounds_many) > 1:
            lines.append(
                f"{'':<7}  rounds: {scaling.workers} workers "
                + " / ".join(f"{v:,.0f}" for v in scaling.rounds_many)
                + ", 1 worker "
                + " / ".join(f"{v:,.0f}" for v in scaling.rounds_one)
            )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ JSON and PNG


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, bytes):  # request bodies
        return value.decode(errors="replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_png(
    path: Path,
    cells: dict[tuple[str, str], Cell],
    contenders: list[str],
    labels: dict[str, str],
    colors: dict[str, str],
    workloads: list[str],
    title: str,
) -> None:
    """Two panels of grouped bars, one group per workload and one bar per contender: req/s
    (labelled with the ratio to REFERENCE) above, server CPU microseconds per request below."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt

    figure, (rps_axes, cpu_axes) = plt.subplots(
        2, 1, figsize=(12, 10), layout="constrained", sharex=True
    )
    width = 0.8 / max(len(contenders), 1)
    for index, contender in enumerate(contenders):
        offset = (index - (len(contenders) - 1) / 2) * width
        positions = [i + offset for i in range(len(workloads))]
        rps_heights, rps_texts, cpu_heights, cpu_texts, hatches = [], [], [], [], []
        for workload in workloads:
            cell = cells.get((contender, workload))
            reference = cells.get((REFERENCE, workload))
            rps = cell.rps if cell else None
            rps_heights.append(rps or 0.0)
            if rps is None:
                rps_texts.append("n/a")
            else:
                share = ratio(rps, reference.rps if reference else None)
                rps_texts.append(f"{rps:,.0f}" + (f"\n{share:.2f}x" if share is not None else ""))
            cpu = cell.cpu_us_per_request if cell else None
            cpu_heights.append(cpu or 0.0)
            cpu_texts.append("n/a" if cpu is None else f"{cpu:,.0f}")
            hatches.append("//" if cell and not cell.status_ok else "")
        for axes, heights, texts, label in (
            (rps_axes, rps_heights, rps_texts, labels[contender]),
            (cpu_axes, cpu_heights, cpu_texts, None),
        ):
            bars = axes.bar(positions, heights, width, label=label, color=colors[contender])
            for bar, hatch, text in zip(bars, hatches, texts, strict=True):
                bar.set_hatch(hatch)
                if hatch:
                    text += "\nFLAGGED"
                axes.annotate(
                    text,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    cpu_axes.set_xticks(range(len(workloads)), workloads)
    rps_axes.set_ylabel("requests per second (median over rounds)")
    rps_axes.yaxis.set_major_formatter("{x:,.0f}")
    rps_axes.set_title(title, fontsize=10)
    rps_axes.legend(title=f"labels: req/s and ratio to {REFERENCE}", fontsize=9)
    cpu_axes.set_ylabel("server CPU µs per request (median; lower is better)")
    cpu_axes.yaxis.set_major_formatter("{x:,.0f}")
    for axes in (rps_axes, cpu_axes):
        axes.margins(y=0.2)
        axes.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=110)
    plt.close(figure)
