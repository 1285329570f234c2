from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DeliveryError")


@_attrs_define
class DeliveryError:
    """Why an attempt failed: a `DispatchError` type, or `interrupted` (the service
    stopped or lost the attempt mid-way; it may have reached the destination),
    `destination_removed`, `destination_disabled`. Open to new values.

        Attributes:
            type_ (str):  Example: http_error.
            detail (str):  Example: The destination answered with an error status..
    """

    type_: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        detail = self.detail

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "detail": detail,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = d.pop("type")

        detail = d.pop("detail")

        delivery_error = cls(
            type_=type_,
            detail=detail,
        )

        return delivery_error
