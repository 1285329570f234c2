"""Handlers for the ``health`` tag."""

from __future__ import annotations

from typing import Any

from server.errors import NotReady
from server.persistence.database import Database
from server.ratelimit import RateLimits
from server.services.health import check_readiness

ALIVE = {"status": "alive"}


async def live() -> dict[str, str]:
    return ALIVE


async def ready(db: Database, rate_limits: RateLimits | None) -> dict[str, Any]:
    checks = await check_readiness(db=db, rate_limits=rate_limits)
    reported = {name: check.as_dict() for name, check in checks.items()}
    failing = [name for name, check in checks.items() if not check.up]
    if failing:
        raise NotReady(failing=failing, checks=reported)
    return {"status": "ready", "checks": reported}
