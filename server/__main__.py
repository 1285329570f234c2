"""``python -m server [serve | worker | migrate | clients ...]``: serve the API, run the
delivery workers alone, apply migrations, or manage API clients (the way to create the
first admin)::

    python -m server clients create --name ops --scopes admin
    python -m server clients list
    python -m server clients revoke c_5f2b9c0e7a1d4e33
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import uvicorn
from pydantic import ValidationError

from server import compat, migrate
from server.app import StartupError, create_app, run_worker
from server.errors import ServiceError
from server.persistence.database import Database
from server.services import clients
from server.settings import ENV_PREFIX, Settings
from server.telemetry import metrics
from server.telemetry.logs import configure_logging

logger = logging.getLogger("server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API with uvicorn (the default)")
    serve.add_argument("--host", help="address to listen on (APP_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (APP_PORT, 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (APP_WORKERS, 1)")
    serve.add_argument(
        "--fd",
        type=int,
        help="serve on this inherited, bound socket (socket activation) instead of host:port",
    )
    worker = commands.add_parser(
        "worker",
        help="run the delivery workers without the API (with APP_DELIVERY_WORKERS=false there)",
    )
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT/metrics"
    )
    commands.add_parser("migrate", help="apply database migrations")
    manage = commands.add_parser("clients", help="create, list and revoke API clients")
    actions = manage.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="register a client and print its secret once")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        required=True,
        help=f"space-separated, from: {' '.join(clients.SCOPES)} (admin implies all)",
    )
    actions.add_parser("list", help="every client, revoked ones included")
    revoke = actions.add_parser("revoke", help="revoke a client's secret and tokens")
    revoke.add_argument("client_id")
    return parser


def _run(settings: Settings, work: Callable[..., Any], **kwargs: Any) -> Any:
    async def run() -> Any:
        db = Database(settings.database_url, timeout=settings.database_timeout)
        try:
            return await db.write(work, **kwargs)
        finally:
            await db.dispose()

    return asyncio.run(run())


def manage_clients(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "create":
            row, secret = _run(
                settings, clients.create_client, name=args.name, scopes=args.scopes.split()
            )
            print(f"client_id:     {row.client_id}")
            print(f"scopes:        {row.scopes}")
            print(f"client_secret: {secret}")
            print("Keep the secret now: it is stored only as a hash and cannot be shown again.")
        elif args.action == "list":
            for row in _run(settings, clients.all_clients):
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                print(f"{row.client_id}  {state:<24}  {row.name:<24}  {row.scopes}")
        else:
            row = _run(settings, clients.revoke_client, client_id=args.client_id)
            print(f"revoked {row.client_id} at {row.revoked_at.isoformat()}")
    except ServiceError as problem:
        print(f"error: {problem.detail}", file=sys.stderr)
        return 2
    return 0


def work(settings: Settings, *, metrics_port: int | None) -> int:
    """Deliver until SIGTERM or SIGINT; then let attempts under way finish (up to
    APP_DELIVERY_DRAIN_SECONDS) and give the rest back."""
    if metrics_port is not None:
        metrics.serve(metrics_port)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        await run_worker(settings, stop)

    try:
        asyncio.run(run())
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def edge_limits(settings: Settings) -> compat.EdgeLimits:
    return compat.EdgeLimits(
        max_head_bytes=settings.max_header_bytes,
        max_line_bytes=settings.max_header_line_bytes,
        head_seconds=settings.header_timeout_seconds,
        body_seconds=settings.body_timeout_seconds,
        max_body_bytes=settings.max_body_bytes,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    given = {k: getattr(args, k, None) for k in ("host", "port", "workers")}
    try:
        settings = Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:  # one line, naming the setting, for people
        problems = "; ".join(
            f"{e['loc'][0]} ({ENV_PREFIX}{str(e['loc'][0]).upper()}): {e['msg']}"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        print(f"error: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "migrate":
        migrate.upgrade(settings.database_url)
        return 0
    if args.command == "clients":
        return manage_clients(args, settings)
    if args.command == "worker":
        return work(settings, metrics_port=args.metrics_port)
    if settings.secret_key is None:
        # Development without a key: one random key for all workers of this run, so a
        # token or cursor one worker issued holds on the others.
        os.environ[f"{ENV_PREFIX}SECRET_KEY"] = settings.secret()
    # Several workers share one set of metrics through files (see server/telemetry/metrics.py).
    samples = None
    if settings.workers > 1 or settings.metrics_samples_dir is not None:
        folder, made = metrics.prepare_multiprocess_folder(settings.metrics_samples_dir)
        samples = folder if made else None
        # Where the workers' prometheus_client writes (it reads the variable at import).
        os.environ[metrics.MULTIPROCESS_ENV] = str(folder)
        settings = settings.model_copy(update={"metrics_samples_dir": folder})
        logger.info("metrics samples folder", extra={"folder": str(folder)})
    try:
        # Built here first, so that a spec and handlers that disagree stop the service
        # with one line before it listens; one worker serves this very app.
        app = create_app(settings)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        # On SIGTERM uvicorn stops accepting connections, lets the requests in flight
        # finish (up to the graceful timeout), then runs the lifespan's shutdown.
        uvicorn.run(
            app if settings.workers == 1 else "server.asgi:app",
            host=settings.host,
            port=settings.port,
            fd=getattr(args, "fd", None),
            workers=settings.workers,
            loop="uvloop",
            ws="none",  # the API has no WebSocket; an upgrade is answered as HTTP/1.1
            # httptools' parser, with bounded heads and bodies (see compat.py).
            http=partial(  # type: ignore[arg-type]  # uvicorn calls it as it would the class
                compat.BoundedHttpToolsProtocol, limits=edge_limits(settings)
            ),
            log_level=settings.log_level,
            log_config=None,  # server.asgi sets up JSON logging in each worker
            access_log=False,  # the telemetry middleware logs every request
            # uvicorn would believe X-Forwarded-For from loopback whatever our settings
            # say; the service decides whom to believe (APP_TRUST_FORWARDED_FOR).
            proxy_headers=False,
            server_header=False,  # no "server: uvicorn": what runs here is nobody's business
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            ssl_certfile=settings.tls_certfile,
            ssl_keyfile=settings.tls_keyfile,
        )
    finally:
        metrics.remove_multiprocess_folder(samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
