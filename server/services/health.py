"""Readiness: can this instance take traffic? Every dependency is checked at once, each
within a deadline, so a hung database makes the probe fail, not hang."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.persistence import health
from server.persistence.database import Database
from server.ratelimit import RateLimits

logger = logging.getLogger(__name__)

CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    up: bool
    latency_ms: float
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        reported: dict[str, Any] = {
            "status": "up" if self.up else "down",
            "latency_ms": round(self.latency_ms, 1),
        }
        if self.detail:
            reported["detail"] = self.detail
        return reported


async def _timed(name: str, probe: Callable[[], Awaitable[bool]], seconds: float) -> Check:
    started = time.perf_counter()
    detail = None
    try:
        async with asyncio.timeout(seconds):
            up = await probe()
        if not up:
            detail = "It did not answer."
    except TimeoutError:
        up, detail = False, f"No answer within {seconds:g} s."
    except Exception as exc:  # any failure means "not ready"; the probe must not 500
        up, detail = False, f"It failed: {type(exc).__name__}."
    if not up:
        logger.warning("readiness check %s failed: %s", name, detail)
    return Check(up, (time.perf_counter() - started) * 1000, detail)


async def check_readiness(
    *, db: Database, rate_limits: RateLimits | None, seconds: float = CHECK_SECONDS
) -> dict[str, Check]:
    """The database always; Redis when the rate limits keep their counters there."""

    async def database() -> bool:
        await db.read(health.ping)
        return True

    probes: dict[str, Callable[[], Awaitable[bool]]] = {"database": database}
    if rate_limits is not None and rate_limits.uses_redis:
        probes["redis"] = rate_limits.check
    results = await asyncio.gather(
        *(_timed(name, probe, seconds) for name, probe in probes.items())
    )
    return dict(zip(probes, results, strict=True))
