"""Prometheus metrics (prometheus-client), correct with several worker processes.

With more than one worker each process writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up, whichever worker answers the
scrape (prometheus-client's multiprocess mode). ``python -m server`` sets that folder up
for its workers; under another process manager, set it yourself, to an empty folder,
before the workers start. Workers write there only if the variable is set before
``prometheus_client`` is imported (it picks its storage then); ``/metrics`` reads the
folder the settings name (``metrics_samples_dir``, from the same variable).

Labels are bounded: operationIds come from the spec (``unmatched`` for paths it does not
have), statuses are HTTP codes, destinations are the admins' list. Clients, paths and
request ids are never labels: they belong in the logs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "http_requests", "HTTP requests answered, by operationId and status.", ["operation", "status"]
)
REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by operationId and status.",
    ["operation", "status"],
    buckets=SECONDS,
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight", "Requests being served right now.", multiprocess_mode="livesum"
)
EDGE_REFUSALS = Counter(
    "http_edge_refusals",
    "Requests refused before the app saw them (head too large, too slow, malformed), by reason.",
    ["reason"],
)
RATE_LIMITED = Counter(
    "rate_limit_rejections", "Requests refused with 429, by rate-limit policy.", ["policy"]
)
IDEMPOTENCY_KEYS_DROPPED = Counter(
    "idempotency_keys_dropped",
    "Stored Idempotency-Keys deleted by the sweep: expired (past the TTL) or over_limit.",
    ["reason"],
)
DISPATCH_RESULTS = Counter(
    "dispatch_results",
    "Results of POST /dispatch, one per destination, by destination and outcome.",
    ["destination", "outcome"],
)
DISPATCH_SECONDS = Histogram(
    "dispatch_destination_duration_seconds",
    "Time to one destination's result (every attempt and backoff), by destination and outcome.",
    ["destination", "outcome"],
    buckets=SECONDS,
)
BREAKER_STATE = Gauge(
    "circuit_breaker_state",
    "A destination's circuit breaker: 0 closed, 1 half-open, 2 open (past its cooldown, it "
    "stays 2 until a call probes). With several workers, the worst of the live ones.",
    ["destination"],
    multiprocess_mode="livemax",
)
BREAKER_OPENED = Counter(
    "circuit_breaker_opened", "Times a destination's circuit breaker opened.", ["destination"]
)
BREAKER_LEVELS = {"closed": 0, "half_open": 1, "open": 2}
DELIVERY_ATTEMPTS = Counter(
    "delivery_attempts",
    "Attempts of asynchronous deliveries, by destination, outcome (delivered or the error "
    "type) and what followed (delivered, pending: tried again later, dead, lost_lease).",
    ["destination", "outcome", "result"],
)
DELIVERIES_DEAD = Counter(
    "deliveries_dead", "Deliveries that ended dead, by destination.", ["destination"]
)
DELIVERY_QUEUE = Gauge(
    "delivery_queue_depth",
    "Deliveries pending or under way (delivering), as a worker last counted them.",
    ["state"],
    multiprocess_mode="livemax",
)
DELIVERY_OLDEST = Gauge(
    "delivery_oldest_pending_age_seconds",
    "Age of the oldest delivery not yet delivered (since it was queued or retried).",
    multiprocess_mode="livemax",
)


class RequestMetrics:
    """The per-request series, with their labelled children kept: ``labels()`` takes a
    lock and builds a key on every call, which the hot path need not pay."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, operation: str, status: int, seconds: float) -> None:
        children = self._children.get((operation, status))
        if children is None:
            labels = (operation, str(status))
            children = REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels)
            self._children[operation, status] = children
        children[0].inc()
        children[1].observe(seconds)


REQUEST_METRICS = RequestMetrics()


def observe_dispatch(destination: str, outcome: str, seconds: float) -> None:
    DISPATCH_RESULTS.labels(destination, outcome).inc()
    DISPATCH_SECONDS.labels(destination, outcome).observe(seconds)


def serve(port: int) -> None:
    """``/metrics`` on 127.0.0.1:``port`` from a thread, for a process without the API."""
    start_http_server(port, addr="127.0.0.1")


def observe_delivery_attempt(destination: str, outcome: str, result: str) -> None:
    DELIVERY_ATTEMPTS.labels(destination, outcome, result).inc()
    if result == "dead":
        DELIVERIES_DEAD.labels(destination).inc()


def observe_delivery_queue(depth: dict[str, int], oldest_seconds: float) -> None:
    for state in ("pending", "delivering"):
        DELIVERY_QUEUE.labels(state).set(depth.get(state, 0))
    DELIVERY_OLDEST.set(oldest_seconds)


def breaker_changed(destination: str, state: str) -> None:
    BREAKER_STATE.labels(destination).set(BREAKER_LEVELS[state])
    if state == "open":
        BREAKER_OPENED.labels(destination).inc()


def destination_removed(destination: str) -> None:
    try:
        BREAKER_STATE.remove(destination)
    except KeyError:
        pass  # never dispatched to in this process


def exposition(samples: Path | None) -> bytes:
    """Every series in Prometheus' text format: this process's, or, given the ``samples``
    folder the workers write to (``PROMETHEUS_MULTIPROC_DIR``), all workers' summed."""
    if samples is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(samples))  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def worker_stopped(samples: Path | None) -> None:
    """A worker's live gauges (in-flight, breaker states) stop counting when it stops."""
    if samples is not None:
        multiprocess.mark_process_dead(os.getpid(), str(samples))  # type: ignore[no-untyped-call]


def prepare_multiprocess_folder(configured: Path | None) -> tuple[Path, bool]:
    """For a supervisor about to start workers: an empty samples folder, the ``configured``
    one or a new temporary one, and whether it was made here (to remove at exit). The
    supervisor hands it to the workers as ``PROMETHEUS_MULTIPROC_DIR``, which is where
    prometheus_client looks."""
    if configured is not None:
        configured.mkdir(parents=True, exist_ok=True)
        for stale in configured.glob("*.db"):  # a previous run's samples would be added in
            stale.unlink()
        return configured, False
    return Path(tempfile.mkdtemp(prefix="contract-api-metrics-")), True


def remove_multiprocess_folder(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
