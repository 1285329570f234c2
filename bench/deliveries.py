"""Asynchronous dispatch benchmark: N ``POST /api/dispatch`` with ``Prefer: respond-async``
to two destinations answering at once, then how fast the workers deliver them.

    .venv/bin/python -m bench.deliveries [--dispatches 2000] [--concurrency 32]
                                         [--database-url postgresql://...] [--quick]

Two downstream servers (bench/downstream.py with no delay) and the service start on
loopback, the service's database holding them as destinations (a fresh SQLite file, or
``--database-url``, migrated first). The service runs as shipped: one process, its
delivery workers in it, pinned to one CPU; this harness (an asyncio httpx client) and the
downstreams share the other. The client is aiohttp's: httpx's connection pool spends
milliseconds of CPU per request at a few dozen in flight, more than the service does.
``--concurrency`` dispatches are in flight at once until N
were accepted, then ``GET /api/dispatches?state=pending`` is polled until it is empty.

Reported: the 202's p50 and p99 (as this client measured them, so its own overhead is in
them), dispatches accepted per second, and **deliveries per second**: the deliveries
delivered (2 per dispatch) over the time from the first 202 until no dispatch is pending,
so the accepting and the delivering overlap in it, as they do in production.

Writes bench/results/deliveries.json (the name says the backend). Exit status: 0 when
measured, 1 when the service did not come up, a dispatch was not accepted or the
deliveries did not settle within ``--settle-timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from bench import cpu
from bench.credentials import API_KEY
from bench.run import RESULTS_DIR, pick_cpus
from bench.servers import CONTENDERS, Contender, ServerStartError, running

DESTINATIONS = ("a", "b")
PAYLOAD = {"order_id": 1042, "total": 99.5}
HEADERS = {"X-API-Key": API_KEY, "Prefer": "respond-async"}
POLL_S = 0.1
# The downstream of the fan-out benchmark, answering at once instead of after 50 ms.
DOWNSTREAM = Contender(
    "downstream",
    "immediate downstream",
    "bench.downstream:app",
    "uvicorn",
    env={"BENCH_DOWNSTREAM_DELAY_MS": "0"},
)


class BenchError(RuntimeError):
    """The run cannot be measured; the message says why."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.deliveries", description=__doc__)
    parser.add_argument("--dispatches", type=int, default=2000, help="asynchronous dispatches")
    parser.add_argument("--concurrency", type=int, default=32, help="dispatches in flight")
    parser.add_argument(
        "--database-url",
        help="the service's database (postgresql://user@127.0.0.1/db), migrated first; "
        "default: a fresh SQLite file",
    )
    parser.add_argument(
        "--delivery-concurrency",
        type=int,
        help="APP_DELIVERY_CONCURRENCY: deliveries the service attempts at once (its default: 16)",
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=300.0, help="seconds to wait for the deliveries"
    )
    parser.add_argument("--quick", action="store_true", help="200 dispatches")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.dispatches = min(args.dispatches, 200)
    if args.dispatches < 1 or args.concurrency < 1:
        parser.error("--dispatches and --concurrency must be at least 1")
    return args


def backend(database_url: str | None) -> str:
    return "sqlite" if database_url is None else make_url(database_url).get_backend_name()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def accept_all(
    client: aiohttp.ClientSession, count: int, concurrency: int
) -> tuple[list[float], list[str], float, float]:
    """Send ``count`` asynchronous dispatches, ``concurrency`` at a time: each 202's
    latency, the dispatch ids, and when the first and the last 202 arrived."""
    latencies: list[float] = []
    ids: list[str] = []
    arrivals: list[float] = []
    body = {"payload": PAYLOAD, "destinations": list(DESTINATIONS)}
    remaining = iter(range(count))

    async def sender() -> None:
        for _ in remaining:
            started = time.perf_counter()
            async with client.post("/api/dispatch", json=body) as answer:
                accepted = await answer.read()
            arrived = time.perf_counter()
            if answer.status != 202:
                raise BenchError(f"a dispatch answered {answer.status}: {accepted[:300]!r}")
            latencies.append(arrived - started)
            arrivals.append(arrived)
            ids.append(json.loads(accepted)["id"])

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies, ids, min(arrivals), max(arrivals)


async def get(client: aiohttp.ClientSession, path: str, **params: Any) -> Any:
    async with client.get(path, params=params) as answer:
        answer.raise_for_status()
        return await answer.json()


