"""The service's domain errors: what services and persistence raise, with no HTTP.

Each names what went wrong in the domain and carries the facts a client may be told; how
it is answered (status, problem type, headers) is one table at the edge,
``server/http/problems.py``, with the errors only the edge raises (credentials, rate
limits, bodies it cannot read)::

    ServiceError                    base: ``detail`` is a sentence for people
    ├── ValidationFailed            ``errors`` names each offending field
    ├── InvalidCursor               a cursor not issued for this query
    ├── NotFound                    absent, or another client's
    ├── Conflict                    a rule of uniqueness or state
    │   └── IdempotencyInProgress   the key's first request still runs
    ├── PreconditionFailed          the resource is at another ``version``
    ├── IdempotencyKeyReused        the key was used for another request
    ├── DispatchFailed              every destination failed; carries the report
    └── Unavailable                 transient: a retry may succeed
        └── DatabaseUnavailable     the database cannot be reached; ``retry_after``
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ServiceError(Exception):
    """Base of the domain errors; ``detail`` is what a person is told."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(ServiceError):
    """The input breaks a rule; ``errors`` lists every offending field with its message."""

    def __init__(self, errors: Sequence[Mapping[str, str]]) -> None:
        self.errors = [dict(error) for error in errors]
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in self.errors))


class InvalidCursor(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class IdempotencyInProgress(Conflict):
    pass


class PreconditionFailed(ServiceError):
    def __init__(self, detail: str, *, version: int) -> None:
        super().__init__(detail)
        self.version = version  # the current one


class IdempotencyKeyReused(ServiceError):
    pass


class DispatchFailed(ServiceError):
    """Every destination of a dispatch failed: the error carries the whole report."""

    def __init__(
        self, *, request_id: str, results: list[dict[str, Any]], dispatch_id: str | None = None
    ) -> None:
        super().__init__(
            f"None of the {len(results)} destinations accepted the payload; see results."
        )
        self.request_id = request_id
        self.results = results
        self.dispatch_id = dispatch_id  # as recorded (None: the record could not be written)


class Unavailable(ServiceError):
    """Transient: the work could not be done now, and a retry may succeed."""


class DatabaseUnavailable(Unavailable):
    def __init__(self, *, retry_after: int) -> None:
        super().__init__("The database cannot be reached right now; retry later.")
        self.retry_after = retry_after
