from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.token_response_token_type import TokenResponseTokenType, check_token_response_token_type

T = TypeVar("T", bound="TokenResponse")


@_attrs_define
class TokenResponse:
    """
    Attributes:
        access_token (str): A JWT; send it as `Authorization: Bearer <access_token>`. Example: eyJhbGciOiJIUzI1NiIsInR5c
            CI6ImF0K2p3dCJ9.eyJzdWIiOiJjXzVmMmI5YzBlN2ExZDRlMzMiLCJzY29wZSI6InByb2Nlc3M6d3JpdGUifQ.t3oR2Vb8lQf0Jk1mNc7yXp4sW
            z9eHu6aGi5dKo3rTqE.
        token_type (TokenResponseTokenType):
        expires_in (int): Seconds until the token expires. Example: 900.
        scope (str): The scopes granted, space-separated. Example: process:write records:read.
    """

    access_token: str
    token_type: TokenResponseTokenType
    expires_in: int
    scope: str

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        token_type: str = self.token_type

        expires_in = self.expires_in

        scope = self.scope

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "access_token": access_token,
                "token_type": token_type,
                "expires_in": expires_in,
                "scope": scope,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        access_token = d.pop("access_token")

        token_type = check_token_response_token_type(d.pop("token_type"))

        expires_in = d.pop("expires_in")

        scope = d.pop("scope")

        token_response = cls(
            access_token=access_token,
            token_type=token_type,
            expires_in=expires_in,
            scope=scope,
        )

        return token_response
