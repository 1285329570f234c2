"""``python -m bench.inprocess`` measures every workload of ``make bench`` as it is meant: a
workload that answers anything but its expected status ends the run instead of timing an
error path (get_user once timed the 404 of a database without its seeded user)."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvloop

from bench import inprocess
from bench.workloads import WORKLOADS, Workload
from server.http import pipeline


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_each_workload_answers_its_expected_status(
    tmp_path: Path, workload: Workload, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "stages", pipeline.stages)  # build() replaces it
    app = inprocess.build(tmp_path, telemetry=True, access_log=False)
    best = uvloop.run(inprocess.measure(app, workload, requests=20, rounds=1))
    assert 0 < best < 1_000_000
