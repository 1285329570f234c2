from typing import Literal

CheckStatus = Literal["down", "up"]

CHECK_STATUS_VALUES: set[CheckStatus] = {
    "down",
    "up",
}


def check_check_status(value: str) -> CheckStatus:
    if value in CHECK_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CHECK_STATUS_VALUES!r}")
