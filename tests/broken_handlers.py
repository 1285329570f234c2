"""Handlers that cannot serve their operations: what start-up must refuse (test_startup)."""

from __future__ import annotations

from typing import Any


def hello() -> dict[str, Any]:  # not `async def`
    return {"message": "hello"}


async def live(thing: str) -> dict[str, Any]:  # nothing fills ``thing``
    return {"status": thing}
