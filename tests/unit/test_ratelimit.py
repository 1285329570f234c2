"""Policies and counting, without HTTP."""

from __future__ import annotations

import asyncio

import pytest

from server.http.problems import TooManyRequests
from server.ratelimit import Policy, RateLimits


def test_one_window_policy_header() -> None:
    policy = Policy.parse("client", "600/minute")
    assert policy.header == '"client";q=600;w=60'
    assert [w.label for w in policy.windows] == ["client"]


def test_several_windows_are_named_by_their_length() -> None:
    policy = Policy.parse("client", "2/second;3/minute")
    assert policy.header == '"client-1s";q=2;w=1, "client-60s";q=3;w=60'


def test_the_tightest_window_refuses_and_every_window_reports() -> None:
    async def run() -> list[dict[str, str] | str]:
        limits = RateLimits()
        policy = Policy.parse("client", "2/second;3/minute")
        seen: list[dict[str, str] | str] = []
        for _ in range(3):
            try:
                seen.append(await limits.enforce(policy, "c_1"))
            except TooManyRequests as refused:
                seen.append(refused.headers["Retry-After"])
        return seen

    first, second, third = asyncio.run(run())
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["RateLimit"] == '"client-1s";r=1;t=1, "client-60s";r=2;t=60'
    assert second["RateLimit"] == '"client-1s";r=0;t=1, "client-60s";r=1;t=60'
    assert third == "1"  # the 1-second window is spent; retry after it resets


def test_keys_do_not_share_counters() -> None:
    async def run() -> None:
        limits = RateLimits()
        policy = Policy.parse("anonymous", "1/minute")
        await limits.enforce(policy, "ip:10.0.0.1")
        await limits.enforce(policy, "ip:10.0.0.2")
        with pytest.raises(TooManyRequests):
            await limits.enforce(policy, "ip:10.0.0.1")

    asyncio.run(run())
