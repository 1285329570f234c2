"""Each typed row the repositories hand out has exactly its table's columns, in order, and
every table has one: the rows are found by their ``TABLE``, the tables in the metadata."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from server.persistence import models, rows

ROWS = {
    kind.TABLE: kind
    for _, kind in inspect.getmembers(rows, inspect.isclass)
    if dataclasses.is_dataclass(kind) and hasattr(kind, "TABLE")
}


@pytest.mark.parametrize("table", sorted(ROWS))
def test_a_row_type_has_its_tables_columns(table: str) -> None:
    columns = [column.name for column in models.Base.metadata.tables[table].columns]
    assert [field.name for field in dataclasses.fields(ROWS[table])] == columns


def test_every_table_has_a_row_type() -> None:
    assert set(ROWS) == set(models.Base.metadata.tables)
