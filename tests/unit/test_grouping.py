"""Group commit (``services/grouping``): what arrives while a write runs shares the next."""

from __future__ import annotations

import asyncio

import pytest

from server.services.grouping import GroupCommit


def test_items_that_arrive_together_share_a_write_and_get_their_own_answers() -> None:
    writes: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        writes.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    async def run() -> list[int]:
        group: GroupCommit[int, int] = GroupCommit(write)
        return list(await asyncio.gather(*(group.submit(n) for n in range(20))))

    assert asyncio.run(run()) == [n * 10 for n in range(20)]
    assert len(writes) <= 2  # the first item alone, then everything that came meanwhile
    assert sorted(n for items in writes for n in items) == list(range(20))


def test_a_failed_write_fails_each_of_its_items_and_the_next_write_goes_on() -> None:
    async def write(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        if 0 in items:
            raise RuntimeError("down")
        return items

    async def run() -> tuple[BaseException | int, ...]:
        group: GroupCommit[int, int] = GroupCommit(write)
        first = asyncio.gather(group.submit(0), return_exceptions=True)
        await asyncio.sleep(0.01)
        return (*(await first), await group.submit(5))

    failed, later = asyncio.run(run())
    assert isinstance(failed, RuntimeError)
    assert later == 5


def test_a_submitter_that_goes_away_does_not_take_the_write_with_it() -> None:
    written: list[int] = []

    async def write(items: list[int]) -> list[None]:
        await asyncio.sleep(0.05)
        written.extend(items)
        return [None] * len(items)

    async def run() -> None:
        group: GroupCommit[int, None] = GroupCommit(write)
        task = asyncio.create_task(group.submit(1))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await group.submit(2)

    asyncio.run(run())
    assert written == [1, 2]
