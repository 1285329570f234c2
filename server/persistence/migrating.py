"""Helpers the Alembic revisions in ``migrations/versions`` share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op


@contextlib.contextmanager
def sqlite_ids_kept(table: str) -> Iterator[None]:
    """Around a SQLite table rebuild (``batch_alter_table``): the rebuilt table must not
    hand out the ids of rows deleted before it (``AUTOINCREMENT``'s promise), so its
    ``sqlite_sequence`` entry is carried over. Nothing to do on other databases."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    sequence = bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table}
    ).scalar()
    yield
    if sequence is None:
        return
    values = {"table": table, "seq": sequence}
    bind.execute(
        sa.text("UPDATE sqlite_sequence SET seq = max(seq, :seq) WHERE name = :table"), values
    )
    bind.execute(
        sa.text(
            "INSERT INTO sqlite_sequence (name, seq) SELECT :table, :seq "
            "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = :table)"
        ),
        values,
    )
