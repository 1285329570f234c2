"""The Makefile's own promises, run for real in a scratch copy with stand-in tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_client_does_not_make_the_next_target_reinstall_the_virtualenv(
    tmp_path: Path,
) -> None:
    # `make client` rewrites generated_client/setup.py, which the virtualenv's stamp
    # depends on; the next `make run` or `make test` then reinstalled everything.
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "generated_client").mkdir()
    (tmp_path / "generated_client" / "setup.py").write_text("# generated\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    stand_ins = {
        "pip": "exit 0",
        # The generator rewrites the client, setup.py included.
        "openapi-python-client": "sleep 0.01; touch generated_client/setup.py",
    }
    for name, body in stand_ins.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    time.sleep(0.01)
    (tmp_path / ".venv" / ".installed-stamp").touch()

    def make(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", *args],
            cwd=tmp_path,
            env={**os.environ, "MAKEFLAGS": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert make("-q", "setup").returncode == 0  # up to date to begin with
    generated = make("client")
    assert generated.returncode == 0, generated.stderr
    assert make("-q", "setup").returncode == 0, "make client left the virtualenv stale"
