from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.dispatch_error_type import DispatchErrorType, check_dispatch_error_type

T = TypeVar("T", bound="DispatchError")


@_attrs_define
class DispatchError:
    """Why the destination failed.

    Attributes:
        type_ (DispatchErrorType): * `connect_error`: no connection could be made (refused, unreachable, DNS, TLS).
            * `timeout`: no complete answer before the destination's own deadline.
            * `cut_short`: stopped on the gateway's side before the destination answered:
              the request's `timeout_seconds` ran out first, or no connection (or none of
              your share of the destination) was free in time. Not counted against the
              destination's breaker.
            * `http_error`: the destination answered with a status other than 2xx.
            * `redirect`: it answered with a redirect, which is not followed.
            * `invalid_response`: a 2xx whose body is not JSON, or nests deeper than 128 levels.
            * `response_too_large`: a body over the service's size cap (not read further).
            * `circuit_open`: not tried; the destination's circuit breaker is open.
            * `host_not_allowed`: the destination's host is no longer on the allow-list.
            * `transport_error`: the connection broke mid-way or spoke bad HTTP.
            * `not_sent`: nothing was sent: the request could not be built (a stored URL
              the gateway cannot dial, say). Not counted against the destination.
        detail (str): For admins, what happened in full (library text, addresses included); for
            every other client, a fixed sentence per `type`.
    """

    type_: DispatchErrorType
    detail: str

    def to_dict(self) -> dict[str, Any]:
        type_: str = self.type_

        detail = self.detail

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "detail": detail,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = check_dispatch_error_type(d.pop("type"))

        detail = d.pop("detail")

        dispatch_error = cls(
            type_=type_,
            detail=detail,
        )

        return dispatch_error
