from typing import Literal

CircuitStateState = Literal["closed", "half_open", "open"]

CIRCUIT_STATE_STATE_VALUES: set[CircuitStateState] = {
    "closed",
    "half_open",
    "open",
}


def check_circuit_state_state(value: str) -> CircuitStateState:
    if value in CIRCUIT_STATE_STATE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {CIRCUIT_STATE_STATE_VALUES!r}")
