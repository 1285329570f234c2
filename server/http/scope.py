"""What the pipeline's stages leave in the ASGI scope for the stages and the handler
inside them: every key in one place, each set by one stage.

=========================  =========================  ======================================
key                        set by                     read by
=========================  =========================  ======================================
``REQUEST``                ``edge.Edge``              every stage: a ``RequestInfo``
``AUTHENTICATOR``          ``security.AccessControl``  the verifier functions it calls
``PRINCIPAL``              ``security.AccessControl``  ``dispatch.Dispatcher`` (``principal``)
``PARSED_BODY``            ``validation``             ``dispatch.Dispatcher`` (the body)
=========================  =========================  ======================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.types import Scope

REQUEST = "contract_api.request"
AUTHENTICATOR = "contract_api.authenticator"
PRINCIPAL = "contract_api.principal"
PARSED_BODY = "contract_api.body"


@dataclass(slots=True)
class RequestInfo:
    """What the inner stages learn about a request, for the edge: its log line and
    metrics, and the header fields its answer carries whatever it is (a problem too)."""

    operation: str | None = None
    client_id: str | None = None
    probe: bool = False  # a health probe: logged at DEBUG, so probes do not flood the log
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def request_info(scope: Scope) -> RequestInfo | None:
    """The request's ``RequestInfo``; ``None`` outside the edge (a stage tested alone)."""
    info: RequestInfo | None = scope.get(REQUEST)
    return info
