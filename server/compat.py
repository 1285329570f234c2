"""Every use of a library internal, in one place; ``tests/unit/test_compat.py`` breaks
when a library changes under one of them.

* Connexion builds its middleware stack, and so resolves every operationId to a handler,
  on the first request (``ConnexionMiddleware.__call__``); a spec whose handler is missing
  then answers every request with a text/plain 500. ``build_middleware_stack`` does that
  work at start-up instead, so a missing handler stops the service before it listens.
"""

from __future__ import annotations

from connexion import AsyncApp


def build_middleware_stack(app: AsyncApp) -> None:
    """Build ``app``'s middleware stack now (Connexion would on the first request)."""
    middleware = app.middleware
    if middleware.middleware_stack is None:
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
