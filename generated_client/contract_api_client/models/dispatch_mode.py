from typing import Literal

DispatchMode = Literal["async", "sync"]

DISPATCH_MODE_VALUES: set[DispatchMode] = {
    "async",
    "sync",
}


def check_dispatch_mode(value: str) -> DispatchMode:
    if value in DISPATCH_MODE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DISPATCH_MODE_VALUES!r}")
