"""A user may have no e-mail address (the REST tutorials create users with a name and an
age); when given, it stays unique per owner

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Existing rows keep their addresses. NULLs are distinct in a UNIQUE constraint on both
SQLite and PostgreSQL, so any number of one owner's users may have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.persistence.migrating import sqlite_ids_kept

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with (
        sqlite_ids_kept("users"),
        op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch,
    ):
        batch.alter_column("email", existing_type=sa.String(254), nullable=True)


def downgrade() -> None:
    # Addresses cannot be made up: a downgrade with users that have none is refused.
    missing = op.get_bind().execute(sa.text("SELECT count(*) FROM users WHERE email IS NULL"))
    if missing.scalar():
        raise RuntimeError("some users have no e-mail address; give them one first")
    with (
        sqlite_ids_kept("users"),
        op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch,
    ):
        batch.alter_column("email", existing_type=sa.String(254), nullable=False)
