from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.dispatch_result_outcome import DispatchResultOutcome, check_dispatch_result_outcome
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dispatch_error import DispatchError


T = TypeVar("T", bound="DispatchResult")


@_attrs_define
class DispatchResult:
    """How one destination fared; `error` is there when the outcome is `failed`.

    Attributes:
        destination (str):
        outcome (DispatchResultOutcome): `succeeded`: a 2xx whose body is empty or JSON.
        status (int | None): The last answer's HTTP status; null when there was none.
        latency_ms (float): From the first attempt to the final result, backoffs included.
        attempts (int): Requests made (0 when the circuit breaker refused).
        body (Any): Any JSON value, or null: the last answer's JSON body, when it had one within the
            size cap. A failed
            answer's body is shown to admins only: null for every other client.
        webhook_id (str | Unset): The `webhook-id` the requests to this destination carried (absent when none
            was attempted: a refused host, an open circuit). The same on the gateway's
            own retries, and on yours when they carry the same `Idempotency-Key`.
             Example: msg_2b6f0cc904d137be2e1730235f5664094b831186.
        error (DispatchError | Unset): Why the destination failed.
    """

    destination: str
    outcome: DispatchResultOutcome
    status: int | None
    latency_ms: float
    attempts: int
    body: Any
    webhook_id: str | Unset = UNSET
    error: DispatchError | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        destination = self.destination

        outcome: str = self.outcome

        status: int | None
        status = self.status

        latency_ms = self.latency_ms

        attempts = self.attempts

        body = self.body

        webhook_id = self.webhook_id

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "destination": destination,
                "outcome": outcome,
                "status": status,
                "latency_ms": latency_ms,
                "attempts": attempts,
                "body": body,
            }
        )
        if webhook_id is not UNSET:
            field_dict["webhook_id"] = webhook_id
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dispatch_error import DispatchError  # noqa: PLC0415

        d = dict(src_dict)
        destination = d.pop("destination")

        outcome = check_dispatch_result_outcome(d.pop("outcome"))

        def _parse_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status = _parse_status(d.pop("status"))

        latency_ms = d.pop("latency_ms")

        attempts = d.pop("attempts")

        body = d.pop("body")

        webhook_id = d.pop("webhook_id", UNSET)

        _error = d.pop("error", UNSET)
        error: DispatchError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = DispatchError.from_dict(_error)

        dispatch_result = cls(
            destination=destination,
            outcome=outcome,
            status=status,
            latency_ms=latency_ms,
            attempts=attempts,
            body=body,
            webhook_id=webhook_id,
            error=error,
        )

        return dispatch_result
