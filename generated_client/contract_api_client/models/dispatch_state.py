from typing import Literal

DispatchState = Literal["delivered", "failed", "pending"]

DISPATCH_STATE_VALUES: set[DispatchState] = {
    "delivered",
    "failed",
    "pending",
}


def check_dispatch_state(value: str) -> DispatchState:
    if value in DISPATCH_STATE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DISPATCH_STATE_VALUES!r}")
