"""The gateway over a fake transport that answers as a handler says (httpx's request and
response types, as httpx's MockTransport takes them): no sockets, no sleeping, a clock we
move. ``test_transport.py`` tests the real one against real sockets."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import httpx
import jsonschema_rs
import orjson
import pytest
import yaml
from multidict import CIMultiDict

from server.downstream.gateway import Gateway
from server.downstream.hosts import HostAllowList, check_entry, dialable_url
from server.downstream.results import DELIVERY_DETAILS, PUBLIC_DETAILS, Result
from server.downstream.retries import retry_after_seconds
from server.downstream.targets import Target
from server.downstream.transport import (
    Answer,
    Broken,
    ClosedBeforeAnswer,
    ConnectFailed,
    named,
)
from server.errors import ValidationFailed
from server.services.destinations import (
    BREAKER_DEFAULTS,
    DESTINATION_DEFAULTS,
    RETRY_DEFAULTS,
    check_url,
)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class MockWire:
    """The gateway's transport, with ``handler`` for the network."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def post(
        self, url: str, content: bytes, headers: Sequence[tuple[str, str]], *, max_bytes: int
    ) -> Answer:
        answer = self.handler(httpx.Request("POST", url, headers=list(headers), content=content))
        response = await answer if inspect.isawaitable(answer) else answer
        assert isinstance(response, httpx.Response)
        body = response.content
        too_large = len(body) > max_bytes
        headers_ = CIMultiDict(response.headers.multi_items())
        return Answer(response.status_code, headers_, b"" if too_large else body, too_large)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A gateway whose network is ``handler`` and whose sleeps are only recorded."""

    def __init__(self, handler: Handler, **gateway: object) -> None:
        self.calls: Counter[str] = Counter()
        self.waits: list[float] = []
        self.clock = FakeClock()

        def counted(request: httpx.Request) -> httpx.Response:
            self.calls[request.url.path] += 1
            return handler(request)

        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)

        self.gateway = Gateway(
            transport=MockWire(counted),
            clock=self.clock,
            sleep=sleep,
            **gateway,  # type: ignore[arg-type]
        )

    def send(
        self,
        *targets: Target,
        payload: object = None,
        headers: dict[str, str] | None = None,
        max_timeout: float | None = None,
    ) -> list[Result]:
        async def run() -> list[Result]:
            await self.gateway.start()
            try:
                return await self.gateway.dispatch(
                    targets,
                    orjson.dumps(payload if payload is not None else {"a": 1}),
                    client_id="c_tenant",
                    headers=headers or {},
                    max_timeout=max_timeout,
                )
            finally:
                await self.gateway.close()

        return asyncio.run(run())


def target(path: str = "/hook", **settings: object) -> Target:
    """A target with the spec's defaults for a new destination, unless ``settings`` say."""
    values: dict[str, object] = {
        "name": path.strip("/") or "root",
        "url": f"http://d.test{path}",
        "timeout": DESTINATION_DEFAULTS["timeout_seconds"],
        "max_attempts": RETRY_DEFAULTS["max_attempts"],
        "initial_backoff": RETRY_DEFAULTS["initial_backoff_seconds"],
        "max_backoff": RETRY_DEFAULTS["max_backoff_seconds"],
        "failure_threshold": BREAKER_DEFAULTS["failure_threshold"],
        "cooldown": BREAKER_DEFAULTS["cooldown_seconds"],
    }
    return Target(**{**values, **settings})  # type: ignore[arg-type]


def statuses(*codes: int) -> Handler:
    """Answer with ``codes`` in turn, then keep answering the last one."""
    sequence = list(codes)

    def handler(request: httpx.Request) -> httpx.Response:
        code = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        return httpx.Response(code, json={"code": code})

    return handler


