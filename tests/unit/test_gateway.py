"""The gateway against httpx's MockTransport: no sockets, no sleeping, a clock we move."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import httpx
import pytest

from server.downstream.gateway import Gateway, Result, Target, retry_after_seconds
from server.downstream.hosts import HostAllowList, check_entry
from server.errors import ValidationFailed
from server.services.destinations import check_url

Handler = Callable[[httpx.Request], httpx.Response]


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
            transport=httpx.MockTransport(counted),
            clock=self.clock,
            sleep=sleep,
            **gateway,  # type: ignore[arg-type]
        )

    def send(self, *targets: Target, payload: object = None) -> list[Result]:
        async def run() -> list[Result]:
            await self.gateway.start()
            try:
                return await self.gateway.dispatch(
                    targets, payload if payload is not None else {"a": 1}, headers={}
                )
            finally:
                await self.gateway.close()

        return asyncio.run(run())


def target(path: str = "/hook", **settings: object) -> Target:
    values: dict[str, object] = {"name": path.strip("/") or "root", "url": f"http://d.test{path}"}
    values.setdefault("timeout", 5.0)
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
            raise httpx.ConnectError("connection refused", request=request)

        harness = Harness(refuse)
        [result] = harness.send(target(max_attempts=4))
        assert (result.error_type, result.error_detail) == ("connect_error", "connection refused")
        assert (result.attempts, result.status) == (4, None)

    def test_a_read_timeout_is_not_retried(self) -> None:
        # The request may have been processed: sending it again is the caller's call.
        def stall(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("timed out", request=request)

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
            raise httpx.RemoteProtocolError("peer closed connection", request=request)

        [result] = Harness(closed).send(target(max_attempts=2))
        assert (result.error_type, result.attempts) == ("transport_error", 2)

    def test_a_connection_broken_mid_answer_is_not_retried(self) -> None:
        def reset(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadError("connection reset", request=request)

        [result] = Harness(reset).send(target())
        assert (result.error_type, result.attempts) == ("transport_error", 1)

    @pytest.mark.parametrize(
        ("cause", "error_type", "attempts"),
        [
            pytest.param(aiohttp.ServerDisconnectedError(), "transport_error", 3, id="closed"),
            pytest.param(aiohttp.ClientOSError(104, "reset"), "transport_error", 1, id="reset"),
            pytest.param(aiohttp.ServerTimeoutError("slow"), "timeout", 1, id="timeout"),
        ],
    )
    def test_aiohttp_errors_are_told_apart(
        self, cause: Exception, error_type: str, attempts: int
    ) -> None:
        # httpx_aiohttp reports every aiohttp connection error as ConnectTimeout.
        def failing(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectTimeout("mapped") from cause

        [result] = Harness(failing).send(target())
        assert (result.error_type, result.attempts) == (error_type, attempts)

    def test_a_host_name_the_resolver_refuses_is_a_connect_error(self) -> None:
        # Stored before the URL check knew better: reported, never a 500.
        def unresolvable(request: httpx.Request) -> httpx.Response:
            raise UnicodeError("encoding with 'idna' codec failed")

        [result] = Harness(unresolvable).send(target())
        assert (result.error_type, result.attempts) == ("connect_error", 1)

    def test_a_stored_url_with_a_malformed_host_is_a_connect_error(self) -> None:
        harness = Harness(statuses(200), allowed_hosts=HostAllowList(["a.test"]))
        [result] = harness.send(Target(name="odd", url="http://xn--/hook", timeout=1))
        assert (result.error_type, result.attempts) == ("connect_error", 0)


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
