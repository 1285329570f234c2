from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.delivery_state import DeliveryState, check_delivery_state
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt import Attempt
    from ..models.delivery_error import DeliveryError


T = TypeVar("T", bound="Delivery")


@_attrs_define
class Delivery:
    """
    Attributes:
        id (str):  Example: dlv_0c5b2f0d7d8e4f7a9b3c1d2e3f4a5b6c.
        webhook_id (str): The `webhook-id` every attempt of this delivery carries, a retry's too: a
            receiver that has seen it has the delivery already.
             Example: msg_2b6f0cc904d137be2e1730235f5664094b831186.
        destination (str):  Example: billing.
        state (DeliveryState): * `pending`: queued; `next_attempt_at` says when it is tried.
            * `delivering`: an attempt is under way.
            * `delivered`: a destination answered `2xx`.
            * `failed`: a synchronous dispatch's call that failed (not retried in the background).
            * `dead`: its attempts or its age ran out, the destination answered `410`, or the
              destination was deleted; `retry` brings it back.
        attempts (int): Attempts made so far.
        next_attempt_at (datetime.datetime | None): When it is tried next; null unless `pending`.
        last_attempt_at (datetime.datetime | None):
        delivered_at (datetime.datetime | None):
        last_status (int | None):
        last_error (DeliveryError | Unset): Why an attempt failed: a `DispatchError` type, or `interrupted` (the service
            stopped or lost the attempt mid-way; it may have reached the destination),
            `destination_removed`, `destination_disabled`. Open to new values.
        attempt_log (list[Attempt] | Unset): The last 50 attempts, oldest first (in `GET /dispatches/{dispatch_id}`
            only).
    """

    id: str
    webhook_id: str
    destination: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_attempt_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    last_status: int | None
    last_error: DeliveryError | Unset = UNSET
    attempt_log: list[Attempt] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        webhook_id = self.webhook_id

        destination = self.destination

        state: str = self.state

        attempts = self.attempts

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        last_attempt_at: None | str
        if isinstance(self.last_attempt_at, datetime.datetime):
            last_attempt_at = self.last_attempt_at.isoformat()
        else:
            last_attempt_at = self.last_attempt_at

        delivered_at: None | str
        if isinstance(self.delivered_at, datetime.datetime):
            delivered_at = self.delivered_at.isoformat()
        else:
            delivered_at = self.delivered_at

        last_status: int | None
        last_status = self.last_status

        last_error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.last_error, Unset):
            last_error = self.last_error.to_dict()

        attempt_log: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.attempt_log, Unset):
            attempt_log = []
            for attempt_log_item_data in self.attempt_log:
                attempt_log_item = attempt_log_item_data.to_dict()
                attempt_log.append(attempt_log_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "webhook_id": webhook_id,
                "destination": destination,
                "state": state,
                "attempts": attempts,
                "next_attempt_at": next_attempt_at,
                "last_attempt_at": last_attempt_at,
                "delivered_at": delivered_at,
                "last_status": last_status,
            }
        )
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if attempt_log is not UNSET:
            field_dict["attempt_log"] = attempt_log

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt import Attempt  # noqa: PLC0415
        from ..models.delivery_error import DeliveryError  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        webhook_id = d.pop("webhook_id")

        destination = d.pop("destination")

        state = check_delivery_state(d.pop("state"))

        attempts = d.pop("attempts")

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at"))

        def _parse_last_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_attempt_at = _parse_last_attempt_at(d.pop("last_attempt_at"))

        def _parse_delivered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                delivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return delivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        delivered_at = _parse_delivered_at(d.pop("delivered_at"))

        def _parse_last_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status = _parse_last_status(d.pop("last_status"))

        _last_error = d.pop("last_error", UNSET)
        last_error: DeliveryError | Unset
        if isinstance(_last_error, Unset):
            last_error = UNSET
        else:
            last_error = DeliveryError.from_dict(_last_error)

        _attempt_log = d.pop("attempt_log", UNSET)
        attempt_log: list[Attempt] | Unset = UNSET
        if _attempt_log is not UNSET:
            attempt_log = []
            for attempt_log_item_data in _attempt_log:
                attempt_log_item = Attempt.from_dict(attempt_log_item_data)

                attempt_log.append(attempt_log_item)

        delivery = cls(
            id=id,
            webhook_id=webhook_id,
            destination=destination,
            state=state,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_attempt_at=last_attempt_at,
            delivered_at=delivered_at,
            last_status=last_status,
            last_error=last_error,
            attempt_log=attempt_log,
        )

        return delivery
