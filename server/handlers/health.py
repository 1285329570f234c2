"""Handlers for the ``health`` tag."""

from __future__ import annotations

from typing import Any

from server.http.problems import NotReady
from server.services.health import Readiness

ALIVE = {"status": "alive"}


async def live() -> dict[str, str]:
    return ALIVE


async def ready(readiness: Readiness) -> dict[str, Any]:
    checks = await readiness.check()
    reported = {name: check.as_dict() for name, check in checks.items()}
    failing = [name for name, check in checks.items() if not check.up]
    if failing:
        raise NotReady(failing=failing, checks=reported)
    return {"status": "ready", "checks": reported}
