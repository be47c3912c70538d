"""mailboxes: the IMAP folders `mail fetch` reads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

A mailbox names its server and folder and how its new incidents are filed; the password
lives in a 0600 file or the environment, never here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cc_tui.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("request_type", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=50), nullable=True),
        sa.Column("password_file", sa.String(length=1000), nullable=True),
        sa.Column("done_folder", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cc_tui.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("request_type IN ('action','information')", name="request_type"),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("mailbox")
