"""mail cursor: how far a pass has read each mailbox

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05

A pass read again every UID above the highest one stored for the mailbox, so a message
ignored as read before (the same mail in two mailboxes, or every message after a new
UIDVALIDITY), which stores no row of its own, was downloaded on every pass. The cursor
holds the mailbox's UIDVALIDITY and the highest UID a pass handled, written in the commit
that ends each group. A table of its own: the mailbox row is the admin's, the cursor is
written by whoever runs the fetch.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_cursor",
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("mailbox_id"),
    )


def downgrade() -> None:
    op.drop_table("mail_cursor")
