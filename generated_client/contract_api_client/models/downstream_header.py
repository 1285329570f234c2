from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DownstreamHeader")


@_attrs_define
class DownstreamHeader:
    """
    Attributes:
        name (str): An HTTP token (RFC 9110), case-insensitive, of at most 100 characters, and none of
            those the gateway sets itself: `host`, `content-*`, `transfer-encoding`,
            `connection` and the other hop-by-hop fields, `proxy-*`, `user-agent`, `accept`,
            `x-request-id`, `idempotency-key`, `webhook-*`.
             Example: Authorization.
        value (str): Printable ASCII, no spaces at either end.
    """

    name: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        value = self.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        value = d.pop("value")

        downstream_header = cls(
            name=name,
            value=value,
        )

        return downstream_header
