from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.circuit_state_state import CircuitStateState, check_circuit_state_state

T = TypeVar("T", bound="CircuitState")


@_attrs_define
class CircuitState:
    """The breaker as the answering instance sees it (each process has its own).

    Attributes:
        state (CircuitStateState):
        consecutive_failures (int):
        retry_after_seconds (float): Seconds until a probe is let through (0 unless open).
        times_opened (int):
    """

    state: CircuitStateState
    consecutive_failures: int
    retry_after_seconds: float
    times_opened: int

    def to_dict(self) -> dict[str, Any]:
        state: str = self.state

        consecutive_failures = self.consecutive_failures

        retry_after_seconds = self.retry_after_seconds

        times_opened = self.times_opened

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "state": state,
                "consecutive_failures": consecutive_failures,
                "retry_after_seconds": retry_after_seconds,
                "times_opened": times_opened,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        state = check_circuit_state_state(d.pop("state"))

        consecutive_failures = d.pop("consecutive_failures")

        retry_after_seconds = d.pop("retry_after_seconds")

        times_opened = d.pop("times_opened")

        circuit_state = cls(
            state=state,
            consecutive_failures=consecutive_failures,
            retry_after_seconds=retry_after_seconds,
            times_opened=times_opened,
        )

        return circuit_state
