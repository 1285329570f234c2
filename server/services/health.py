"""Readiness: can this instance take traffic? Every dependency is checked at once, each
within a deadline, so a hung database makes the probe fail, not hang."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from server.persistence import health
from server.persistence.database import Database

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


async def _timed(name: str, probe: Probe, seconds: float) -> Check:
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


Probe = Callable[[], Awaitable[bool]]


def database_probe(db: Database) -> Probe:
    async def database() -> bool:
        await db.read(health.ping)
        return True

    return database


class Readiness:
    """The dependencies this instance needs, by name; the composition root says which (the
    database always, Redis when the rate limits keep their counters there)."""

    def __init__(self, probes: Mapping[str, Probe], *, seconds: float = CHECK_SECONDS) -> None:
        self._probes = dict(probes)
        self._seconds = seconds

    async def check(self) -> dict[str, Check]:
        """Every probe at once, each within the deadline."""
        results = await asyncio.gather(
            *(_timed(name, probe, self._seconds) for name, probe in self._probes.items())
        )
        return dict(zip(self._probes, results, strict=True))
