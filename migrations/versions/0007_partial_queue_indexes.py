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
# name -> (columns, the rows it holds: None for every row)
Indexes = dict[str, tuple[list[str], sa.TextClause | None]]
OLD: Indexes = {
    "ix_deliveries_state_next_attempt_at": (["state", "next_attempt_at", "id"], None),
    "ix_deliveries_state_owner_next_attempt_at": (["state", "owner", "next_attempt_at"], None),
    "ix_deliveries_state_lease_expires_at": (["state", "lease_expires_at"], None),
}
NEW: Indexes = {
    "ix_deliveries_pending_next_attempt_at": (["next_attempt_at", "id"], PENDING),
    "ix_deliveries_pending_owner_next_attempt_at": (["owner", "next_attempt_at"], PENDING),
    "ix_deliveries_delivering_lease_expires_at": (["lease_expires_at", "owner"], DELIVERING),
}


def _replace(old: Indexes, new: Indexes) -> None:
    """Build ``new``, then drop ``old``.

    On PostgreSQL both happen CONCURRENTLY (outside a transaction: autocommit_block): a
    plain DROP INDEX would hold an ACCESS EXCLUSIVE lock on a populated table, reads
    included, until every index was built. The new ones come first, so the queue is never
    without an index. Each step is committed on its own, so each may find itself done
    already (a run of several migrations that failed after this one): IF [NOT] EXISTS
    makes it a no-op. SQLite ignores all of it but the WHERE."""
    with op.get_context().autocommit_block():
        for name, (columns, where) in new.items():
            op.create_index(
                name,
                "deliveries",
                columns,
                sqlite_where=where,
                postgresql_where=where,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        for name in old:
            op.drop_index(
                name, table_name="deliveries", postgresql_concurrently=True, if_exists=True
            )


def upgrade() -> None:
    _replace(OLD, NEW)


def downgrade() -> None:
    _replace(NEW, OLD)
