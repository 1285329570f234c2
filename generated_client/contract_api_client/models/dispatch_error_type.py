from typing import Literal

DispatchErrorType = Literal[
    "circuit_open",
    "connect_error",
    "cut_short",
    "host_not_allowed",
    "http_error",
    "invalid_response",
    "not_sent",
    "redirect",
    "response_too_large",
    "timeout",
    "transport_error",
]

DISPATCH_ERROR_TYPE_VALUES: set[DispatchErrorType] = {
    "circuit_open",
    "connect_error",
    "cut_short",
    "host_not_allowed",
    "http_error",
    "invalid_response",
    "not_sent",
    "redirect",
    "response_too_large",
    "timeout",
    "transport_error",
}


def check_dispatch_error_type(value: str) -> DispatchErrorType:
    if value in DISPATCH_ERROR_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DISPATCH_ERROR_TYPE_VALUES!r}")
