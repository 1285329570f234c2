"""Conditional requests (RFC 9110 §13): entity tags to and from the versions services use.

A resource's version ``3`` is the strong tag ``"3"``. ``If-Match`` becomes the
``Versions`` a change may apply to (strong comparison: a weak tag never matches), and
``If-None-Match`` is answered with weak comparison, as a `GET` is. The spec's pattern has
already checked the header's grammar.
"""

from __future__ import annotations

import re

from server.services.versions import Versions

# A tag as etag() writes it, compared character for character.
_STRONG_VERSION = re.compile(r'"(0|[1-9][0-9]{0,17})"')


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    # OWS is SP or HTAB; an empty list element names no tag (RFC 9110 §5.6.1, §5.6.3).
    return [tag for tag in (part.strip(" \t") for part in header.split(",")) if tag]


def if_match(header: str | None) -> Versions | None:
    """The versions ``If-Match`` allows, or None when there is no precondition."""
    if header is None:
        return None
    if header.strip() == "*":
        return Versions.ANY
    # A tag this service never issues (weak, or not a number) matches no version.
    found = (_STRONG_VERSION.fullmatch(tag) for tag in _tags(header))
    return Versions.of(int(match.group(1)) for match in found if match)


def none_match(header: str | None, version: int) -> bool:
    """Whether ``If-None-Match`` names this version (``*`` names any)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.removeprefix("W/") == etag(version) for tag in _tags(header))
