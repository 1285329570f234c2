from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dispatch_request_payload import DispatchRequestPayload


T = TypeVar("T", bound="DispatchRequest")


@_attrs_define
class DispatchRequest:
    """
    Attributes:
        payload (DispatchRequestPayload): Any JSON object; sent as is to every destination.
        destinations (list[str] | Unset): Names of enabled destinations; every enabled one when omitted.
        timeout_seconds (float | Unset): No destination may take longer than this, whatever its own timeout. A call
            this cuts short before the destination's own deadline is `cut_short` and is
            not counted against the destination.
    """

    payload: DispatchRequestPayload
    destinations: list[str] | Unset = UNSET
    timeout_seconds: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        payload = self.payload.to_dict()

        destinations: list[str] | Unset = UNSET
        if not isinstance(self.destinations, Unset):
            destinations = self.destinations

        timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "payload": payload,
            }
        )
        if destinations is not UNSET:
            field_dict["destinations"] = destinations
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dispatch_request_payload import DispatchRequestPayload  # noqa: PLC0415

        d = dict(src_dict)
        payload = DispatchRequestPayload.from_dict(d.pop("payload"))

        destinations = cast(list[str], d.pop("destinations", UNSET))

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        dispatch_request = cls(
            payload=payload,
            destinations=destinations,
            timeout_seconds=timeout_seconds,
        )

        return dispatch_request
