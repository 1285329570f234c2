"""Handlers for the ``greetings`` tag."""

from __future__ import annotations

GREETING = {"message": "Hello, World!"}


async def hello() -> dict[str, str]:
    return GREETING
