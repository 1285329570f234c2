"""What list handlers share: the ``Link: <...>; rel="next"`` header for the next page."""

from __future__ import annotations

from starlette.requests import Request


def next_link(request: Request, cursor: str | None) -> dict[str, str]:
    """The header that points at the next page, or none on the last page."""
    if cursor is None:
        return {}
    url = request.url.include_query_params(cursor=cursor)
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}
