from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DownstreamHeaders")


@_attrs_define
class DownstreamHeaders:
    """Header fields sent with every request to this destination (an `Authorization`
    value, say). Write-only: no answer or log line ever shows a value, only the names
    (`header_names`). Names are HTTP tokens of at most 100 characters, case-insensitive;
    those the gateway sets itself are refused (`host`, `content-*`, `transfer-encoding`,
    `connection` and the other hop-by-hop fields, `user-agent`, `accept`,
    `x-request-id`, `idempotency-key`, `webhook-*`).

        Example:
            {'Authorization': 'Bearer 2b6f0cc904d137be'}

    """

    additional_properties: dict[str, str] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        downstream_headers = cls()

        downstream_headers.additional_properties = d
        return downstream_headers

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> str:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
