from typing import Literal

DispatchResultOutcome = Literal["failed", "succeeded"]

DISPATCH_RESULT_OUTCOME_VALUES: set[DispatchResultOutcome] = {
    "failed",
    "succeeded",
}


def check_dispatch_result_outcome(value: str) -> DispatchResultOutcome:
    if value in DISPATCH_RESULT_OUTCOME_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {DISPATCH_RESULT_OUTCOME_VALUES!r}")
