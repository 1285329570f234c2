"""The service's answers, judged by Prism as a validating proxy: no response violation.

Prism (pinned in package.json, installed by ``make node-tools``) sits between the generated
requests and a real server on loopback, and validates each answer against the spec on its
own, with its own reading of OpenAPI: it reports what it finds in an ``sl-violations``
header on the answer it passes through. Requests Prism finds invalid (the negative cases)
are forwarded too; only what it says about the responses counts here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet

from scripts.processes import ServerProcess
from tests.contract import preparation
from tests.contract.preparation import prepare
from tests.contract.test_spec import operations
from tests.databases import unavailable
from tests.downstream import Downstream, raw_answer, running
from tests.e2e.conftest import ROOT, LiveServer, free_port, seeded_server
from tests.identities import ADMIN, ALICE

PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "spec" / "openapi.yaml"
ADMIN_TAGS = {"clients", "destinations"}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    before = preparation.DESTINATION_URL  # test_schemathesis.py points it elsewhere
    with running(Downstream()) as echo:
        preparation.DESTINATION_URL = echo.url_for("/ok")
        allowed = json.dumps([echo.url.split("//")[1]])
        folder = tmp_path_factory.mktemp("prism")
        try:
            with seeded_server(folder, APP_DISPATCH_ALLOWED_HOSTS=allowed) as server:
                yield server
        finally:
            preparation.DESTINATION_URL = before


@contextmanager
def prism_proxy(upstream: str, log: Path) -> Iterator[str]:
    """``prism proxy`` in front of ``upstream`` (the spec's paths, without ``/api``)."""
    if not PRISM.is_file():
        unavailable(f"Prism is not installed at {PRISM} (make node-tools)")
    port = free_port()
    proxy = ServerProcess.start(
        [str(PRISM), "proxy", str(SPEC), upstream, "--host", "127.0.0.1", "--port", str(port)],
        url=f"http://127.0.0.1:{port}",
        log=log,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        if proxy.wait_answering("/hello", seconds=30, ready=lambda _: True) is None:
            pytest.fail(f"Prism did not start:\n{proxy.log_tail()}")
        yield proxy.url
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def prism(upstream: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with prism_proxy(f"{upstream.url}/api", log) as url:
        yield url


def response_violations(response: Any) -> list[dict[str, Any]]:
    header = response.headers.get("sl-violations") or "[]"
    if isinstance(header, list):  # Schemathesis' responses: every value of the field
        header = header[0]
    found: list[dict[str, Any]] = json.loads(header)
    return [v for v in found if v.get("location", [""])[0] == "response"]


# Not ./schemathesis.toml: that one is for a person's run against `make run`.
schema = schemathesis.openapi.from_path(SPEC, config=SchemathesisConfig.from_dict({}))
# Valid requests only: Prism 5.14 crashes when its report on an invalid request quotes a
# character a header cannot carry (a generated property name, say). The answers to invalid
# requests are checked against the spec by test_schemathesis.py; a few of every kind are
# sent through Prism below.
schema.config.generation.update(modes=[GenerationMode.POSITIVE], deterministic=True)
HYPOTHESIS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@HYPOTHESIS
def test_prism_finds_no_response_violation(case: schemathesis.Case, prism: str) -> None:
    prepare(case)
    if case.body is None or (case.method in ("GET", "HEAD") and not isinstance(case.body, NotSet)):
        # Prism's own limits: it never answers a request whose JSON body is `null`, and
        # refuses (501) a GET with a body. The service's answers to both are checked in
        # test_schemathesis.py; here they would only time Prism out.
        return
    caller = ADMIN if ADMIN_TAGS & set(case.operation.tags or []) else ALICE
    response = case.call(base_url=prism, headers=caller.headers, timeout=10)
    assert response.status_code < 500 or response.status_code in (502, 503), response.text
    violations = response_violations(response)
    assert not violations, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: "
        f"{json.dumps(violations, indent=1)}"
    )


def test_prism_reports_a_violation_it_sees(tmp_path: Path) -> None:
    """The check above can fail: an upstream whose greeting is a number is reported."""
    wrong = b'{"message": 42}'
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(wrong)).encode() + b"\r\n\r\n" + wrong
    )
    with raw_answer(answer) as url, prism_proxy(url.removesuffix("/raw"), tmp_path / "p.log") as p:
        response = httpx.get(f"{p}/hello", timeout=10)
    assert response.json() == {"message": 42}  # passed through as it came
    assert [v["location"] for v in response_violations(response)] == [
        ["response", "body", "message"]
    ]


def _concrete(path: str) -> str:
    return (
        path.replace("{user_id}", "1")
        .replace("{record_id}", "1")
        .replace("{client_id}", ALICE.client_id)
        .replace("{name}", "echo")
    )


def _media_type(operation: dict[str, Any]) -> str | None:
    return next(iter(operation.get("requestBody", {}).get("content", {})), None)


BODY_KINDS = ["text/plain body", "application/json for another media type", "unknown property"]
INVALID = [
    pytest.param(path, method.upper(), kind, id=f"{method.upper()} {path} {kind}")
    for path, method, operation in operations()
    for kind in (
        (["no credential"] if operation.get("security") != [] else [])
        + ["405", "414"]
        + [
            kind
            for kind in BODY_KINDS
            if _media_type(operation) not in (None, "application/x-www-form-urlencoded")
            and (kind != BODY_KINDS[1] or _media_type(operation) != "application/json")
        ]
    )
]


@pytest.mark.parametrize(("path", "method", "kind"), INVALID)
def test_prism_finds_no_violation_in_a_refusal(
    path: str, method: str, kind: str, prism: str
) -> None:
    """The refusals valid generation never provokes: each answer as the spec describes it.
    (Malformed JSON is not among them: Prism answers that itself, without forwarding.)"""
    url, headers, content = f"{prism}{_concrete(path)}", dict(ADMIN.headers), None
    if kind == "no credential":
        headers = {}
    elif kind == "405":
        method = "TRACE"
    elif kind == "414":
        url += "?" + "x" * 9000
    elif kind == "text/plain body":
        headers["Content-Type"], content = "text/plain", b"x"
    elif kind == "application/json for another media type":
        headers["Content-Type"], content = "application/json", b"{}"
    elif kind == "unknown property":
        media_type = _media_type(dict(schema.raw_schema["paths"][path][method.lower()]))
        headers["Content-Type"], content = str(media_type), b'{"surprise": 1}'
    response = httpx.request(method, url, headers=headers, content=content, timeout=10)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert not response_violations(response), response.headers["sl-violations"]
