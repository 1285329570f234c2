"""Request ids, request logs, /metrics and the health probes, in-process.

The counters are process-wide (one registry per process, as in production), so each test
reads a series before and after and checks the difference.
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from server.settings import Settings
from server.telemetry.logs import configure_logging, formatter
from tests.api.helpers import PROBLEM
from tests.config import ClientWith
from tests.downstream import Downstream, refused_url
from tests.identities import ADMIN, ALICE

NO_RETRY = {"max_attempts": 1, "initial_backoff_seconds": 0, "max_backoff_seconds": 0}


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def not_ready(response: Any) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["type"], body["title"]) == ("urn:contract-api:problem:not-ready", "Not ready")
    return body


class TestRequestId:
    def test_made_up_when_absent_on_every_kind_of_answer(self, anonymous: TestClient) -> None:
        ids = set()
        for response in (
            anonymous.get("/api/hello"),
            anonymous.get("/api/records"),  # 401
            anonymous.get("/api/nowhere"),  # 404
            anonymous.delete("/api/hello"),  # 405
        ):
            request_id = response.headers["x-request-id"]
            assert 1 <= len(request_id) <= 200 and request_id.isascii()
            ids.add(request_id)
        assert len(ids) == 4

    def test_a_valid_one_is_returned(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/hello", headers={"X-Request-ID": "order-1042:retry.2"})
        assert response.headers["x-request-id"] == "order-1042:retry.2"
        assert response.headers.get_list("x-request-id") == ["order-1042:retry.2"]

    @pytest.mark.parametrize("sent", ["has space", "x" * 201, "caf\xe9".encode("latin-1")])
    def test_an_invalid_one_is_replaced(self, anonymous: TestClient, sent: str | bytes) -> None:
        response = anonymous.get("/api/hello", headers={"X-Request-ID": sent})
        assert response.status_code == 200
        assert response.headers["x-request-id"] not in ("", sent)

    def test_browsers_may_send_and_read_it(self, client_with: ClientWith) -> None:
        with client_with(cors_allow_origins=["https://app.example"]) as client:
            response = client.options(
                "/api/hello",
                headers={
                    "Origin": "https://app.example",
                    "Access-Control-Request-Method": "GET",
                    "Access-Control-Request-Headers": "X-Request-ID",
                },
            )
            assert response.status_code == 200
            assert "x-request-id" in response.headers["access-control-allow-headers"].lower()
            exposed = client.get("/api/hello", headers={"Origin": "https://app.example"})
            assert "x-request-id" in exposed.headers["access-control-expose-headers"].lower()


Lines = list[dict[str, Any]]


class TestRequestLog:
    def test_one_line_per_request_with_its_facts(
        self, client: TestClient, request_log: Lines
    ) -> None:
        response = client.post(
            "/api/process_data",
            json={"user_id": 1, "item_id": 42, "quantity": 3},
            headers={"X-Request-ID": "trace-me-1"},
        )
        assert response.status_code == 200
        (line,) = request_log
        assert line.pop("latency_ms") >= 0
        assert line == {
            "event": "request",
            "level": "info",
            "log_level": "info",  # structlog.testing's own copy
            "logger": "server.access",
            "request_id": "trace-me-1",
            "method": "POST",
            "path": "/api/process_data",
            "operation": "process_data",
            "client_id": ALICE.client_id,
            "status": 200,
        }

    def test_failures_are_logged_with_what_is_known(
        self, anonymous: TestClient, request_log: Lines
    ) -> None:
        anonymous.get("/api/records", headers={"X-API-Key": "c_nobody.wrong"})
        anonymous.get("/api/nowhere")
        unauthorized, missing = request_log
        assert (unauthorized["operation"], unauthorized["status"]) == ("list_records", 401)
        assert unauthorized["client_id"] is None
        assert (missing["operation"], missing["status"]) == ("unmatched", 404)

    def test_no_secret_and_no_body_reaches_any_log(
        self, client: TestClient, caplog: pytest.LogCaptureFixture, request_log: Lines
    ) -> None:
        caplog.set_level(logging.DEBUG)
        client.post("/api/process_data", json={"user_id": 1, "item_id": 73737373, "quantity": -1})
        client.post(
            "/api/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": ALICE.client_id,
                "client_secret": ALICE.secret,
            },
        )
        client.post("/api/users", json={"name": "Zoë Secretname", "email": "zoe@example.com"})
        assert caplog.records and len(request_log) == 3
        rendered = "\n".join(
            [formatter("json").format(record) for record in caplog.records]
            + [str(record.__dict__) for record in caplog.records]
            + [str(line) for line in request_log]
        )
        # An id no timestamp of a log record will contain by chance (4242 once did).
        for secret in (ALICE.secret, ALICE.secret.split(".")[1], "Secretname", "73737373"):
            assert secret not in rendered

    def test_probes_are_logged_at_debug(self, anonymous: TestClient, request_log: Lines) -> None:
        anonymous.get("/api/health/live")
        anonymous.get("/api/hello")
        assert [(line["operation"], line["level"]) for line in request_log] == [
            ("live", "debug"),
            ("hello", "info"),
        ]

    def test_can_be_turned_off(self, client_with: ClientWith, request_log: Lines) -> None:
        with client_with(access_log=False) as client:
            assert client.get("/api/hello").status_code == 200
        assert request_log == []


class TestJsonLines:
    """What ``configure_logging`` makes of every line: one JSON object each."""

    @staticmethod
    def render(record: logging.LogRecord) -> dict[str, Any]:
        line = formatter("json").format(record)
        assert "\n" not in line
        parsed: dict[str, Any] = orjson.loads(line)
        return parsed

    def test_a_library_line(self) -> None:
        record = logging.LogRecord(
            "uvicorn.error", logging.WARNING, __file__, 1, "x %s", ("y",), None
        )
        line = self.render(record)
        assert line.pop("time").endswith("Z")
        assert line == {"event": "x y", "level": "warning", "logger": "uvicorn.error"}

    @pytest.mark.usefixtures("process_logging_restored")
    def test_a_server_process_writes_only_json(self, client_with: ClientWith) -> None:
        stream = io.StringIO()
        configure_logging("info", "json", stream)
        with client_with() as client:
            client.get("/api/hello", headers={"X-Request-ID": "abc-123"})
            client.get("/api/health/live")  # at DEBUG: not written at INFO
        lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]  # all JSON
        events = [line["event"] for line in lines]
        assert events[-3:] == ["service starting (environment=test)", "request", "service stopped"]
        (request,) = [line for line in lines if line.get("logger") == "server.access"]
        for line in lines:
            assert line["time"].endswith("Z") and line["level"] == "info"
        assert request["request_id"] == "abc-123"
        assert (request["logger"], request["operation"], request["status"]) == (
            "server.access",
            "hello",
            200,
        )

    def test_a_traceback_is_one_string_without_locals(self) -> None:
        api_key = "c_0123.do-not-log-me"  # a local variable where the error happens
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            record = logging.LogRecord(
                "server", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
            )
        line = self.render(record)
        assert "RuntimeError: boom" in line["exception"]
        assert api_key not in orjson.dumps(line).decode()


class TestMetrics:
    def test_a_samples_folder_given_as_a_setting_is_where_metrics_are_read(
        self, client_with: ClientWith, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The folder comes from the settings, not from prometheus_client's own look at the
        environment: set programmatically (no PROMETHEUS_MULTIPROC_DIR), the scrape reads it
        (it was a 500) and the worker's stop marks it (it raised)."""
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
        samples = tmp_path / "samples"
        samples.mkdir()
        with client_with(metrics_samples_dir=samples) as client:
            response = client.get("/metrics")
            assert response.status_code == 200, response.text
        # Left without raising: at the lifespan's end the worker is marked gone.

    def test_requests_by_operation_and_status(self, client: TestClient) -> None:
        before = scrape(client)
        for _ in range(3):
            client.get("/api/hello")
        client.get("/api/records/999999")
        after = scrape(client)
        hello = {"operation": "hello", "status": "200"}
        assert (
            value(after, "http_requests_total", **hello)
            - value(before, "http_requests_total", **hello)
            == 3
        )
        count = "http_request_duration_seconds_count"
        assert value(after, count, **hello) - value(before, count, **hello) == 3
        missing = {"operation": "get_record", "status": "404"}
        assert (
            value(after, "http_requests_total", **missing)
            - value(before, "http_requests_total", **missing)
            == 1
        )
        # /metrics itself is neither counted nor in flight.
        assert value(after, "http_requests_in_flight") == 0

    def test_rate_limit_rejections_by_policy(self, client_with: ClientWith) -> None:
        with client_with(rate_limit_anonymous="2/minute") as client:
            before = scrape(client)
            statuses = [client.get("/api/hello").status_code for _ in range(4)]
            assert statuses == [200, 200, 429, 429]
            after = scrape(client)
        assert (
            value(after, "rate_limit_rejections_total", policy="anonymous")
            - value(before, "rate_limit_rejections_total", policy="anonymous")
            == 2
        )

    def test_dispatch_outcomes_latency_and_breakers(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        admin = ADMIN.headers
        ok = {"name": "metrics-ok", "url": downstream.url_for("/ok")}
        assert client.post("/api/destinations", json=ok, headers=admin).status_code == 201
        with refused_url() as dead_url:
            dead = {
                "name": "metrics-dead",
                "url": dead_url,
                "retry": NO_RETRY,
                "circuit_breaker": {"failure_threshold": 1, "cooldown_seconds": 60},
            }
            assert client.post("/api/destinations", json=dead, headers=admin).status_code == 201
            before = scrape(client)
            for _ in range(2):
                assert client.post("/api/dispatch", json={"payload": {}}).status_code == 200
        after = scrape(client)

        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert grew("dispatch_results_total", destination="metrics-ok", outcome="succeeded") == 2
        assert (
            grew("dispatch_results_total", destination="metrics-dead", outcome="connect_error") == 1
        )
        assert (
            grew("dispatch_results_total", destination="metrics-dead", outcome="circuit_open") == 1
        )
        histogram = "dispatch_destination_duration_seconds_count"
        assert grew(histogram, destination="metrics-ok", outcome="succeeded") == 2
        assert value(after, "circuit_breaker_state", destination="metrics-ok") == 0
        assert value(after, "circuit_breaker_state", destination="metrics-dead") == 2
        assert grew("circuit_breaker_opened_total", destination="metrics-dead") == 1

    def test_head_and_other_methods(self, anonymous: TestClient) -> None:
        assert anonymous.head("/metrics").status_code == 200
        refused = anonymous.post("/metrics")
        assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")

    def test_can_be_turned_off(self, client_with: ClientWith) -> None:
        with client_with(metrics=False) as client:
            assert client.get("/metrics").status_code == 404


class TestHealth:
    def test_live(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/health/live")
        assert (response.status_code, response.json()) == (200, {"status": "alive"})
        assert "ratelimit" not in response.headers

    def test_ready_checks_the_database(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/health/ready")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "ready"
        assert list(body["checks"]) == ["database"]
        assert body["checks"]["database"]["status"] == "up"

    def test_ready_checks_redis_when_configured(
        self, client_with: ClientWith, redis_url: str
    ) -> None:
        with client_with(redis_url=redis_url) as client:
            response = client.get("/api/health/ready")
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert (checks["database"]["status"], checks["redis"]["status"]) == ("up", "up")

    def test_not_ready_without_redis(self, client_with: ClientWith) -> None:
        with client_with(redis_url="redis://127.0.0.1:9/0") as client:
            response = client.get("/api/health/ready")
        body = not_ready(response)
        assert body["detail"] == "Failing checks: redis."
        assert body["checks"]["redis"]["status"] == "down"
        assert body["checks"]["redis"]["detail"]
        assert body["checks"]["database"]["status"] == "up"

    def test_not_ready_without_the_database(self, client_with: ClientWith) -> None:
        nowhere = "postgresql://postgres@127.0.0.1:9/nowhere"
        with client_with(database_url=nowhere, database_timeout=0.5) as client:
            response = client.get("/api/health/ready")
            live = client.get("/api/health/live")
        body = not_ready(response)
        assert body["checks"]["database"]["status"] == "down"
        assert live.status_code == 200  # a dead database must not get the process restarted

    def test_probes_are_never_rate_limited(self, client_with: ClientWith) -> None:
        with client_with(rate_limit_anonymous="1/minute") as client:
            assert client.get("/api/hello").status_code == 200
            assert client.get("/api/hello").status_code == 429
            for _ in range(5):
                assert client.get("/api/health/live").status_code == 200
                assert client.get("/api/health/ready").status_code == 200


def test_settings_defaults() -> None:
    settings = Settings()
    assert (settings.log_format, settings.access_log, settings.metrics) == ("json", True, True)
