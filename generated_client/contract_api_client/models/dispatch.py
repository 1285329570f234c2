from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.dispatch_mode import DispatchMode, check_dispatch_mode
from ..models.dispatch_state import DispatchState, check_dispatch_state

if TYPE_CHECKING:
    from ..models.delivery import Delivery


T = TypeVar("T", bound="Dispatch")


@_attrs_define
class Dispatch:
    """
    Attributes:
        id (str):  Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.
        mode (DispatchMode): `async`: accepted with `Prefer: respond-async`.
        state (DispatchState): * `pending`: a delivery is still queued or under way.
            * `delivered`: every delivery was delivered.
            * `failed`: every delivery ended, at least one `failed` or `dead`.
        request_id (str): The `X-Request-ID` of the request that made it.
        created_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        updated_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        deliveries (list[Delivery]):
    """

    id: str
    mode: DispatchMode
    state: DispatchState
    request_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deliveries: list[Delivery]

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        mode: str = self.mode

        state: str = self.state

        request_id = self.request_id

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "mode": mode,
                "state": state,
                "request_id": request_id,
                "created_at": created_at,
                "updated_at": updated_at,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery import Delivery  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        mode = check_dispatch_mode(d.pop("mode"))

        state = check_dispatch_state(d.pop("state"))

        request_id = d.pop("request_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = Delivery.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        dispatch = cls(
            id=id,
            mode=mode,
            state=state,
            request_id=request_id,
            created_at=created_at,
            updated_at=updated_at,
            deliveries=deliveries,
        )

        return dispatch
