"""Problems (RFC 9457): every failure as the client sees it, at the edge.

One table, ``KINDS``, maps each domain error of ``server/errors.py`` to its whole answer:
status, title, problem type, headers and extra members. The errors only the edge
raises are ``ApiProblem``s, Connexion's ``ProblemException``s, because Connexion's
security picks the most specific of several failed credentials by their status::

    connexion.ProblemException          also raised by Connexion itself (params, security, 415)
    └── ApiProblem                      ours: status, title and a stable ``type`` per subclass
        ├── BadRequest                  400
        │   ├── MalformedJson           400
        │   ├── InvalidEncoding         400
        │   └── OAuthError              400, with OAuth2's ``error`` code (token endpoint)
        ├── Unauthorized                401, with ``WWW-Authenticate``
        │   └── InvalidClient           401, OAuth2 ``invalid_client`` (token endpoint)
        ├── Forbidden                   403, scope missing (``WWW-Authenticate`` names it)
        ├── PayloadTooLarge             413
        ├── UnsupportedMediaType        415
        ├── TooManyRequests             429, with ``Retry-After`` and ``RateLimit`` fields
        └── NotReady                    503, a readiness check failed; carries the checks
    errors.ServiceError                 the domain's, answered by KINDS (below)
    └── errors.ValidationFailed
        └── FormValidationFailed        400, also with OAuth2's ``error`` (token endpoint)
    starlette.HTTPException             router errors (405 with ``Allow``)
    Exception                           anything else: a bare 500, details only in the log
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from server import errors
from server.http import conditions
from server.http.scope import request_info

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:contract-api:problem:"
MAX_DETAIL_CHARS = 300
MAX_INSTANCE_CHARS = 200  # the request path, as a problem's ``instance``


class FormValidationFailed(errors.ValidationFailed):
    """A token request (the one form body of this API) that does not match its schema: a
    validation problem that also carries OAuth2's ``error`` (RFC 6749 §5.2), so that an
    OAuth2 client library reads it like any other refusal of the token endpoint."""

    def __init__(
        self, errors: Sequence[Mapping[str, str]], *, sent: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(errors)
        wrong = {error["field"] for error in self.errors}
        if wrong == {"scope"}:
            self.code = "invalid_scope"
        elif wrong == {"grant_type"} and (sent or {}).get("grant_type"):  # sent, not ours
            self.code = "unsupported_grant_type"
        else:
            self.code = "invalid_request"


def _none(exc: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Kind:
    """A domain error's whole answer: status, title and problem type, and what the error
    itself adds, its headers and the members beyond RFC 9457's (none unless given)."""

    status: int
    title: str
    type: str = "about:blank"
    headers: Callable[[Any], dict[str, str]] = _none
    members: Callable[[Any], dict[str, Any]] = _none


# Each domain error as a problem; a subclass not listed is answered as its nearest base.
KINDS: dict[type[errors.ServiceError], Kind] = {
    errors.ServiceError: Kind(500, "Internal Server Error"),
    errors.ValidationFailed: Kind(
        400,
        "Validation failed",
        TYPE_PREFIX + "validation-error",
        members=lambda exc: {"errors": exc.errors},
    ),
    FormValidationFailed: Kind(
        400,
        "Validation failed",
        TYPE_PREFIX + "validation-error",
        members=lambda exc: {
            "errors": exc.errors,
            "error": exc.code,
            "error_description": exc.detail,
        },
    ),
    errors.InvalidCursor: Kind(400, "Invalid cursor", TYPE_PREFIX + "invalid-cursor"),
    errors.NotFound: Kind(404, "Not Found"),
    errors.Conflict: Kind(409, "Conflict", TYPE_PREFIX + "conflict"),
    errors.IdempotencyInProgress: Kind(
        409, "Request already in progress", TYPE_PREFIX + "idempotency-in-progress"
    ),
    errors.PreconditionFailed: Kind(
        412,
        "Precondition Failed",
        TYPE_PREFIX + "precondition-failed",
        headers=lambda exc: {"ETag": conditions.etag(exc.version)},  # the current one
    ),
    errors.IdempotencyKeyReused: Kind(
        422, "Idempotency key reused", TYPE_PREFIX + "idempotency-key-reused"
    ),
    errors.DispatchFailed: Kind(
        502,
        "Every destination failed",
        TYPE_PREFIX + "dispatch-failed",
        members=lambda exc: {
            "request_id": exc.request_id,
            **({"dispatch_id": exc.dispatch_id} if exc.dispatch_id else {}),
            "succeeded": 0,
            "failed": len(exc.results),
            "results": exc.results,
        },
    ),
    errors.Unavailable: Kind(503, "Service Unavailable"),
    errors.DatabaseUnavailable: Kind(
        503,
        "Database unavailable",
        TYPE_PREFIX + "database-unavailable",
        headers=lambda exc: {"Retry-After": str(exc.retry_after)},
    ),
}