async def settle(client: aiohttp.ClientSession, timeout_s: float) -> float:
    """Poll until no dispatch of this client is pending; when that was seen."""
    deadline = time.perf_counter() + timeout_s
    while True:
        page = await get(client, "/api/dispatches", state="pending", limit=1)
        seen = time.perf_counter()
        if not page["items"]:
            return seen
        if seen > deadline:
            raise BenchError(f"dispatches still pending after {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)


async def delivery_states(client: aiohttp.ClientSession, ids: set[str]) -> Counter[str]:
    """How the deliveries of the dispatches ``ids`` ended (newest first: this run's come
    before any a shared database kept from earlier runs)."""
    states: Counter[str] = Counter()
    unseen = set(ids)
    cursor: str | None = None
    while unseen:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = await get(client, "/api/dispatches", **params)
        for dispatch in page["items"]:
            if dispatch["id"] in unseen:
                unseen.discard(dispatch["id"])
                states.update(part["state"] for part in dispatch["deliveries"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    if unseen:
        raise BenchError(f"{len(unseen)} dispatches missing from GET /api/dispatches")
    return states


async def measure(url: str, server_pgid: int, args: argparse.Namespace) -> dict[str, Any]:
    async with aiohttp.ClientSession(
        base_url=url,
        headers=HEADERS,
        connector=aiohttp.TCPConnector(limit=args.concurrency),
        timeout=aiohttp.ClientTimeout(total=30.0),
    ) as client:
        # One dispatch first, delivered, so that nothing is measured cold.
        await accept_all(client, 1, 1)
        await settle(client, args.settle_timeout)
        before = cpu.snapshot(server_pgid)
        latencies, ids, first_202, last_202 = await accept_all(
            client, args.dispatches, args.concurrency
        )
        settled = await settle(client, args.settle_timeout)
        usage = cpu.usage(before, cpu.snapshot(server_pgid))
        states = await delivery_states(client, set(ids))
    delivered = states["delivered"]
    return {
        "accept_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "accept_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "accepted_per_s": round(len(ids) / (last_202 - first_202), 1) if len(ids) > 1 else None,
        "deliveries": sum(states.values()),
        "delivered": delivered,
        "not_delivered": {state: n for state, n in states.items() if state != "delivered"},
        "seconds_first_202_to_settled": round(settled - first_202, 3),
        "seconds_last_202_to_settled": round(settled - last_202, 3),
        "deliveries_per_s": round(delivered / (settled - first_202), 1),
        # What a dispatch costs the service, its two deliveries and the polling included;
        # unlike the rates, it hardly depends on what else the machine runs.
        "server_cpu_ms_per_dispatch": None
        if usage is None or usage.server_cpu_s is None
        else round(usage.server_cpu_s * 1000 / len(ids), 2),
        "others_cpus": None if usage is None else round(usage.others, 2),
    }


def service_contender(args: argparse.Namespace, downstream_urls: list[str]) -> Contender:
    service = CONTENDERS["service"]
    env = {
        **service.env,
        "APP_DISPATCH_ALLOWED_HOSTS": '["127.0.0.1"]',
        "BENCH_DESTINATIONS": ",".join(
            f"{name}={url}/hook" for name, url in zip(DESTINATIONS, downstream_urls, strict=True)
        ),
    }
    if args.delivery_concurrency is not None:
        env["APP_DELIVERY_CONCURRENCY"] = str(args.delivery_concurrency)
    changes: dict[str, Any] = {"env": env, "seed_via_api": False}
    if args.database_url is not None:
        # {path} is not in it: the harness's SQLite file is made and removed, unused.
        changes["db_value"] = args.database_url.replace("{", "{{").replace("}", "}}")
    return dataclasses.replace(service, **changes)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server_cpu, client_cpu = pick_cpus(not args.no_pin)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    logs = args.results_dir / "logs"
    logs.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-deliveries-"))
    database = backend(args.database_url)
    background = cpu.background()
    if background is not None and background.noisy:
        print(
            f"note: other processes use {background.others:.2f} CPUs (steal "
            f"{background.steal:.2f}): the rates will be low, CPU per dispatch less so",
            flush=True,
        )
    print(
        f"deliveries: {args.dispatches} asynchronous dispatches to 2 destinations answering at "
        f"once, {args.concurrency} in flight, on {database}",
        flush=True,
    )
    try:
        with ExitStack() as stack:
            downstreams = [
                stack.enter_context(
                    running(
                        DOWNSTREAM, 1, client_cpu, logs / f"deliveries-{name}.log", work / name, 30
                    )
                )
                for name in DESTINATIONS
            ]
            server = stack.enter_context(
                running(
                    service_contender(args, [d.url for d in downstreams]),
                    1,
                    server_cpu,
                    logs / "deliveries-service.log",
                    work / "db",
                    30,
                )
            )
            if client_cpu is not None:
                os.sched_setaffinity(0, {int(client_cpu)})  # beside the downstreams
            result = asyncio.run(measure(server.url, server.pgid, args))
    except (ServerStartError, BenchError, aiohttp.ClientError, TimeoutError) as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {
        "database": database,
        "dispatches": args.dispatches,
        "concurrency": args.concurrency,
        "destinations": len(DESTINATIONS),
        "delivery_concurrency": args.delivery_concurrency,
        "pinned": server_cpu is not None,
        **result,
    }
    (args.results_dir / f"deliveries-{database}.json").write_text(
        json.dumps(summary, indent=2) + "\n"
    )
    print(
        f"202: p50 {result['accept_p50_ms']:.2f} ms, p99 {result['accept_p99_ms']:.2f} ms, "
        f"{result['accepted_per_s'] or 0:,.0f} accepted/s\n"
        f"delivered {result['delivered']} of {result['deliveries']} deliveries in "
        f"{result['seconds_first_202_to_settled']:.2f} s from the first 202 "
        f"({result['seconds_last_202_to_settled']:.2f} s after the last): "
        f"{result['deliveries_per_s']:,.0f} deliveries/s\n"
        f"service CPU per dispatch (accepted and delivered twice): "
        f"{result['server_cpu_ms_per_dispatch']} ms"
        + (f"; not delivered: {result['not_delivered']}" if result["not_delivered"] else ""),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
