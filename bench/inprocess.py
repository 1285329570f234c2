"""Microseconds per request in-process: the ASGI app called in a loop, no sockets.

Repeatable to a few percent where wrk over loopback on a shared 2-core machine varies by
10-20%, so it is how a layer's cost is told (see the telemetry figures in the README)::

    python -m bench.inprocess                      # GET /api/hello, as shipped (no request log)
    python -m bench.inprocess --access-log         # with the JSON request log (to /dev/null)
    python -m bench.inprocess --without-telemetry  # the pipeline without its edge
    python -m bench.inprocess --workload process_invalid  # any of bench.workloads, as the
                                                          # benchmark's API client
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from bench import service_setup
from bench.servers import SEED_PATH, SEED_USER
from bench.workloads import JSON, WORKLOADS, Workload
from server import app as composition
from server import migrate
from server.http import pipeline
from server.http.edge import Edge
from server.settings import Settings
from server.telemetry.logs import configure_logging

SECRET = "bench-secret-0123456789-0123456789-0123456789"
UNLIMITED = "1000000000/minute"


def build(folder: Path, *, telemetry: bool, access_log: bool) -> Any:
    database_url = f"sqlite:///{folder / 'inprocess.db'}"
    migrate.upgrade(database_url)
    asyncio.run(service_setup.seed(database_url))  # the API client the workloads run as
    if access_log:
        configure_logging("info", "json", Path("/dev/null").open("w"))
    stock = pipeline.stages

    def stages(options: pipeline.EdgeOptions, guard: Any, spec_file: Path) -> list[Any]:
        stack = stock(options, guard, spec_file)
        return stack if telemetry else [m for m in stack if getattr(m, "func", m) is not Edge]

    pipeline.stages = stages  # type: ignore[assignment]
    return composition.create_app(
        Settings(
            environment="production",
            secret_key=SECRET,
            database_url=database_url,
            rate_limit=UNLIMITED,
            rate_limit_anonymous=UNLIMITED,
            access_log=access_log,
        )
    )


# User 1, which get_user reads: what bench.servers posts to every contender before a run.
SEED = Workload("seed", "POST", SEED_PATH, 201, body=json.dumps(SEED_USER).encode(), headers=JSON)


def _caller(app: Any, workload: Workload, statuses: set[int]) -> Callable[[], Awaitable[None]]:
    """One call of ``workload`` on ``app``, as often as wanted; each status goes to
    ``statuses``."""
    body = workload.body or b""
    headers = [(b"host", b"bench")]
    headers += [(k.lower().encode(), v.encode()) for k, v in workload.headers.items()]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": workload.method,
        "scheme": "http",
        "path": workload.path,
        "raw_path": workload.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def call() -> None:
        await app({**scope}, receive, send)

    return call


def _check(workload: Workload, statuses: set[int]) -> None:
    if statuses != {workload.expected_status}:
        raise SystemExit(
            f"{workload.name}: answered {sorted(statuses)}, not {workload.expected_status}"
        )


async def measure(app: Any, workload: Workload, requests: int, rounds: int) -> float:
    statuses: set[int] = set()
    call = _caller(app, workload, statuses)
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await startup.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan"}, startup.get, events.put))
    await events.get()
    seeded: set[int] = set()
    await _caller(app, SEED, seeded)()
    _check(SEED, seeded)
    for _ in range(2000):  # warm caches
        await call()
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(requests):
            await call()
        best = min(best, (time.perf_counter() - started) / requests * 1e6)
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan
    _check(workload, statuses)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--path", help="GET this path instead of a workload")
    parser.add_argument("--workload", choices=[w.name for w in WORKLOADS], default="hello")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--without-telemetry", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build(Path(folder), telemetry=not args.without_telemetry, access_log=args.access_log)
        workload = next(w for w in WORKLOADS if w.name == args.workload)
        if args.path:
            workload = Workload(args.path, "GET", args.path, 200)
        best = uvloop.run(measure(app, workload, args.requests, args.rounds))
    print(
        f"{workload.method} {workload.path} ({workload.name}): {best:.1f} µs per request "
        f"(best of {args.rounds} x {args.requests})"
    )


if __name__ == "__main__":
    main()
