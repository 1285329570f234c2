from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ProcessResult")


@_attrs_define
class ProcessResult:
    """
    Attributes:
        user_id (int):
        item_id (int):
        quantity (int): Twice the submitted quantity.
    """

    user_id: int
    item_id: int
    quantity: int

    def to_dict(self) -> dict[str, Any]:
        user_id = self.user_id

        item_id = self.item_id

        quantity = self.quantity

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
                "item_id": item_id,
                "quantity": quantity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = d.pop("user_id")

        item_id = d.pop("item_id")

        quantity = d.pop("quantity")

        process_result = cls(
            user_id=user_id,
            item_id=item_id,
            quantity=quantity,
        )

        return process_result
