"""Who used the CPUs during a measurement: the benchmark itself, other processes, or the host.

On a 2-core shared machine a test suite running next door or a busy hypervisor can halve a
contender's req/s for one measurement. Nothing can prevent that from in here, but it can be
seen: the CPU time the whole machine spent, minus what the server under test and wrk spent,
is somebody else's; "steal" is time the hypervisor gave to other guests. Both are reported
per measurement, in CPUs (1.0 = one core's worth for the whole measurement), so a suspicious
number can be told apart from a real regression.

The same snapshots give the server's own cost: the CPU time (utime + stime) its process group
spent over the measurement, every thread and child included, which bench/run.py divides by
the requests wrk completed: CPU microseconds per request, a figure that does not depend on
how busy the rest of the machine was (req/s does).

Linux only (/proc); elsewhere every figure is None and the benchmark runs as before.
"""

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

# A measurement during which others took at least this much CPU is marked noisy.
NOISY_CPUS = 0.1

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    total: int  # ticks of all CPUs, idle included
    busy: int  # ticks spent running something (user, nice, system, irq, softirq)
    steal: int  # ticks the hypervisor ran another guest instead of us
    ours: int  # ticks used by the server's process group and by our reaped children (wrk)
    # Ticks used by the server's process group alone (threads and children); None: no server.
    server: int | None = None


@dataclass(frozen=True)
class Usage:
    others: float  # CPUs used by processes other than the server and wrk
    steal: float  # CPUs stolen by the hypervisor
    # CPU seconds (utime + stime) the server's process group spent over the measurement:
    # all its threads, its live children and the children it reaped meanwhile.
    server_cpu_s: float | None = None

    @property
    def noisy(self) -> bool:
        return self.others >= NOISY_CPUS or self.steal >= NOISY_CPUS


def _group_ticks(pgid: int) -> int:
    """utime + stime of every live process in process group ``pgid`` (all their threads), plus
    cutime + cstime: the children they reaped, so a worker that exits between two snapshots
    keeps its time in the total (a live child is counted once, by its own line)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited while we looked
        # The command name (field 2) may contain spaces: split after its closing parenthesis.
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:  # fields[0] is field 3 ("state") of proc(5)
            # utime, stime, cutime, cstime: fields 14-17 of proc(5).
            ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ticks


def snapshot(server_pgid: int | None) -> Snapshot | None:
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
        group = _group_ticks(server_pgid) if server_pgid is not None else None
    except (OSError, ValueError, IndexError):
        return None
    if len(values) < 8:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = round((children.ru_utime + children.ru_stime) * TICKS_PER_S)
    return Snapshot(
        total=sum(values),
        busy=user + nice + system + irq + softirq,
        steal=steal,
        ours=(group or 0) + reaped,
        server=group,
    )


def usage(before: Snapshot | None, after: Snapshot | None) -> Usage | None:
    if before is None or after is None or after.total <= before.total:
        return None
    cpus = os.cpu_count() or 1
    elapsed = (after.total - before.total) / cpus  # ticks of one CPU over the measurement
    ours = after.ours - before.ours
    others = max(0, (after.busy - before.busy) - ours)
    return Usage(
        others=others / elapsed,
        steal=(after.steal - before.steal) / elapsed,
        server_cpu_s=None
        if before.server is None or after.server is None
        else max(0, after.server - before.server) / TICKS_PER_S,
    )


def background(seconds: float = 1.0) -> Usage | None:
    """What the machine does while the benchmark does nothing: a warning sign before a run."""
    before = snapshot(None)
    time.sleep(seconds)
    return usage(before, snapshot(None))
