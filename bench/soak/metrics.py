"""The service's own count: ``http_requests_total`` on its /metrics, read with
prometheus_client's parser, next to what wrk saw."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.soak.service import Service


def metrics_cross_check(service: Service, wrk_5xx: int) -> dict[str, Any]:
    """The service's own count of 5xx answers, from ``http_requests_total`` on /metrics,
    next to what wrk saw. Skipped when /metrics is not served."""
    status, body = service.get("/metrics")
    if status != 200:
        return {"checked": False, "reason": f"GET /metrics answered {status}"}
    total = errors = 0.0
    for family in text_string_to_metric_families(body.decode(errors="replace")):
        for sample in family.samples:
            if sample.name != "http_requests_total":
                continue
            total += sample.value
            if sample.labels.get("status", "").startswith("5"):
                errors += sample.value
    if total == 0:
        return {"checked": False, "reason": "/metrics has no http_requests_total samples"}
    report: dict[str, Any] = {
        "checked": True,
        "requests_total": int(total),
        "server_errors": int(errors),
        "wrk_server_errors": wrk_5xx,
        "agrees": int(errors) == wrk_5xx,
    }
    return report
