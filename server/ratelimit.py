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

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from server.errors import TooManyRequests

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25


@dataclass(frozen=True)
class Policy:
    """A named set of windows, e.g. ``client``: 600 per minute and 10,000 per hour."""

    name: str
    items: tuple[RateLimitItem, ...]

    @classmethod
    def parse(cls, name: str, limits: str) -> Policy:
        return cls(name, tuple(parse_many(limits)))

    def labels(self) -> list[str]:
        if len(self.items) == 1:
            return [self.name]
        return [f"{self.name}-{item.get_expiry()}s" for item in self.items]

    def header(self) -> str:
        return ", ".join(
            f'"{label}";q={item.amount};w={item.get_expiry()}'
            for label, item in zip(self.labels(), self.items, strict=True)
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]


class RateLimits:
    """Counts hits on a policy for a key (a client id, or ``ip:<address>``) and decides."""

    def __init__(self, *, redis_url: str | None = None) -> None:
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._redis: FixedWindowRateLimiter | None = None
        self._redis_storage: Storage | None = None
        if redis_url:
            self._redis_storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._redis = FixedWindowRateLimiter(self._redis_storage)
        self._redis_down_until = 0.0

    @property
    def shared(self) -> bool:
        """True when counters are in Redis and Redis is answering."""
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    async def check(self) -> bool:
        """Whether the configured storage answers (always true for memory)."""
        if self._redis_storage is None:
            return True
        try:
            return bool(await self._redis_storage.check())
        except (StorageError, OSError):
            return False

    async def hit(self, policy: Policy, key: str) -> Decision:
        limiter = self._redis if self.shared else self._memory
        assert limiter is not None
        try:
            return await self._hit(limiter, policy, key)
        except (StorageError, OSError) as exc:
            if limiter is self._memory:
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
    async def _hit(limiter: FixedWindowRateLimiter, policy: Policy, key: str) -> Decision:
        allowed = True
        for item in policy.items:
            allowed = await limiter.hit(item, policy.name, key) and allowed
        remaining: list[tuple[str, int, int]] = []
        for label, item in zip(policy.labels(), policy.items, strict=True):
            stats = await limiter.get_window_stats(item, policy.name, key)
            window = item.get_expiry()
            # Redis reports whole seconds of TTL: clamp to the window.
            reset = min(window, max(0, math.ceil(stats.reset_time - time.time())))
            remaining.append((label, stats.remaining, reset))
        headers = {
            "RateLimit-Policy": policy.header(),
            "RateLimit": ", ".join(f'"{label}";r={r};t={t}' for label, r, t in remaining),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, *(t for _, r, t in remaining if r == 0)))
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