class TestRetries:
    def test_backoff_doubles_with_jitter_and_stays_under_its_cap(self) -> None:
        harness = Harness(statuses(503))
        [result] = harness.send(target(max_attempts=5, initial_backoff=0.1, max_backoff=0.35))
        assert (result.outcome, result.status, result.attempts) == ("failed", 503, 5)
        assert len(harness.waits) == 4
        first, second, third, fourth = harness.waits
        assert 0.1 <= first <= 0.2
        assert 0.2 <= second <= 0.3
        assert third == fourth == 0.35

    def test_retry_after_replaces_the_backoff(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if harness.calls["/hook"] == 1:
                return httpx.Response(429, headers={"Retry-After": "2"})
            return httpx.Response(200, json={"ok": True})

        harness = Harness(handler)
        [result] = harness.send(target())
        assert (result.outcome, result.attempts, result.body) == ("succeeded", 2, {"ok": True})
        assert harness.waits == [2.0]

    def test_a_retry_after_beyond_the_deadline_ends_the_retries(self) -> None:
        harness = Harness(lambda _: httpx.Response(503, headers={"Retry-After": "10"}))
        [result] = harness.send(target(timeout=1.0))
        assert (result.status, result.attempts, result.error_type) == (503, 1, "http_error")
        assert harness.waits == []

    def test_connection_errors_are_retried(self) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise ConnectFailed("connection refused")

        harness = Harness(refuse)
        [result] = harness.send(target(max_attempts=4))
        assert (result.error_type, result.error_detail) == ("connect_error", "connection refused")
        assert (result.attempts, result.status) == (4, None)

    def test_a_read_timeout_is_not_retried(self) -> None:
        # The request may have been processed: sending it again is the caller's call.
        def stall(request: httpx.Request) -> httpx.Response:
            raise TimeoutError("timed out")

        harness = Harness(stall)
        [result] = harness.send(target(timeout=2.0))
        assert (result.error_type, result.attempts) == ("timeout", 1)
        assert result.error_detail == "No complete answer within 2 s."

    @pytest.mark.parametrize("status", [400, 404, 409, 422, 500, 501])
    def test_other_statuses_are_not_retried(self, status: int) -> None:
        harness = Harness(statuses(status))
        [result] = harness.send(target())
        assert (result.status, result.attempts, result.body) == (status, 1, {"code": status})
        assert result.error_type == "http_error"

    def test_a_connection_closed_before_the_answer_is_retried(self) -> None:
        # Usually a pooled keep-alive connection the destination had just timed out.
        def closed(request: httpx.Request) -> httpx.Response:
            raise ClosedBeforeAnswer("peer closed connection")

        [result] = Harness(closed).send(target(max_attempts=2))
        assert (result.error_type, result.attempts) == ("transport_error", 2)

    def test_a_connection_broken_mid_answer_is_not_retried(self) -> None:
        def reset(request: httpx.Request) -> httpx.Response:
            raise Broken("connection reset")

        [result] = Harness(reset).send(target())
        assert (result.error_type, result.attempts) == ("transport_error", 1)

    @pytest.mark.parametrize(
        ("cause", "answered", "error_type", "attempts"),
        [
            pytest.param(
                aiohttp.ServerDisconnectedError(), False, "transport_error", 3, id="closed"
            ),
            pytest.param(aiohttp.ServerDisconnectedError(), True, "transport_error", 1, id="cut"),
            pytest.param(
                aiohttp.ClientOSError(104, "reset"), False, "transport_error", 1, id="reset"
            ),
            pytest.param(aiohttp.ServerTimeoutError("slow"), False, "timeout", 1, id="timeout"),
            pytest.param(
                aiohttp.ClientPayloadError("bad chunk"), True, "transport_error", 1, id="bad"
            ),
            pytest.param(aiohttp.InvalidURL("http://"), False, "not_sent", 1, id="url"),
        ],
    )
    def test_aiohttp_errors_are_told_apart(
        self, cause: Exception, answered: bool, error_type: str, attempts: int
    ) -> None:
        def failing(request: httpx.Request) -> httpx.Response:
            raise named(cause, answered=answered)

        [result] = Harness(failing).send(target())
        assert (result.error_type, result.attempts) == (error_type, attempts)

    def test_a_host_name_the_resolver_refuses_is_not_sent_and_not_counted(self) -> None:
        # This side failed before a byte left: reported, never a 500, never the breaker's.
        def unresolvable(request: httpx.Request) -> httpx.Response:
            raise UnicodeError("encoding with 'idna' codec failed")

        harness = Harness(unresolvable)
        shaky = target(failure_threshold=1)
        [result] = harness.send(shaky)
        assert (result.error_type, result.attempts) == ("not_sent", 1)
        assert harness.gateway.circuit(shaky).state == "closed"

    def test_a_stored_url_with_a_malformed_host_is_not_sent(self) -> None:
        harness = Harness(statuses(200), allowed_hosts=HostAllowList(["a.test"]))
        [result] = harness.send(target(name="odd", url="http://xn--/hook", timeout=1))
        assert (result.error_type, result.attempts) == ("not_sent", 0)
        assert result.error_detail == (
            "The stored URL cannot be dialled: it has a host name that is not valid."
        )
        assert harness.calls.total() == 0


class TestCircuitBreaker:
    def test_opens_after_n_failures_then_fails_fast_without_the_network(self) -> None:
        harness = Harness(statuses(500))
        shaky = target(max_attempts=1, failure_threshold=3, cooldown=30.0)
        for _ in range(3):
            harness.send(shaky)
        assert harness.calls["/hook"] == 3
        [result] = harness.send(shaky)
        assert (result.error_type, result.attempts, result.status) == ("circuit_open", 0, None)
        assert harness.calls["/hook"] == 3
        snapshot = harness.gateway.circuit(shaky)
        assert (snapshot.state, snapshot.times_opened, snapshot.retry_after) == ("open", 1, 30.0)

    def test_half_opens_after_the_cooldown_and_closes_on_success(self) -> None:
        harness = Harness(statuses(503, 503, 200))
        shaky = target(max_attempts=1, failure_threshold=2, cooldown=10.0)
        harness.send(shaky)
        harness.send(shaky)
        harness.clock.now += 9.9
        assert harness.send(shaky)[0].error_type == "circuit_open"
        harness.clock.now += 0.1
        assert harness.gateway.circuit(shaky).state == "half_open"
        [result] = harness.send(shaky)
        assert (result.outcome, result.attempts) == ("succeeded", 1)
        assert harness.gateway.circuit(shaky).state == "closed"

    def test_a_failed_probe_opens_it_again(self) -> None:
        harness = Harness(statuses(500))
        shaky = target(max_attempts=1, failure_threshold=1, cooldown=5.0)
        harness.send(shaky)
        harness.clock.now += 5
        assert harness.send(shaky)[0].attempts == 1  # the probe went out
        assert harness.gateway.circuit(shaky).times_opened == 2
        assert harness.send(shaky)[0].error_type == "circuit_open"

    def test_client_errors_and_429_do_not_count(self) -> None:
        harness = Harness(statuses(404, 429, 400, 429))
        shaky = target(max_attempts=1, failure_threshold=1)
        for _ in range(4):
            assert harness.send(shaky)[0].attempts == 1
        assert harness.gateway.circuit(shaky).state == "closed"

    def test_retries_stop_when_the_breaker_opens_mid_way(self) -> None:
        harness = Harness(statuses(503))
        shaky = target(max_attempts=5, failure_threshold=2)
        [result] = harness.send(shaky)
        assert (result.attempts, result.error_type) == (2, "circuit_open")
        assert harness.calls["/hook"] == 2

    def test_each_destination_has_its_own(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(500 if request.url.path == "/bad" else 200, json={})

        harness = Harness(handler)
        bad, good = target("/bad", max_attempts=1, failure_threshold=1), target("/good")
        harness.send(bad, good)
        results = harness.send(bad, good)
        assert [r.error_type for r in results] == ["circuit_open", None]


class TestAnswers:
    def test_payload_and_headers_go_out_as_json(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(201, json={"id": 1})

        harness = Harness(handler)
        [result] = harness.send(target(), payload={"name": "Zoë", "n": [1, 2]})
        assert (result.outcome, result.status, result.body) == ("succeeded", 201, {"id": 1})
        request = seen[0]
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert request.content.decode() == '{"name":"Zoë","n":[1,2]}'

    def test_a_body_over_the_cap_is_not_read_further(self) -> None:
        body = b"[" + b"1," * 600 + b"1]"
        harness = Harness(lambda _: httpx.Response(200, content=body), max_response_bytes=1000)
        [result] = harness.send(target())
        assert (result.error_type, result.body) == ("response_too_large", None)

    def test_a_body_at_the_cap_is_read(self) -> None:
        body = b'"' + b"x" * 998 + b'"'
        harness = Harness(lambda _: httpx.Response(200, content=body), max_response_bytes=1000)
        assert harness.send(target())[0].body == "x" * 998

    def test_an_error_answer_keeps_its_json_body(self) -> None:
        problem = {"type": "about:blank", "status": 422}
        [result] = Harness(lambda _: httpx.Response(422, json=problem)).send(target())
        assert (result.body, result.error_type) == (problem, "http_error")

    def test_an_error_answer_that_is_not_json_has_no_body(self) -> None:
        [result] = Harness(lambda _: httpx.Response(500, text="<h1>oops</h1>")).send(target())
        assert (result.body, result.error_type) == (None, "http_error")

    def test_a_host_removed_from_the_allow_list_is_not_called(self) -> None:
        harness = Harness(statuses(200), allowed_hosts=HostAllowList(["other.test"]))
        [result] = harness.send(target())
        assert (result.error_type, result.attempts) == ("host_not_allowed", 0)
        assert harness.calls["/hook"] == 0


class TestRetryAfter:
    NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            ("3", 3.0),
            (" 120 ", 120.0),
            (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
            (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
            ("soon", None),
            ("-1", None),
            ("", None),
            (None, None),
            ("²", None),  # str.isdigit() says yes; float() would raise
            ("٣", None),
            ("Mon, 99 Dec 9999 99:99:99 GMT", None),
        ],
    )
    def test_parsing(self, value: str | None, seconds: float | None) -> None:
        assert retry_after_seconds(value, now=self.NOW) == seconds


class TestHostAllowList:
    @pytest.mark.parametrize(
        ("entries", "url", "allowed"),
        [
            ([], "http://anything.test/", True),
            (["a.test"], "http://A.TEST:8080/x", True),
            (["a.test:8080"], "http://a.test:8080/x", True),
            (["a.test:8080"], "http://a.test/x", False),
            (["a.test:443"], "https://a.test/x", True),
            (["*.a.test"], "http://b.a.test/", True),
            (["*.a.test"], "http://a.test/", False),
            (["*.a.test"], "http://ba.test/", False),
            (["[::1]:8080"], "http://[::1]:8080/", True),
            (["[::1]:8080"], "http://[::1]:9090/", False),
            (["::1"], "http://[::1]:9090/", True),
        ],
    )
    def test_matching(self, entries: list[str], url: str, allowed: bool) -> None:
        assert HostAllowList(entries).allows(httpx.URL(url)) is allowed

    @pytest.mark.parametrize("entry", ["a.test:0", "a.test:x", "http://a.test/", "u@a.test", ":80"])
    def test_bad_entries_are_refused(self, entry: str) -> None:
        with pytest.raises(ValueError):
            check_entry(entry)

    def test_check_url_reports_the_field(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            check_url("gopher://a.test/", HostAllowList([]))
        assert caught.value.errors == [{"field": "url", "message": "must be an http or https URL"}]


def slow(seconds: float) -> Callable[[httpx.Request], object]:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return httpx.Response(200, json={"slow": seconds})

    return handler


class TestNothingACallerControlsMovesTheBreaker:
    """Destinations are shared by every tenant: only the destination's own failures count."""

    def test_a_callers_shorter_deadline_is_cut_short_not_a_timeout(self) -> None:
        harness = Harness(slow(0.3))  # type: ignore[arg-type]
        victim = target(timeout=5.0, max_attempts=1, failure_threshold=2)
        for _ in range(5):
            [result] = harness.send(victim, max_timeout=0.05)
            assert (result.error_type, result.attempts) == ("cut_short", 1)
        assert result.error_detail == (
            "The request's timeout_seconds (0.05 s) ran out before the destination's own "
            "deadline (5 s)."
        )
        circuit = harness.gateway.circuit(victim)
        assert (circuit.state, circuit.consecutive_failures) == ("closed", 0)
        [result] = harness.send(victim)
        assert result.outcome == "succeeded"

    def test_the_destinations_own_deadline_still_counts(self) -> None:
        harness = Harness(slow(0.3))  # type: ignore[arg-type]
        slowpoke = target(timeout=0.05, max_attempts=1, failure_threshold=2)
        # A caller's timeout_seconds at or above the destination's changes nothing.
        results = [harness.send(slowpoke, max_timeout=1.0)[0] for _ in range(3)]
        assert [r.error_type for r in results] == ["timeout", "timeout", "circuit_open"]

    def test_a_header_that_cannot_be_encoded_is_not_sent(self) -> None:
        harness = Harness(statuses(200))
        shaky = target(failure_threshold=1)
        for _ in range(3):
            [result] = harness.send(shaky, headers={"idempotency-key": "\xe9"})
            assert (result.error_type, result.attempts) == ("not_sent", 0)
        assert harness.calls.total() == 0
        assert harness.gateway.circuit(shaky).state == "closed"

    def test_waiting_for_the_pool_is_this_sides_doing(self) -> None:
        # A slow destination holding the only connection must not open a fast one's breaker.
        def handler(request: httpx.Request) -> object:
            return slow(0.4 if request.url.path == "/slow" else 0)(request)

        harness = Harness(handler, max_connections=1)  # type: ignore[arg-type]
        hog = target("/slow", timeout=1.0)
        fast = target("/fast", timeout=0.1, max_attempts=1, failure_threshold=1)
        for _ in range(2):
            hogged, waited = harness.send(hog, fast)
            assert hogged.outcome == "succeeded"
            assert (waited.error_type, waited.attempts) == ("cut_short", 0)
        assert waited.error_detail == (
            "No free connection in the gateway's pool of 1 before the deadline (0.1 s)."
        )
        assert harness.gateway.circuit(fast).state == "closed"

    def test_one_client_cannot_take_a_destinations_share_from_the_others(self) -> None:
        calls: Counter[str] = Counter()
        finished: Counter[str] = Counter()
        seen_by_other: list[int] = []

        async def handler(request: httpx.Request) -> httpx.Response:
            who = request.headers["x-client"]
            calls[who] += 1
            if who == "other":
                seen_by_other.append(finished["greedy"])
            await asyncio.sleep(0.3)
            finished[who] += 1
            return httpx.Response(200, json={})

        gateway = Gateway(transport=MockWire(handler), max_concurrent_per_client=2)
        shared = target(timeout=1.0, max_attempts=1, failure_threshold=1)

        async def run() -> list[Result]:
            await gateway.start()
            try:
                sends = [
                    gateway.dispatch(
                        [shared], b"{}", client_id=who, headers={"x-client": who}, max_timeout=limit
                    )
                    for who, limit in [
                        ("greedy", None),
                        ("greedy", None),
                        ("greedy", 0.1),
                        ("greedy", 0.1),
                        ("other", None),
                    ]
                ]
                return [result for results in await asyncio.gather(*sends) for result in results]
            finally:
                await gateway.close()

        results = asyncio.run(run())
        # The greedy client's first two calls hold its whole share; its next two wait for
        # it and are cut short, never reaching the destination; the other client's call
        # goes out at once (0.3 s, not 0.6 s after waiting its turn).
        assert [r.error_type for r in results] == [None, None, "cut_short", "cut_short", None]
        assert results[2].error_detail == (
            "Waited for this client's other calls to hook (2 at most at once) until the "
            "deadline (0.1 s)."
        )
        assert seen_by_other == [0]  # it went out while the greedy calls were in flight
        assert calls == {"greedy": 2, "other": 1}
        assert gateway.circuit(shared).state == "closed"
        assert gateway._shares._held == {}  # nothing kept once nobody waits

    def test_one_client_cannot_take_the_pool_from_the_others(self) -> None:
        in_flight: Counter[str] = Counter()
        most: Counter[str] = Counter()
        arrivals: list[str] = []

        async def handler(request: httpx.Request) -> httpx.Response:
            who = request.headers["x-client"]
            arrivals.append(who)
            in_flight[who] += 1
            most[who] = max(most[who], in_flight[who])
            await asyncio.sleep(0.2)
            in_flight[who] -= 1
            return httpx.Response(200, json={})

        gateway = Gateway(
            transport=MockWire(handler),
            max_connections=4,
            max_connections_per_client=2,
            max_concurrent_per_client=2,
        )
        many = [target(f"/d{n}", timeout=2.0) for n in range(6)]

        async def run() -> tuple[list[Result], list[Result]]:
            await gateway.start()
            try:
                greedy = gateway.dispatch(many, b"{}", client_id="g", headers={"x-client": "g"})
                other = gateway.dispatch(many[:2], b"{}", client_id="o", headers={"x-client": "o"})
                return await asyncio.gather(greedy, other)
            finally:
                await gateway.close()

        greedy, other = asyncio.run(run())
        assert all(r.succeeded for r in greedy + other)
        assert most == {"g": 2, "o": 2}  # the greedy client's six calls went two at a time
        # Not queued behind them: both of the other client's calls went out with the
        # greedy client's first two, before any of its next four.
        assert sorted(arrivals[:4]) == ["g", "g", "o", "o"]

    def test_a_wait_in_an_earlier_attempt_still_excuses_a_later_timeout(self) -> None:
        answers = iter(["hold", "503", "hang"])

        async def handler(request: httpx.Request) -> httpx.Response:
            answer = next(answers)
            if answer == "hold":
                await asyncio.sleep(0.3)
                return httpx.Response(200, json={})
            if answer == "503":
                return httpx.Response(503, json={})
            await asyncio.sleep(2)
            return httpx.Response(200, json={})

        gateway = Gateway(transport=MockWire(handler), max_concurrent_per_client=1)
        mixed = target(timeout=0.6, max_attempts=2, initial_backoff=0.0, max_backoff=0.0)

        async def run() -> list[Result]:
            await gateway.start()
            try:
                first = gateway.dispatch([mixed], b"{}", client_id="c", headers={})
                second = gateway.dispatch([mixed], b"{}", client_id="c", headers={})
                return [r for results in await asyncio.gather(first, second) for r in results]
            finally:
                await gateway.close()

        held, waited = asyncio.run(run())
        assert held.succeeded
        # It waited 0.3 s for its share, met a real 503 (counted), then ran out of the time
        # the wait took: cut short, not the destination's timeout.
        assert (waited.error_type, waited.attempts, waited.status) == ("cut_short", 2, 503)
        assert gateway.circuit(mixed).consecutive_failures == 1

    def test_an_unexpected_error_is_one_failed_result(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/odd":
                raise RuntimeError("a library bug")
            return httpx.Response(200, json={})

        harness = Harness(handler)
        odd, fine = target("/odd", failure_threshold=1), target("/fine")
        results = harness.send(odd, fine)
        assert [r.error_type for r in results] == ["transport_error", None]
        assert results[0].error_detail == "Unexpected RuntimeError."
        assert harness.gateway.circuit(odd).state == "closed"  # nothing says it was the destination


class TestWhatCallersRead:
    FAILED = Result(
        destination="billing",
        status=500,
        latency_ms=12.3,
        attempts=1,
        body={"error": "Traceback (most recent call last): /srv/app.py", "db_password": "x"},
        error_type="http_error",
        error_detail="HTTP 500.",
    )

    def test_a_tenant_reads_a_fixed_sentence_and_no_failed_body(self) -> None:
        assert self.FAILED.as_dict(disclose=False) == {
            "destination": "billing",
            "outcome": "failed",
            "status": 500,
            "latency_ms": 12.3,
            "attempts": 1,
            "body": None,
            "error": {
                "type": "http_error",
                "detail": "The destination answered with an error status.",
            },
        }

    def test_an_admin_reads_everything(self) -> None:
        disclosed = self.FAILED.as_dict(disclose=True)
        assert disclosed["body"] == self.FAILED.body
        assert disclosed["error"] == {"type": "http_error", "detail": "HTTP 500."}

    def test_a_success_keeps_its_body_for_everyone(self) -> None:
        ok = Result(destination="a", status=200, latency_ms=1, attempts=1, body={"id": 7})
        assert ok.as_dict(disclose=False)["body"] == {"id": 7}

    def test_every_error_type_of_the_spec_has_a_public_sentence(self) -> None:
        spec = yaml.safe_load(Path("spec/openapi.yaml").read_text())
        types = spec["components"]["schemas"]["DispatchError"]["properties"]["type"]["enum"]
        assert sorted(types) == sorted(PUBLIC_DETAILS)
        for sentence in DELIVERY_DETAILS.values():  # nothing about one destination in them
            assert not any(word in sentence for word in ("http:", "127.", "HTTP ", "SSL"))

    def test_every_type_a_delivery_adds_is_documented(self) -> None:
        spec = yaml.safe_load(Path("spec/openapi.yaml").read_text())
        documented = spec["components"]["schemas"]["DeliveryError"]["description"]
        for kind in set(DELIVERY_DETAILS) - set(PUBLIC_DETAILS):
            assert f"`{kind}`" in documented


class TestDialableUrls:
    @pytest.mark.parametrize(
        ("url", "stored"),
        [
            ("http://2130706433/hook", "http://127.0.0.1/hook"),
            ("http://127.1/hook", "http://127.0.0.1/hook"),
            ("http://0x7f.0.0.1:8080/", "http://127.0.0.1:8080/"),
            ("http://127.0.0.1./hook", "http://127.0.0.1/hook"),
            (
                "https://Billing.Example.COM./a/../hooks?x=1",
                "https://billing.example.com/hooks?x=1",
            ),
            ("http://bücher.test:80/", "http://xn--bcher-kva.test/"),
            ("http://[::1]:9000/x", "http://[::1]:9000/x"),
        ],
    )
    def test_stored_in_the_form_the_transport_dials(self, url: str, stored: str) -> None:
        assert dialable_url(url) == stored
        assert check_url(url, HostAllowList([])) == stored

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("http://999.0.0.1/", "is not a valid URL"),
            ("http://a..b/", "has a host name that is not valid"),
            ("http://xn--/", "has a host name that is not valid"),
            (f"http://{'a' * 254}/", "has a host name longer than 253 characters"),
            (
                f"http://{'a' * 63}.{'b' * 64}/",
                "has a host name with a label longer than 63 characters",
            ),
            ("http://./", "must name a host"),
            ("http://a.test:0/", "has a port outside 1-65535"),
            ("http://u:p@a.test/", "must not carry credentials (user:password@)"),
            ("http://a.test/#top", "must not have a #fragment"),
            ("http://a.test/ x", "must not contain spaces or control characters"),
            ("http:///hooks", "must name a host"),
            ("http:a.test", "must name a host"),
            ("http://[::1]:99999/", "has a port outside 1-65535"),
            ("http://a.test/" + "é" * 1900, "is longer than 2000 characters once normalised"),
        ],
    )
    def test_undialable_urls_are_refused(self, url: str, message: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            check_url(url, HostAllowList([]))
        assert caught.value.errors == [{"field": "url", "message": message}]

    @pytest.mark.parametrize(
        ("entry", "url"),
        [
            ("127.0.0.1", "http://2130706433/"),
            ("127.1:8080", "http://127.0.0.1:8080/"),
            ("*.Example.com.", "http://api.example.com./"),
            ("[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]/"),
        ],
    )
    def test_the_allow_list_compares_canonical_forms(self, entry: str, url: str) -> None:
        assert check_url(url, HostAllowList([entry]))

    @pytest.mark.parametrize(
        ("host", "dialable"),
        [
            (".".join(["a" * 63] * 3 + ["b" * 61]), True),  # 253 characters
            (".".join(["a" * 63] * 3 + ["b" * 61]) + ".", True),  # and its trailing dot
            (".".join(["a" * 63] * 3 + ["b" * 62]), False),  # 254
            (".".join(["a" * 63] * 3 + ["b" * 62]) + ".", False),
            (".".join(["a" * 63] * 4), False),  # 255
        ],
    )
    def test_the_spec_pattern_and_the_service_agree_on_a_host_names_length(
        self, host: str, dialable: bool
    ) -> None:
        """The spec says its pattern is the whole rule: a URL it lets through is one the
        service stores, and what it refuses the service refuses too."""
        spec = yaml.safe_load(Path("spec/openapi.yaml").read_text())
        schema = spec["components"]["schemas"]["DestinationUrl"]
        url = f"https://{host}/hooks"
        assert jsonschema_rs.validator_for(schema).is_valid(url) is dialable
        assert (re.search(schema["pattern"], url) is not None) is dialable  # what fuzzers use
        if dialable:
            assert check_url(url, HostAllowList([]))
        else:
            with pytest.raises(ValidationFailed):
                check_url(url, HostAllowList([]))

    def test_another_spelling_does_not_slip_past_the_allow_list(self) -> None:
        with pytest.raises(ValidationFailed):
            check_url("http://2130706433/", HostAllowList(["localhost"]))
