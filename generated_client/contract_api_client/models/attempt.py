from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.delivery_error import DeliveryError


T = TypeVar("T", bound="Attempt")


@_attrs_define
class Attempt:
    """
    Attributes:
        number (int):
        started_at (datetime.datetime):
        finished_at (datetime.datetime | None): Null while the attempt is under way.
        latency_ms (float | None):
        status (int | None): The destination's HTTP status; null when it gave none.
        error (DeliveryError | Unset): Why an attempt failed: a `DispatchError` type, or `interrupted` (the service
            stopped or lost the attempt mid-way; it may have reached the destination),
            `destination_removed`, `destination_disabled`. Open to new values.
    """

    number: int
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    latency_ms: float | None
    status: int | None
    error: DeliveryError | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        started_at = self.started_at.isoformat()

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        latency_ms: float | None
        latency_ms = self.latency_ms

        status: int | None
        status = self.status

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "number": number,
                "started_at": started_at,
                "finished_at": finished_at,
                "latency_ms": latency_ms,
                "status": status,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_error import DeliveryError  # noqa: PLC0415

        d = dict(src_dict)
        number = d.pop("number")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        def _parse_latency_ms(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        latency_ms = _parse_latency_ms(d.pop("latency_ms"))

        def _parse_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status = _parse_status(d.pop("status"))

        _error = d.pop("error", UNSET)
        error: DeliveryError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = DeliveryError.from_dict(_error)

        attempt = cls(
            number=number,
            started_at=started_at,
            finished_at=finished_at,
            latency_ms=latency_ms,
            status=status,
            error=error,
        )

        return attempt
