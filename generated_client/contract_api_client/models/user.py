from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="User")


@_attrs_define
class User:
    """
    Attributes:
        id (int):  Example: 1.
        name (str):  Example: Ada Lovelace.
        email (None | str): Stored lower-cased; `null` when the user has none. Example: ada@example.com.
        age (int | None):  Example: 36.
        created_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        updated_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
    """

    id: int
    name: str
    email: None | str
    age: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        email: None | str
        email = self.email

        age: int | None
        age = self.age

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "name": name,
                "email": email,
                "age": age,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        def _parse_age(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        age = _parse_age(d.pop("age"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        user = cls(
            id=id,
            name=name,
            email=email,
            age=age,
            created_at=created_at,
            updated_at=updated_at,
        )

        return user
