"""Entity tags to and from versions (server/http/conditions.py)."""

from __future__ import annotations

import pytest

from server.http import conditions
from server.services.versions import Versions


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", Versions.ANY),
        (" * ", Versions.ANY),
        ('"3"', Versions.of([3])),
        ('"1", "4" ,"9"', Versions.of([1, 4, 9])),
        ('"1",\t"4"', Versions.of([1, 4])),
        ('"1", , "4",', Versions.of([1, 4])),
        ('"1,", "4"', Versions.of([4])),  # a comma inside a tag is part of it
        ('W/"3"', Versions.of([])),  # If-Match compares strongly
        ('"abc", "", "3', Versions.of([])),  # tags never issued match nothing
        ('"0012"', Versions.of([])),  # compared character for character
        ('"99999999999999999999"', Versions.of([])),
    ],
)
def test_if_match(header: str | None, expected: Versions | None) -> None:
    assert conditions.if_match(header) == expected


@pytest.mark.parametrize(
    ("header", "version", "matches"),
    [
        (None, 1, False),
        ("*", 1, True),
        ('"1"', 1, True),
        ('W/"1"', 1, True),  # If-None-Match compares weakly
        ('"2", W/"1"', 1, True),
        ('"2",\t, W/"1"', 1, True),
        ('"2"', 1, False),
        ('"01"', 1, False),
    ],
)
def test_none_match(header: str | None, version: int, matches: bool) -> None:
    assert conditions.none_match(header, version) is matches


def test_versions() -> None:
    assert Versions.ANY.allow(7)
    assert Versions.of([1, 2]).allow(2) and not Versions.of([1, 2]).allow(3)
    assert conditions.etag(3) == '"3"'
