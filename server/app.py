"""Composition root: ``create_app(settings)`` builds the service from the spec.

Connexion loads ``spec/openapi.yaml``, resolves every operationId to a handler and runs
its routing, security and validation middleware; the innermost app is our ``Dispatcher``
(see ``dispatch.py`` for why). The spec stays the only list of routes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from starlette.middleware.exceptions import ExceptionMiddleware

from server.dispatch import Dispatcher
from server.errors import EXCEPTION_HANDLERS
from server.middleware import DocsMiddleware, body_limit
from server.settings import Settings
from server.validation import RequestValidation

logger = logging.getLogger(__name__)

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
SPEC_FILE = "openapi.yaml"


class ContractApp(AsyncApp):
    """Connexion's AsyncApp with the thin ``Dispatcher`` as the app inside the middleware."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        self._middleware_app = Dispatcher()  # type: ignore[assignment]
        AbstractApp.__init__(self, import_name, **kwargs)


def build_middlewares(settings: Settings) -> list[Any]:
    """Connexion's stack, trimmed: no per-request context vars, no Flask-era wrappers."""
    stack: list[Any] = [
        ServerErrorMiddleware,
        partial(ExceptionMiddleware, handlers=EXCEPTION_HANDLERS),
        body_limit(settings.max_body_bytes),
        DocsMiddleware,
        RoutingMiddleware,
        SecurityMiddleware,
        RequestValidation,
    ]
    if settings.response_validation:
        stack.append(ResponseValidationMiddleware)
    stack.append(LifespanMiddleware)
    return stack


def create_app(settings: Settings | None = None) -> ContractApp:
    """Build the ASGI application for ``settings`` (read from the environment if omitted)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any]]:
        logger.info("service starting (environment=%s)", settings.environment)
        yield {"settings": settings}
        logger.info("service stopped")

    app = ContractApp(
        __name__,
        lifespan=lifespan,
        middlewares=build_middlewares(settings),
        specification_dir=SPEC_DIR,
        strict_validation=True,
        validate_responses=settings.response_validation,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=settings.swagger_ui),
    )
    app.add_api(SPEC_FILE)
    return app
