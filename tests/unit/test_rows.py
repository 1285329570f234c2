"""Each typed row the repositories hand out has exactly its table's columns, in order."""

from __future__ import annotations

import dataclasses

import pytest

from server.persistence import models, rows

PAIRS = [
    (rows.ClientRow, models.ApiClient),
    (rows.UserRow, models.User),
    (rows.RecordRow, models.Record),
    (rows.IdempotencyRow, models.IdempotencyKey),
    (rows.DestinationRow, models.Destination),
]


@pytest.mark.parametrize(("row", "model"), PAIRS, ids=[row.__name__ for row, _ in PAIRS])
def test_a_row_type_has_its_tables_columns(row: type, model: type[models.Base]) -> None:
    columns = [column.name for column in model.__table__.columns]
    assert [field.name for field in dataclasses.fields(row)] == columns


def test_every_table_has_a_row_type() -> None:
    assert {model.__tablename__ for _, model in PAIRS} == set(models.Base.metadata.tables)
