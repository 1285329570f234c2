"""Dispatches are recorded, and asynchronous ones delivered from a queue: dispatches, one
delivery per destination (the queue's rows), every attempt; and each destination's
delivery policy, and header fields of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Existing destinations get the spec's default policy: 18 attempts from 5 s up to 4 h apart,
for at most a day, and no header fields of their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("destinations") as batch:
        batch.add_column(
            sa.Column("delivery_max_attempts", sa.Integer(), nullable=False, server_default="18")
        )
        batch.add_column(
            sa.Column(
                "downstream_headers", sa.JSON(), nullable=False, server_default=sa.text("'{}'")
            )
        )
        batch.add_column(
            sa.Column(
                "delivery_initial_backoff_seconds", sa.Float(), nullable=False, server_default="5"
            )
        )
        batch.add_column(
            sa.Column(
                "delivery_max_backoff_seconds", sa.Float(), nullable=False, server_default="14400"
            )
        )
        batch.add_column(
            sa.Column(
                "delivery_max_age_seconds", sa.Integer(), nullable=False, server_default="86400"
            )
        )
    op.create_table(
        "dispatches",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(5), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("downstream_key", sa.String(300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_dispatches_owner_created_at_id", "dispatches", ["owner", "created_at", "id"]
    )
    op.create_index(
        "ix_dispatches_owner_state_created_at_id",
        "dispatches",
        ["owner", "state", "created_at", "id"],
    )
    op.create_index("ix_dispatches_created_at_id", "dispatches", ["created_at", "id"])
    op.create_index(
        "ix_dispatches_state_created_at_id", "dispatches", ["state", "created_at", "id"]
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("webhook_id", sa.String(44), nullable=False),
        sa.Column("dispatch_id", sa.String(36), nullable=False),
        sa.Column("owner", sa.String(40), nullable=False),
        sa.Column("destination", sa.String(63), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("budget_used", sa.Integer(), nullable=False),
        sa.Column("round_started_at", WHEN, nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("last_attempt_at", WHEN, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error_type", sa.String(32), nullable=True),
        sa.Column("last_error_detail", sa.String(300), nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_deliveries_state_next_attempt_at", "deliveries", ["state", "next_attempt_at", "id"]
    )
    op.create_index(
        "ix_deliveries_state_owner_next_attempt_at",
        "deliveries",
        ["state", "owner", "next_attempt_at"],
    )
    op.create_index(
        "ix_deliveries_state_lease_expires_at", "deliveries", ["state", "lease_expires_at"]
    )
    op.create_index("ix_deliveries_dispatch_id", "deliveries", ["dispatch_id"])
    op.create_index(
        "ix_deliveries_destination_dispatch_id", "deliveries", ["destination", "dispatch_id"]
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", sa.String(36), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error_type", sa.String(32), nullable=True),
        sa.Column("error_detail", sa.String(300), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_table("dispatches")
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("downstream_headers")
        batch.drop_column("delivery_max_age_seconds")
        batch.drop_column("delivery_max_backoff_seconds")
        batch.drop_column("delivery_initial_backoff_seconds")
        batch.drop_column("delivery_max_attempts")
