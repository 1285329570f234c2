"""What list handlers share: one answer for a page of any list, with the
``Link: <...>; rel="next"`` header for the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

from server.services.pagination import Page

T = TypeVar("T")


def next_link(request: Request, cursor: str | None) -> dict[str, str]:
    """The header that points at the next page, or none on the last page."""
    if cursor is None:
        return {}
    url = request.url.include_query_params(cursor=cursor)
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}


def paged(
    request: Request, page: Page[T], represent: Callable[[T], dict[str, Any]]
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The answer of every list: its items, ``next_cursor``, and a ``Link`` to the next page."""
    body = {"items": [represent(item) for item in page.items], "next_cursor": page.next_cursor}
    return body, 200, next_link(request, page.next_cursor)
