"""Each typed row the repositories hand out has exactly its table's columns, in order, and
every table has one: the rows are found by their ``TABLE`` in the modules of
``server/persistence`` (each in the repository that returns it), the tables in the
metadata."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import server.persistence
from server.persistence import models


def _rows() -> dict[str, list[type]]:
    found: dict[str, list[type]] = {}
    for module_info in pkgutil.iter_modules(server.persistence.__path__):
        module = importlib.import_module(f"server.persistence.{module_info.name}")
        for _, kind in inspect.getmembers(module, inspect.isclass):
            table = getattr(kind, "TABLE", None)
            if (
                kind.__module__ == module.__name__  # defined here, not imported
                and dataclasses.is_dataclass(kind)
                and isinstance(table, str)
            ):
                found.setdefault(table, []).append(kind)
    return found


ROWS = _rows()


@pytest.mark.parametrize("table", sorted(ROWS))
def test_a_row_type_has_its_tables_columns(table: str) -> None:
    (kind,) = ROWS[table]  # one row type per table
    columns = [column.name for column in models.Base.metadata.tables[table].columns]
    assert [field.name for field in dataclasses.fields(kind)] == columns


def test_every_table_has_a_row_type() -> None:
    assert set(ROWS) == set(models.Base.metadata.tables)
