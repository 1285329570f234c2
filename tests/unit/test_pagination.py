"""``services.pagination``: the one keyset paginator every list uses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

from server.errors import InvalidCursor
from server.persistence.keyset import page_of
from server.services.pagination import CursorCodec, Keyset, Page, as_int, as_str, paginate

CODEC = CursorCodec("s" * 40, purpose="test")
ROWS = [(name, n) for n, name in enumerate("abcdefg")]  # ordered by (name, n)
BY_NAME: Keyset[tuple[str, int]] = Keyset((as_str, as_int), lambda row: [row[0], row[1]])


def fetch(after: tuple[Any, ...] | None, n: int) -> list[tuple[str, int]]:
    return [row for row in ROWS if after is None or row > after][:n]


def page(cursor: str | None, limit: int = 3, query: dict[str, Any] | None = None) -> Page[Any]:
    return paginate(
        codec=CODEC, keyset=BY_NAME, cursor=cursor, query=query or {}, limit=limit, fetch=fetch
    )


def test_pages_follow_each_other_to_the_end() -> None:
    seen, cursor, pages = [], None, 0
    while True:
        current = page(cursor)
        seen += current.items
        pages += 1
        if current.next_cursor is None:
            break
        cursor = current.next_cursor
    assert seen == ROWS and pages == 3


def test_a_list_that_fits_has_no_next_page() -> None:
    assert page(None, limit=7) == Page(ROWS, None)


@pytest.mark.parametrize(
    "position",
    [[], ["a"], ["a", 1, 2], [1, 1], ["a", "1"], ["a", True], ["a", 1.0], ["a", None]],
)
def test_a_position_of_another_shape_is_400(position: list[Any]) -> None:
    forged = CODEC.encode(position, query={})  # signed, so only a bug could make one
    with pytest.raises(InvalidCursor, match="not one this service issued"):
        page(forged)


def test_a_cursor_of_other_filters_is_400() -> None:
    cursor = page(None, query={"q": 1}).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor, match="other filters"):
        page(cursor, query={"q": 2})


class TestPageOf:
    """``persistence.keyset.page_of``, the SQL side: rows past a position, on SQLite."""

    @pytest.fixture
    def table(self) -> Any:
        engine = create_engine("sqlite://")
        table = Table("t", MetaData(), Column("name", String), Column("n", Integer))
        table.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), [{"name": name, "n": n} for name, n in ROWS])
            connection.execute(table.insert(), [{"name": "c", "n": 99}])  # a tie on name
        return engine, table

    def rows(self, table: Any, after: Any, *, descending: bool = False) -> list[tuple[str, int]]:
        engine, t = table
        query = page_of(select(t.c.name, t.c.n), (t.c.name, t.c.n), after, limit=3,
                        descending=descending)  # fmt: skip
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]

    def test_ascending_pages_continue_past_a_tie(self, table: Any) -> None:
        assert self.rows(table, None) == [("a", 0), ("b", 1), ("c", 2)]
        assert self.rows(table, ("c", 2)) == [("c", 99), ("d", 3), ("e", 4)]

    def test_descending_pages_continue_below_the_position(self, table: Any) -> None:
        assert self.rows(table, None, descending=True) == [("g", 6), ("f", 5), ("e", 4)]
        assert self.rows(table, ("c", 99), descending=True) == [("c", 2), ("b", 1), ("a", 0)]

    def test_a_position_of_the_wrong_length_is_a_bug_not_a_query(self, table: Any) -> None:
        with pytest.raises(ValueError, match="1 values for 2 columns"):
            self.rows(table, ("c",))