def kind(exc: errors.ServiceError) -> Kind:
    return next(KINDS[cls] for cls in type(exc).__mro__ if cls in KINDS)


class ApiProblem(ProblemException):
    """Base of the edge's own problems; subclasses fix status, title and type."""

    status_code: ClassVar[int] = 500
    default_title: ClassVar[str] = "Internal Server Error"
    problem_type: ClassVar[str] = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        ext: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            status=self.status_code,
            title=self.default_title,
            detail=detail,
            type=self.problem_type,
            headers=dict(headers) if headers else None,
            ext=dict(ext) if ext else None,
        )


class BadRequest(ApiProblem):
    status_code = 400
    default_title = "Bad Request"


class MalformedJson(BadRequest):
    default_title = "Malformed JSON body"
    problem_type = TYPE_PREFIX + "malformed-json"


class InvalidEncoding(BadRequest):
    default_title = "Invalid body encoding"
    problem_type = TYPE_PREFIX + "invalid-encoding"


class OAuthError(BadRequest):
    """RFC 6749 §5.2 error of the token endpoint; ``error`` carries the OAuth2 code."""

    default_title = "Token request refused"
    problem_type = TYPE_PREFIX + "oauth-error"

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail, ext={"error": error, "error_description": detail})


REALM = "contract-api"


# Every 401 of an operation ends with this line: what a newcomer needs to get it right.
ACCEPTED_CREDENTIALS = (
    "Accepted: X-API-Key: <API key>, Authorization: Token <API key>, "
    "or Authorization: Bearer <token from /api/oauth/token>."
)


class Unauthorized(ApiProblem):
    """No credential, or one that does not hold (unknown, revoked, expired, forged). The
    detail says what is wrong, then which credentials are accepted."""

    status_code = 401
    default_title = "Unauthorized"
    problem_type = TYPE_PREFIX + "unauthorized"

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        # RFC 6750 §3: no error code when no credential was sent at all.
        challenge = f'Bearer realm="{REALM}"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        super().__init__(
            f"{detail} {ACCEPTED_CREDENTIALS}",
            headers={"WWW-Authenticate": f'{challenge}, Token realm="{REALM}"'},
        )


class InvalidClient(ApiProblem):
    status_code = 401
    default_title = "Client authentication failed"
    problem_type = TYPE_PREFIX + "oauth-error"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": f'Basic realm="{REALM}"'},
            ext={"error": "invalid_client", "error_description": detail},
        )


class Forbidden(ApiProblem):
    status_code = 403
    default_title = "Forbidden"
    problem_type = TYPE_PREFIX + "insufficient-scope"

    def __init__(self, detail: str, *, required_scopes: list[str]) -> None:
        scope = " ".join(required_scopes)
        super().__init__(
            detail,
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
                )
            },
        )


class TooManyRequests(ApiProblem):
    status_code = 429
    default_title = "Too Many Requests"
    problem_type = TYPE_PREFIX + "rate-limited"

    def __init__(self, detail: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(detail, headers=headers)


class NotReady(ApiProblem):
    status_code = 503
    default_title = "Not ready"
    problem_type = TYPE_PREFIX + "not-ready"

    def __init__(self, *, failing: list[str], checks: Mapping[str, Any]) -> None:
        super().__init__(f"Failing checks: {', '.join(failing)}.", ext={"checks": checks})


class PayloadTooLarge(ApiProblem):
    status_code = 413
    default_title = "Content Too Large"


class UnsupportedMediaType(ApiProblem):
    status_code = 415
    default_title = "Unsupported Media Type"


def _short(text: str | None) -> str | None:
    """Details are for people: keep them to a line, never a payload."""
    if text is None or len(text) <= MAX_DETAIL_CHARS:
        return text
    return text[: MAX_DETAIL_CHARS - 1] + "…"


def problem_response(
    *,
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    ext: Mapping[str, Any] | None = None,
) -> Response:
    """Render one problem document."""
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or _status_phrase(status),
        "status": status,
    }
    if detail:
        body["detail"] = _short(detail)
    if instance:
        body["instance"] = instance[:MAX_INSTANCE_CHARS]
    if ext:
        body.update(ext)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _log(status: int, title: str | None, detail: str | None) -> None:
    # A 4xx is the client's business and is common under load; log it at DEBUG only.
    if status >= 500:
        logger.error("problem %s %s: %s", status, title, detail)
    else:
        logger.debug("problem %s %s: %s", status, title, detail)


