"""The server's memory: the resident size of its process tree, sampled once a second, and
what the samples say about growth over the load."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"
