"""Every use of a library internal, in one place; ``tests/unit/test_compat.py`` breaks
when a library changes under one of them.

* ``init_with_inner_app``: Connexion's ``AsyncApp.__init__`` builds its own inner app
  (re-routing, per-request handler decoration); ours sets the thin ``Dispatcher`` in its
  place and runs the rest of the common initialisation (``AbstractApp.__init__``).
* ``build_middleware_stack``: Connexion builds its middleware stack, and so resolves every
  operationId to a handler, on the first request; a spec whose handler is missing then
  answers every request with a text/plain 500. We build it at start-up instead.
* ``ApiKeyHandler`` / ``OAuthHandler``: Connexion's security handlers inspect the
  verifier function's signature on every request (``_accepts_kwarg``); once is enough.
* ``MemoryCounters``: limits' asyncio memory storage schedules a sweep task on every hit
  (name-mangled ``_MemoryStorage__schedule_expiry``); ours sweeps at most once a second.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.security import ApiKeySecurityHandler, OAuthSecurityHandler
from connexion.utils import inspect_function_arguments
from limits.aio.storage import MemoryStorage


def init_with_inner_app(app: AsyncApp, inner: Any, import_name: str, **kwargs: Any) -> None:
    """``AsyncApp.__init__`` with ``inner`` as the app inside the middleware."""
    app._middleware_app = inner
    AbstractApp.__init__(app, import_name, **kwargs)


def build_middleware_stack(app: AsyncApp) -> None:
    """Build ``app``'s middleware stack now (Connexion would on the first request)."""
    middleware = app.middleware
    if middleware.middleware_stack is None:
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()


@lru_cache(maxsize=64)
def _accepts(function: Any, keyword: str) -> bool:
    arguments, has_kwargs = inspect_function_arguments(function)
    return has_kwargs or keyword in arguments


class ApiKeyHandler(ApiKeySecurityHandler):
    _accepts_kwarg = staticmethod(_accepts)  # type: ignore[assignment]


class OAuthHandler(OAuthSecurityHandler):
    _accepts_kwarg = staticmethod(_accepts)  # type: ignore[assignment]


class MemoryCounters(MemoryStorage):
    """limits' asyncio memory storage, sweeping out idle counters once a second.

    The stock storage schedules a sweep task on every hit, which cost about 20 µs per
    request here (its threaded twin starts a timer thread every 10 ms, worse on a busy
    core). Counts are unaffected: an expired counter is dropped whenever it is read; the
    sweep only frees the memory of keys nobody uses any more.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # limits' private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]
