"""The README's shell examples, run in order against a live service, as a newcomer would
type them after ``make run``: each ``$`` command of a ```` ```sh ```` block that calls the
service (``curl``, ``python -m server clients create``, ``export``), with the answer's
shape compared to the one the README shows under it (the status line, and the top-level
fields of a JSON answer). The README's made-up client id and secret are replaced by the
ones ``clients create`` really printed; the service's address by the live server's; the
destination of the gateway example by a local one. So the README cannot go stale."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server import migrate
from tests.databases import sqlite_url
from tests.e2e.conftest import ROOT, LiveServer, start_server
from tests.json_service import JsonService

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"
DOCUMENTED_DESTINATION = "http://127.0.0.1:9001"
RUNS = re.compile(r"^(curl |\.venv/bin/python -m server clients create|export |KEY=)")


@dataclass
class Example:
    line: int
    command: str
    expected: list[str]


def examples(text: str) -> list[Example]:
    """Every ``$`` command of the ```` ```sh ```` blocks, with the lines shown under it."""
    found: list[Example] = []
    in_block = False
    current: Example | None = None
    continued = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("```"):
            in_block = line == "```sh" and not in_block
            current, continued = None, False
            continue
        if not in_block:
            continue
        if continued and current is not None:
            current.command += "\n" + line
        elif line.startswith("$ "):
            current = Example(number, line[2:], [])
            found.append(current)
        elif current is not None and line:
            current.expected.append(line)
        elif not line:
            current = None
        continued = line.endswith("\\")
    return found


def top_level_keys(text: str) -> set[str]:
    """The keys at the outermost level of a JSON object, even one abbreviated with ``...``."""
    keys, depth, in_string, escaped, start = set(), 0, False, False, -1
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                rest = text[index + 1 :].lstrip()
                if depth == 1 and rest.startswith(":"):
                    keys.add(text[start + 1 : index])
            continue
        if char == '"':
            in_string, start = True, index
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return keys


def shape(lines: list[str]) -> tuple[int | None, set[str]]:
    """The status and the JSON answer's top-level fields a README example shows."""
    status = None
    if lines and lines[0].startswith("HTTP/1.1 "):
        status = int(lines[0].split()[1])
    body = "\n".join(line.split("      #")[0] for line in lines if not line.startswith("HTTP/"))
    body = body[body.find("{") :] if "{" in body else ""
    return status, top_level_keys(body)


@pytest.fixture(scope="module")
def destination() -> Iterator[str]:
    with JsonService(201, {"invoice": 77}).running() as service:
        yield service.url


@pytest.fixture(scope="module")
def fresh_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    folder = tmp_path_factory.mktemp("readme")
    database_url = sqlite_url(folder / "readme.db")
    migrate.upgrade(database_url)  # as make run does, and nothing more
    server = start_server(
        database_url, folder / "server.log", APP_DISPATCH_ALLOWED_HOSTS='["127.0.0.1"]'
    )
    try:
        yield server, database_url
    finally:
        server.stop()


def test_the_readmes_shell_examples_hold(
    fresh_service: tuple[LiveServer, str], destination: str, tmp_path: Path
) -> None:
    server, database_url = fresh_service
    found = [e for e in examples(README.read_text()) if RUNS.match(e.command)]
    assert len(found) >= 10, "the README's examples were not found"
    documented: dict[str, str] = {}  # the README's made-up values -> the real ones
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "APP_DATABASE_URL": database_url,
    }
    state = tmp_path / "state.sh"
    state.write_text("")
    for example in found:
        command = example.command.replace(DOCUMENTED_URL, server.url)
        command = command.replace(DOCUMENTED_DESTINATION, destination)
        # The secret starts with the client id: the longer made-up value goes first.
        for made_up in sorted(documented, key=len, reverse=True):
            command = command.replace(made_up, documented[made_up])
        # One shell per command, with what earlier ones exported, as one terminal would.
        script = f"set -e\n. {state}\n{command}\nexport -p > {state}\n"
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        where = f"README.md:{example.line}: {example.command.splitlines()[0]}"
        assert done.returncode == 0, f"{where}\n{done.stderr}"
        if example.command.startswith(".venv/bin/python -m server clients create"):
            printed = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", done.stdout, re.M))
            shown = dict(
                re.findall(
                    r"^(client_id|client_secret):\s+(\S+)$", "\n".join(example.expected), re.M
                )
            )
            documented.update({shown[k]: printed[k] for k in shown})
            continue
        expected_status, expected_keys = shape(example.expected)
        if not example.expected:
            continue
        lines = done.stdout.replace("\r\n", "\n").split("\n")
        actual_status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else None
        assert actual_status == expected_status, f"{where}\n{done.stdout[:500]}"
        body = done.stdout[done.stdout.find("{") :] if "{" in done.stdout else ""
        if expected_keys:
            answer = json.loads(body)
            assert set(answer) == expected_keys, f"{where}\n{body[:500]}"
    assert documented, "the README's clients create example did not run"
    assert os.path.getsize(state) > 0
