from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.token_request_grant_type import TokenRequestGrantType, check_token_request_grant_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TokenRequest")


@_attrs_define
class TokenRequest:
    """RFC 6749 §4.4.2. Unknown fields are ignored (RFC 6749 §3.2). A form that does not
    match this schema is a `validation-error` problem that also carries OAuth2's `error`
    (`invalid_scope` when only `scope` is wrong, else `invalid_request`).

        Attributes:
            grant_type (TokenRequestGrantType): The only grant this service has; another one is `400` with OAuth2's
                `unsupported_grant_type`.
                 Example: client_credentials.
            scope (str | Unset): Space-separated scopes wanted, each one of `Scope`; by default every scope of the
                client. A scope the client does not hold is `400` (`invalid_scope`).
                 Example: process:write records:read.
            client_id (str | Unset): With `client_secret`, when not using HTTP Basic.
            client_secret (str | Unset): With `client_id`, when not using HTTP Basic.
    """

    grant_type: TokenRequestGrantType
    scope: str | Unset = UNSET
    client_id: str | Unset = UNSET
    client_secret: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        grant_type: str = self.grant_type

        scope = self.scope

        client_id = self.client_id

        client_secret = self.client_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "grant_type": grant_type,
            }
        )
        if scope is not UNSET:
            field_dict["scope"] = scope
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if client_secret is not UNSET:
            field_dict["client_secret"] = client_secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grant_type = check_token_request_grant_type(d.pop("grant_type"))

        scope = d.pop("scope", UNSET)

        client_id = d.pop("client_id", UNSET)

        client_secret = d.pop("client_secret", UNSET)

        token_request = cls(
            grant_type=grant_type,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )

        token_request.additional_properties = d
        return token_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
