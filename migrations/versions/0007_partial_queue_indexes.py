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
OLD = (
    "ix_deliveries_state_next_attempt_at",
    "ix_deliveries_state_owner_next_attempt_at",
    "ix_deliveries_state_lease_expires_at",
)


def upgrade() -> None:
    # On PostgreSQL the new indexes are built, and the old ones dropped, CONCURRENTLY
    # (outside a transaction: autocommit_block): a plain DROP INDEX would hold an ACCESS
    # EXCLUSIVE lock on a populated table, reads included, until all three were built.
    # The new ones come first, so the queue is never without an index. SQLite ignores it.
    # Each step is committed on its own, so each may find itself done already (a run of
    # several migrations that failed after this one): IF [NOT] EXISTS makes it a no-op.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_deliveries_pending_next_attempt_at",
            "deliveries",
            ["next_attempt_at", "id"],
            sqlite_where=PENDING,
            postgresql_where=PENDING,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_deliveries_pending_owner_next_attempt_at",
            "deliveries",
            ["owner", "next_attempt_at"],
            sqlite_where=PENDING,
            postgresql_where=PENDING,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_deliveries_delivering_lease_expires_at",
            "deliveries",
            ["lease_expires_at", "owner"],
            sqlite_where=DELIVERING,
            postgresql_where=DELIVERING,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        for old in OLD:
            op.drop_index(
                old, table_name="deliveries", postgresql_concurrently=True, if_exists=True
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():  # as the upgrade: the old ones first
        op.create_index(
            OLD[0],
            "deliveries",
            ["state", "next_attempt_at", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            OLD[1],
            "deliveries",
            ["state", "owner", "next_attempt_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            OLD[2],
            "deliveries",
            ["state", "lease_expires_at"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        for new in (
            "ix_deliveries_delivering_lease_expires_at",
            "ix_deliveries_pending_owner_next_attempt_at",
            "ix_deliveries_pending_next_attempt_at",
        ):
            op.drop_index(
                new, table_name="deliveries", postgresql_concurrently=True, if_exists=True
            )
