from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SigningState")


@_attrs_define
class SigningState:
    """Which secrets sign requests to the destination (never the secrets).

    Attributes:
        secret_created_at (datetime.datetime): When the current secret was made. Example: 2026-12-01T09:30:00Z.
        previous_secret_expires_at (datetime.datetime | None): Until when the secret before it still signs too (after a
            rotation); null
            when only the current one signs.
    """

    secret_created_at: datetime.datetime
    previous_secret_expires_at: datetime.datetime | None

    def to_dict(self) -> dict[str, Any]:
        secret_created_at = self.secret_created_at.isoformat()

        previous_secret_expires_at: None | str
        if isinstance(self.previous_secret_expires_at, datetime.datetime):
            previous_secret_expires_at = self.previous_secret_expires_at.isoformat()
        else:
            previous_secret_expires_at = self.previous_secret_expires_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "secret_created_at": secret_created_at,
                "previous_secret_expires_at": previous_secret_expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        secret_created_at = datetime.datetime.fromisoformat(d.pop("secret_created_at"))

        def _parse_previous_secret_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                previous_secret_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return previous_secret_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        previous_secret_expires_at = _parse_previous_secret_expires_at(d.pop("previous_secret_expires_at"))

        signing_state = cls(
            secret_created_at=secret_created_at,
            previous_secret_expires_at=previous_secret_expires_at,
        )

        return signing_state
