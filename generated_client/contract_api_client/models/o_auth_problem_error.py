from typing import Literal

OAuthProblemError = Literal["invalid_client", "invalid_request", "invalid_scope", "unsupported_grant_type"]

O_AUTH_PROBLEM_ERROR_VALUES: set[OAuthProblemError] = {
    "invalid_client",
    "invalid_request",
    "invalid_scope",
    "unsupported_grant_type",
}


def check_o_auth_problem_error(value: str) -> OAuthProblemError:
    if value in O_AUTH_PROBLEM_ERROR_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {O_AUTH_PROBLEM_ERROR_VALUES!r}")
