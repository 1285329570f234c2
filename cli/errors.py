"""Every way a call can fail, as one readable line and an exit code.

Exit codes: 0 everything succeeded, 1 some request failed (an error answer, or no answer at
all), 2 a usage or configuration error.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

OK, FAILED, USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report on one line; ``exit_code`` says what kind."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)


def transport_problem(exc: BaseException, url: str) -> str:
    """What went wrong on the way to ``url``, for people."""
    cause = exc.__cause__ or exc.__context__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect to {url}: timed out"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {url} in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        lowered = text.lower()
        if isinstance(cause, ssl.SSLError) or "ssl" in lowered or "certificate" in lowered:
            return f"TLS failed with {url}: {text}"
        if (
            "name or service not known" in lowered
            or "nodename" in lowered
            or "resolution" in lowered
        ):
            return f"cannot resolve the host of {url}"
        if "refused" in lowered or "all connection attempts failed" in lowered:
            return f"connection refused by {url} (is the service running?)"
        return f"cannot connect to {url}: {text}"
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP failure with {url}: {text}"
    return f"{type(exc).__name__}: {text}"


def answer_problem(status: int, content_type: str, body: Any) -> str:
    """An error answer: its status, and the problem's title and detail when it has them."""
    if isinstance(body, dict) and "title" in body:
        line = f"{status} {body.get('title')}"
        if body.get("detail"):
            line += f": {body['detail']}"
        return line
    if body is None:
        kind = content_type.split(";")[0] or "no content type"
        return f"{status}: the answer is not JSON ({kind})"
    return f"{status}: {str(body)[:200]}"
