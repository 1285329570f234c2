from typing import Literal

ProcessResponseStatus = Literal["success"]

PROCESS_RESPONSE_STATUS_VALUES: set[ProcessResponseStatus] = {
    "success",
}


def check_process_response_status(value: str) -> ProcessResponseStatus:
    if value in PROCESS_RESPONSE_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROCESS_RESPONSE_STATUS_VALUES!r}")
