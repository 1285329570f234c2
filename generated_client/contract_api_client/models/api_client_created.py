from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.scope import Scope, check_scope

T = TypeVar("T", bound="ApiClientCreated")


@_attrs_define
class ApiClientCreated:
    """
    Attributes:
        client_id (str):  Example: c_5f2b9c0e7a1d4e33.
        name (str):  Example: billing-service.
        scopes (list[Scope]):  Example: ['process:write', 'records:read'].
        created_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        revoked_at (datetime.datetime | None):
        client_secret (str): Shown only in this answer. Use it as `X-API-Key` or as `client_secret`. Example:
            c_5f2b9c0e7a1d4e33.Jx1bV6cS2pKq0tL9wE4rZy7uHn3mAd5fGs8oPi2WkXo.
    """

    client_id: str
    name: str
    scopes: list[Scope]
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None
    client_secret: str

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        name = self.name

        scopes = []
        for scopes_item_data in self.scopes:
            scopes_item: str = scopes_item_data
            scopes.append(scopes_item)

        created_at = self.created_at.isoformat()

        revoked_at: None | str
        if isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        client_secret = self.client_secret

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "client_id": client_id,
                "name": name,
                "scopes": scopes,
                "created_at": created_at,
                "revoked_at": revoked_at,
                "client_secret": client_secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        name = d.pop("name")

        scopes = []
        _scopes = d.pop("scopes")
        for scopes_item_data in _scopes:
            scopes_item = check_scope(scopes_item_data)

            scopes.append(scopes_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_revoked_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at"))

        client_secret = d.pop("client_secret")

        api_client_created = cls(
            client_id=client_id,
            name=name,
            scopes=scopes,
            created_at=created_at,
            revoked_at=revoked_at,
            client_secret=client_secret,
        )

        return api_client_created
