"""Composition root: ``create_app(settings)`` builds the service from the spec.

Connexion loads ``spec/openapi.yaml``, resolves every operationId to a handler and runs
its routing, security and validation middleware; the innermost app is our ``Dispatcher``
(see ``dispatch.py`` for why). The spec stays the only list of routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ResolverError
from connexion.options import SwaggerUIOptions

from server import compat, contract, validation
from server.dispatch import Dispatcher, HandlerMismatch
from server.downstream.gateway import Gateway
from server.downstream.hosts import HostAllowList, why_not_dialable
from server.http import pipeline
from server.persistence.database import Database
from server.ratelimit import RateLimits
from server.security import Authenticator, Guard, Tokens, hs256_keys, rs256_keys
from server.services.clients import Clients
from server.services.delivery import Deliverer, DeliveryPolicy
from server.services.destinations import Destinations, why_not_header_name
from server.services.dispatching import Dispatches
from server.services.health import Readiness, database_probe
from server.services.idempotency import Idempotency, IdempotencyPolicy
from server.services.pagination import Cursors
from server.services.processing import Records
from server.services.users import Users
from server.settings import Settings
from server.telemetry import metrics

logger = logging.getLogger(__name__)

SPEC_DIR = contract.SPEC_DIR
SPEC_FILE = contract.SPEC_FILE


def edge_options(settings: Settings) -> pipeline.EdgeOptions:
    return pipeline.EdgeOptions(
        cors_allow_origins=settings.cors_allow_origins,
        metrics=settings.metrics,
        metrics_samples_dir=settings.metrics_samples_dir,
        access_log=settings.access_log,
        hsts=settings.environment == "production" or settings.tls,
        max_body_bytes=settings.max_body_bytes,
        response_validation=settings.response_validation,
    )


def make_tokens(settings: Settings) -> Tokens:
    if settings.jwt_algorithm == "HS256":
        keys: tuple[Any, Any] = hs256_keys(settings.secret())
    else:
        assert settings.jwt_private_key_file and settings.jwt_public_key_file
        keys = rs256_keys(
            settings.jwt_private_key_file.read_bytes(), settings.jwt_public_key_file.read_bytes()
        )
    return Tokens(
        algorithm=settings.jwt_algorithm,
        keys=keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        lifetime=settings.access_token_seconds,
        leeway=settings.jwt_leeway_seconds,
    )


def database(settings: Settings) -> Database:
    # The engine connects lazily, so building it touches no database.
    return Database(
        settings.database_url,
        pool_size=settings.database_pool_size,
        timeout=settings.database_timeout,
        sqlite_synchronous=settings.sqlite_synchronous,
    )


def allow_list(settings: Settings) -> HostAllowList:
    try:
        return HostAllowList(settings.dispatch_allowed_hosts)
    except ValueError as exc:
        raise StartupError(f"dispatch_allowed_hosts (APP_DISPATCH_ALLOWED_HOSTS): {exc}") from None


def make_gateway(settings: Settings, allowed_hosts: HostAllowList) -> Gateway:
    return Gateway(
        max_response_bytes=settings.dispatch_max_response_bytes,
        max_connections=settings.dispatch_max_connections,
        max_concurrent_per_client=settings.dispatch_max_concurrent_per_client,
        max_connections_per_client=settings.dispatch_max_connections_per_client,
        allowed_hosts=allowed_hosts,
    )


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """The delivery workers alone, without the API (``python -m server worker``), until
    ``stop`` is set; then they drain as the service's own do at shutdown."""
    db = database(settings)
    gateway = make_gateway(settings, allow_list(settings))
    deliverer = Deliverer(db, gateway, delivery_policy(settings))
    await gateway.start()
    logger.info("delivery worker %s running", deliverer.name)
    try:
        await deliverer.run(stop)
    finally:
        await gateway.close()
        await db.dispose()
        metrics.worker_stopped(settings.metrics_samples_dir)
    logger.info("delivery worker %s stopped", deliverer.name)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        concurrency=settings.delivery_concurrency,
        poll_seconds=settings.delivery_poll_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        drain_seconds=settings.delivery_drain_seconds,
        retention=timedelta(days=settings.dispatch_retention_days),
    )


class StartupError(Exception):
    """The spec and the handlers disagree: the service cannot start (one line, for people)."""


class ContractApp(AsyncApp):
    """Connexion's AsyncApp with the thin ``Dispatcher`` as the app inside the middleware."""

    def __init__(
        self, import_name: str, *, db: Database, resources: dict[str, Any], **kwargs: Any
    ) -> None:
        self.db = db  # the app's own, for its lifespan and for tests; handlers never see it
        self.resources = resources
        compat.init_with_inner_app(self, Dispatcher(resources), import_name, **kwargs)


