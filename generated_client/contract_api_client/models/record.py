from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Record")


@_attrs_define
class Record:
    """
    Attributes:
        id (int):  Example: 17.
        user_id (int):  Example: 1.
        item_id (int):  Example: 42.
        quantity (int): The quantity as submitted. Example: 3.
        processed_quantity (int): The processed quantity (twice the submitted one). Example: 6.
        created_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
    """

    id: int
    user_id: int
    item_id: int
    quantity: int
    processed_quantity: int
    created_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        user_id = self.user_id

        item_id = self.item_id

        quantity = self.quantity

        processed_quantity = self.processed_quantity

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "user_id": user_id,
                "item_id": item_id,
                "quantity": quantity,
                "processed_quantity": processed_quantity,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        user_id = d.pop("user_id")

        item_id = d.pop("item_id")

        quantity = d.pop("quantity")

        processed_quantity = d.pop("processed_quantity")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        record = cls(
            id=id,
            user_id=user_id,
            item_id=item_id,
            quantity=quantity,
            processed_quantity=processed_quantity,
            created_at=created_at,
        )

        return record
