"""notification preferences and the suppression list

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

A customer says how they hear from us (email, sms or none) and in which language; a
contact may say otherwise. An address that bounced for good is suppressed for a time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cc_tui.models.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customer",
        sa.Column("notify", sa.String(length=5), nullable=False, server_default="email"),
    )
    op.add_column("customer", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column("contact", sa.Column("notify", sa.String(length=5), nullable=True))
    op.create_table(
        "notify_suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("until", cc_tui.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", cc_tui.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("notify_suppression")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("notify")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("language")
        batch.drop_column("notify")