@functools.cache
def freeze_long_lived_objects() -> None:
    """Once per process, at the first start: everything built so far (the spec, validators,
    routes) lives as long as the process, so keep it out of the collector's full passes,
    which otherwise stalled the gateway's busiest minutes (fan-out p99 206 -> 119 ms,
    bench/fanout.py). Garbage is collected first, so none of it is kept forever."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, spec_file: Path | None = None) -> ContractApp:
    """Build the ASGI application for ``settings`` (read from the environment if omitted).

    ``StartupError`` when an operation of the spec has no handler, a handler is not
    ``async def``, or takes a parameter that neither the spec nor the app can fill, or
    when the dispatch allow-list holds an entry that is no host.
    """
    settings = settings or Settings()
    spec_file = spec_file or SPEC_DIR / SPEC_FILE
    db = database(settings)
    cursors = Cursors(settings.secret())
    # The clients service tells the authenticator of a revocation; the authenticator looks
    # clients up through the service.
    clients = Clients(
        db, cursors("clients"), forget=lambda client_id: authenticator.forget(client_id)
    )
    authenticator = Authenticator(
        find=clients.find, tokens=make_tokens(settings), cache_seconds=settings.auth_cache_seconds
    )
    rate_limits = RateLimits(redis_url=settings.redis_url) if settings.rate_limit_enabled else None
    guard = Guard(
        authenticator=authenticator,
        rate_limits=rate_limits,
        trusted_proxies=settings.trusted_proxies if settings.trust_forwarded_for else None,
        client_limit=settings.rate_limit,
        anonymous_limit=settings.rate_limit_anonymous,
        token_limit=settings.rate_limit_token,
        client_limits=settings.rate_limit_clients,
    )
    probes = {"database": database_probe(db)}
    if rate_limits is not None and rate_limits.uses_redis:
        probes["redis"] = rate_limits.check
    validation.EXPLAINERS["destination-url"] = why_not_dialable
    validation.EXPLAINERS["downstream-header-name"] = why_not_header_name
    allowed_hosts = allow_list(settings)
    gateway = make_gateway(settings, allowed_hosts)

    idempotency = Idempotency(db, IdempotencyPolicy(max_keys=settings.idempotency_max_keys))
    deliverer = Deliverer(db, gateway, delivery_policy(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        logger.info("service starting (environment=%s)", settings.environment)
        if settings.environment == "production" and not allowed_hosts:
            logger.warning(
                "APP_DISPATCH_ALLOWED_HOSTS is empty: admins may point destinations at any host"
            )
        await gateway.start()
        # Expired and surplus Idempotency-Keys go while the service runs, not only at start.
        stop_sweeping = asyncio.Event()
        sweeper = asyncio.create_task(
            idempotency.keep_swept(every=settings.idempotency_sweep_seconds, stop=stop_sweeping)
        )
        delivering = (
            asyncio.create_task(deliverer.run(stop_sweeping)) if settings.delivery_workers else None
        )
        freeze_long_lived_objects()
        try:
            yield
        finally:
            stop_sweeping.set()
            await sweeper
            if delivering is not None:
                await delivering  # drained: no attempt is left half recorded
            # uvicorn runs this after the in-flight requests finished (or its graceful
            # timeout ran out), so nothing still needs the pool or the database.
            await gateway.close()
            await db.dispose()
            metrics.worker_stopped(settings.metrics_samples_dir)
        logger.info("service stopped")

    app = ContractApp(
        __name__,
        db=db,
        # What handlers may ask for by parameter name: the services, each of them one
        # unit of work per call on the database; never the database or the settings.
        resources={
            "users": Users(db, cursors("users")),
            "records": Records(db, cursors("records")),
            "clients": clients,
            "destinations": Destinations(
                db, cursors("destinations"), allowed_hosts=allowed_hosts, gateway=gateway
            ),
            "dispatches": Dispatches(db, gateway, cursors("dispatches"), wake=deliverer.wake),
            "idempotency": idempotency,
            "authenticator": authenticator,
            "readiness": Readiness(probes),
        },
        lifespan=lifespan,
        middlewares=pipeline.stages(edge_options(settings), guard, spec_file),
        specification_dir=spec_file.parent,
        strict_validation=True,
        validate_responses=settings.response_validation,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=settings.swagger_ui),
    )
    app.add_api(spec_file.name)
    try:
        compat.build_middleware_stack(app)
        pipeline.link_operations(app.middleware.app)
    except ResolverError as exc:  # its text names the module and the missing function
        raise StartupError(f"an operation has no handler: {exc}") from None
    except HandlerMismatch as exc:
        raise StartupError(str(exc)) from None
    return app