@dataclass(frozen=True)
class Problem:
    """One problem document, before it is an answer."""

    status: int
    title: str | None
    type: str
    detail: str | None
    headers: Mapping[str, str]
    ext: Mapping[str, Any]


def problem_of(exc: ProblemException | errors.ServiceError) -> Problem:
    """A domain error through ``KINDS``; a Connexion problem (ours included) as it is."""
    if isinstance(exc, errors.ServiceError):
        found = kind(exc)
        return Problem(
            found.status,
            found.title,
            found.type,
            exc.detail,
            found.headers(exc),
            found.members(exc),
        )
    return Problem(
        exc.status or 500, exc.title, exc.type, exc.detail, exc.headers or {}, exc.ext or {}
    )


def render_problem(
    exc: ProblemException | errors.ServiceError,
    *,
    instance: str,
    ext: Mapping[str, Any] | None = None,
) -> Response:
    """The response for a raised problem (Connexion's built-in ones use about:blank);
    ``ext`` replaces the problem's own extension members."""
    return _rendered(problem_of(exc), instance=instance, ext=ext)


def _rendered(problem: Problem, *, instance: str, ext: Mapping[str, Any] | None = None) -> Response:
    return problem_response(
        status=problem.status,
        title=problem.title,
        detail=problem.detail,
        type_=problem.type,
        instance=instance,
        headers=problem.headers,
        ext=problem.ext if ext is None else ext,
    )


TOKEN_OPERATION = "issue_token"


async def handle_problem(request: Request, exc: Exception) -> Response:
    """The domain's errors, Connexion's own problems (parameter validation, 415, security)
    and the edge's."""
    assert isinstance(exc, ProblemException | errors.ServiceError)
    problem = problem_of(exc)
    _log(problem.status, problem.title, problem.detail)
    info = request_info(request.scope)
    ext = problem.ext
    if problem.status == 400 and info is not None and info.operation == TOKEN_OPERATION:
        # RFC 6749 §5.2: every 400 of the token endpoint carries OAuth2's error code;
        # FormValidationFailed and OAuthError name theirs, anything else is a bad request.
        if not ext.get("error"):
            description = problem.detail or "The token request is malformed."
            ext = {**ext, "error": "invalid_request", "error_description": description}
    return _rendered(problem, instance=request.scope["path"], ext=ext)


def http_exception_handler(
    allowed_methods: Callable[[str], list[str]] | None = None,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Router errors: 404 and 405.

    Starlette's router answers 405 with the methods of the first route that matched the path
    only; ``allowed_methods(path)`` gives every method the spec has for it.
    """

    async def handle_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        _log(exc.status_code, None, exc.detail)
        detail = exc.detail if exc.detail != _status_phrase(exc.status_code) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and "Allow" in headers:
            methods = allowed_methods(request.scope["path"]) if allowed_methods else []
            methods = methods or [m.strip() for m in headers["Allow"].split(",")]
            headers["Allow"] = ", ".join(sorted(set(methods)))
            detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return problem_response(
            status=exc.status_code, detail=detail, instance=request.scope["path"], headers=headers
        )

    return handle_http_exception


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A bug: log it whole, tell the client nothing about the inside."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        status=500,
        detail="The server failed to handle this request; the failure was logged.",
        instance=request.scope["path"],
    )


def exception_handlers(
    allowed_methods: Callable[[str], list[str]] | None = None,
) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """The handlers for Starlette's ExceptionMiddleware, most specific first."""
    return {
        ProblemException: handle_problem,
        errors.ServiceError: handle_problem,
        HTTPException: http_exception_handler(allowed_methods),
        Exception: handle_unexpected,
    }
