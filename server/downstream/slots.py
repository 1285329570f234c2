"""Waiting on this side, bounded by the call's deadline: per-key slots (a client's share
of a destination, of the pool) and the pool's own semaphore. A wait that outlasts the
deadline is this side's doing, reported as ``CutShort``, never the destination's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any


class CutShort(Exception):
    """This side stopped the call before the destination could be judged."""


class Slots:
    """At most ``limit`` holders per key at once; the others wait their turn in order.

    Keys come and go (a client's share of one destination): a key's semaphore lives only
    while someone holds it or waits for it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[Any, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, key: Any, deadline: float, why: Callable[[], str]) -> AsyncIterator[bool]:
        """Hold one of ``key``'s slots; yields whether it had to wait for it."""
        entry = self._held.get(key)
        if entry is None:
            entry = self._held[key] = (asyncio.Semaphore(self.limit), [0])
        semaphore, users = entry
        users[0] += 1
        try:
            waited = await acquire(semaphore, deadline, why)
            try:
                yield waited
            finally:
                semaphore.release()
        finally:
            users[0] -= 1
            if not users[0]:
                del self._held[key]


async def acquire(semaphore: asyncio.Semaphore, deadline: float, why: Callable[[], str]) -> bool:
    """Take a slot, waiting no later than ``deadline`` (``CutShort`` saying ``why()``
    then: the sentence is written only when a wait runs out); whether it had to wait."""
    if not semaphore.locked():
        await semaphore.acquire()  # free: returns without suspending
        return False
    try:
        async with asyncio.timeout_at(deadline):
            await semaphore.acquire()
    except TimeoutError:
        raise CutShort(why()) from None
    return True
