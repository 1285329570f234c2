"""The asynchronous delivery benchmark (``python -m bench.deliveries``) in small: a few
dispatches on SQLite, and twice on one PostgreSQL database (the second run finds the
first one's client and destinations and points them at its own downstreams)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e

DISPATCHES = 6
TIMEOUT_S = 120  # start-ups and a few deliveries: about 10 s


def bench(results: Path, *options: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.deliveries", "--dispatches", str(DISPATCHES)]
    command += ["--concurrency", "3", "--no-pin", "--settle-timeout", "60"]
    command += ["--results-dir", str(results), *options]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert completed.returncode == 0, f"{completed.stdout}\n{completed.stderr}"
    assert "deliveries/s" in completed.stdout
    database = "sqlite" if not options else "postgresql"
    summary: dict[str, Any] = json.loads((results / f"deliveries-{database}.json").read_text())
    return summary


def check(summary: dict[str, Any]) -> None:
    assert summary["dispatches"] == DISPATCHES
    assert (summary["deliveries"], summary["delivered"]) == (2 * DISPATCHES, 2 * DISPATCHES)
    assert summary["not_delivered"] == {}
    assert 0 < summary["accept_p50_ms"] <= summary["accept_p99_ms"]
    assert summary["deliveries_per_s"] > 0
    assert summary["seconds_first_202_to_settled"] >= summary["seconds_last_202_to_settled"]


def test_sqlite(tmp_path: Path) -> None:
    check(bench(tmp_path))


def test_postgresql_twice_on_one_database(tmp_path: Path, postgres_url: str) -> None:
    for _ in range(2):
        check(bench(tmp_path, "--database-url", postgres_url))
