"""The delivery queue's indexes hold only open deliveries: partial indexes (``WHERE state =
'pending'`` or ``'delivering'``) instead of indexes on every row led by ``state``

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

A finished delivery (most of the table, every synchronous one) then costs no entry in them
when it is written, and the claims search an index as small as the queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")
DELIVERING = sa.text("state = 'delivering'")


def upgrade() -> None:
    op.drop_index("ix_deliveries_state_next_attempt_at", table_name="deliveries")
    op.drop_index("ix_deliveries_state_owner_next_attempt_at", table_name="deliveries")
    op.drop_index("ix_deliveries_state_lease_expires_at", table_name="deliveries")
    op.create_index(
        "ix_deliveries_pending_next_attempt_at",
        "deliveries",
        ["next_attempt_at", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "ix_deliveries_pending_owner_next_attempt_at",
        "deliveries",
        ["owner", "next_attempt_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "ix_deliveries_delivering_lease_expires_at",
        "deliveries",
        ["lease_expires_at", "owner"],
        sqlite_where=DELIVERING,
        postgresql_where=DELIVERING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_delivering_lease_expires_at", table_name="deliveries")
    op.drop_index("ix_deliveries_pending_owner_next_attempt_at", table_name="deliveries")
    op.drop_index("ix_deliveries_pending_next_attempt_at", table_name="deliveries")
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
