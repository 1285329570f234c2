"""API clients; every user and record belongs to the client that created it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Rows stored before clients existed get no owner: only an ``admin`` client sees them.
E-mail addresses become unique per owner instead of globally, so one client cannot learn
that another client's user exists by trying to create it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.persistence.migrating import sqlite_ids_kept

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OWNER = 40  # length of a client id


def _users_without_email_uniqueness() -> sa.Table:
    """The users table of 0001 minus its global UNIQUE(email): SQLite cannot drop that
    unnamed constraint, so the batch copy is rebuilt from this definition instead."""
    return sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_users_created_at_id", "created_at", "id"),
        sa.Index("ix_users_name_id", "name", "id"),
        sa.Index("ix_users_age", "age"),
        sqlite_autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(OWNER), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_clients_created_at", "api_clients", ["created_at", "client_id"])

    op.add_column("records", sa.Column("owner", sa.String(OWNER), nullable=True))
    op.create_index("ix_records_owner_id", "records", ["owner", "id"])

    if op.get_bind().dialect.name == "sqlite":
        # The rebuilt table must not hand out ids of users deleted before the migration.
        with (
            sqlite_ids_kept("users"),
            op.batch_alter_table(
                "users",
                recreate="always",
                copy_from=_users_without_email_uniqueness(),
                table_kwargs={"sqlite_autoincrement": True},
            ) as batch,
        ):
            batch.add_column(sa.Column("owner", sa.String(OWNER), nullable=True))
            batch.create_unique_constraint("uq_users_owner_email", ["owner", "email"])
    else:
        op.add_column("users", sa.Column("owner", sa.String(OWNER), nullable=True))
        op.drop_constraint("users_email_key", "users", type_="unique")
        op.create_unique_constraint("uq_users_owner_email", "users", ["owner", "email"])
    op.create_index("ix_users_owner_created_at_id", "users", ["owner", "created_at", "id"])
    op.create_index("ix_users_owner_name_id", "users", ["owner", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_owner_name_id", "users")
    op.drop_index("ix_users_owner_created_at_id", "users")
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("uq_users_owner_email", type_="unique")
        batch.drop_column("owner")
        batch.create_unique_constraint("users_email_key", ["email"])
    op.drop_index("ix_records_owner_id", "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_api_clients_created_at", "api_clients")
    op.drop_table("api_clients")
