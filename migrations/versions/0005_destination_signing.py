"""Destinations sign their requests (Standard Webhooks): a secret each, and the one before
it while a rotation's overlap lasts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Every existing destination gets a fresh secret that nobody has seen: its requests are
signed from now on, and an admin learns a secret by rotating it
(`POST /api/destinations/{name}/rotate-secret`, `overlap_seconds: 0`).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _new_secret() -> str:
    # As server/downstream/signing.py makes them; written out so the migration never changes.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def upgrade() -> None:
    with op.batch_alter_table("destinations") as batch:
        batch.add_column(sa.Column("signing_secret", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("signing_secret_created_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("previous_signing_secret", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    destinations = sa.table(
        "destinations",
        sa.column("name", sa.String()),
        sa.column("signing_secret", sa.String()),
        sa.column("signing_secret_created_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    for (name,) in bind.execute(sa.select(destinations.c.name)).all():
        bind.execute(
            destinations.update()
            .where(destinations.c.name == name)
            .values(signing_secret=_new_secret(), signing_secret_created_at=now)
        )
    with op.batch_alter_table("destinations") as batch:
        batch.alter_column("signing_secret", existing_type=sa.String(64), nullable=False)
        batch.alter_column(
            "signing_secret_created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_signing_secret")
        batch.drop_column("signing_secret_created_at")
        batch.drop_column("signing_secret")
