"""Rate limits with the ``limits`` library: fixed windows per client, or per IP when anonymous.

Counters live in Redis when ``APP_REDIS_URL`` is set, so every instance draws on one budget,
and in process memory otherwise. If Redis stops answering, each instance falls back to its
own memory counters (logged once per outage) and tries Redis again after
``REDIS_RETRY_SECONDS``: limits get looser for a while, requests never fail because of it.

Responses carry the IETF draft's fields (draft-ietf-httpapi-ratelimit-headers-10)::

    RateLimit-Policy: "client";q=600;w=60
    RateLimit: "client";r=599;t=42

and a refusal is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.errors import StorageError

from server.compat import MemoryCounters
from server.http.problems import TooManyRequests

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25


@dataclass(frozen=True)
class Window:
    """One window of a policy, with its header label."""

    label: str
    item: RateLimitItem
    quota: int
    seconds: int


@dataclass(frozen=True)
class Policy:
    """A named set of windows, e.g. ``client``: 600 per minute and 10,000 per hour."""

    name: str
    windows: tuple[Window, ...]
    header: str  # RateLimit-Policy, the same on every answer

    @classmethod
    def parse(cls, name: str, limits: str) -> Policy:
        items = parse_many(limits)
        windows = tuple(
            Window(
                name if len(items) == 1 else f"{name}-{item.get_expiry()}s",
                item,
                item.amount,
                item.get_expiry(),
            )
            for item in items
        )
        header = ", ".join(f'"{w.label}";q={w.quota};w={w.seconds}' for w in windows)
        return cls(name, windows, header)


@lru_cache(maxsize=4096)
def _storage_key(item: RateLimitItem, namespace: str, key: str) -> str:
    return item.key_for(namespace, key)  # limits' own key layout, memoised per caller


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]


class RateLimits:
    """Counts hits on a policy for a key (a client id, or ``ip:<address>``) and decides.

    The fixed-window strategy of limits (``FixedWindowRateLimiter``), on its storage API
    directly: one increment and one expiry read per window, where ``hit`` followed by
    ``get_window_stats`` would cost four storage calls (four Redis round trips).
    """

    def __init__(self, *, redis_url: str | None = None) -> None:
        self._memory = MemoryCounters()
        self._redis: Storage | None = None
        if redis_url:
            self._redis = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._redis_down_until = 0.0

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None

    @property
    def shared(self) -> bool:
        """True when counters are in Redis and Redis is answering."""
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    async def check(self) -> bool:
        """Whether the configured storage answers (always true for memory)."""
        if self._redis is None:
            return True
        try:
            return bool(await self._redis.check())
        except (StorageError, OSError):
            return False

    async def hit(self, policy: Policy, key: str) -> Decision:
        counters: Storage | None = self._redis if self.shared else self._memory
        assert counters is not None
        try:
            return await self._hit(counters, policy, key)
        except (StorageError, OSError) as exc:
            if counters is self._memory:
                raise
            if time.monotonic() >= self._redis_down_until:
                logger.warning(
                    "rate-limit storage unreachable (%s); counting in memory for %ss",
                    type(exc).__name__,
                    REDIS_RETRY_SECONDS,
                )
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return await self._hit(self._memory, policy, key)

    @staticmethod
    async def _hit(counters: Storage, policy: Policy, key: str) -> Decision:
        allowed = True
        fields = []
        retry_after = 0
        for window in policy.windows:
            storage_key = _storage_key(window.item, policy.name, key)
            count = await counters.incr(storage_key, window.seconds)
            reset_at = await counters.get_expiry(storage_key)
            # Redis reports whole seconds of TTL: clamp to the window.
            reset = min(window.seconds, max(0, math.ceil(reset_at - time.time())))
            remaining = max(0, window.quota - count)
            fields.append(f'"{window.label}";r={remaining};t={reset}')
            if count > window.quota:
                allowed = False
                retry_after = max(retry_after, reset, 1)
        headers = {"RateLimit-Policy": policy.header, "RateLimit": ", ".join(fields)}
        if not allowed:
            headers["Retry-After"] = str(retry_after)
        return Decision(allowed, headers)

    async def enforce(self, policy: Policy, key: str) -> dict[str, str]:
        """The headers to send, or ``TooManyRequests`` when the budget is spent."""
        decision = await self.hit(policy, key)
        if not decision.allowed:
            raise TooManyRequests(
                f"Rate limit {policy.name!r} exceeded; retry after "
                f"{decision.headers['Retry-After']} s.",
                headers=decision.headers,
            )
        return decision.headers
