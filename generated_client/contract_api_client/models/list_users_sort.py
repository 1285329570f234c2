from typing import Literal

ListUsersSort = Literal["-created_at", "-name", "created_at", "name"]

LIST_USERS_SORT_VALUES: set[ListUsersSort] = {
    "-created_at",
    "-name",
    "created_at",
    "name",
}


def check_list_users_sort(value: str) -> ListUsersSort:
    if value in LIST_USERS_SORT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_USERS_SORT_VALUES!r}")
