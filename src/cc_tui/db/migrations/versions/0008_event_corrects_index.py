"""event corrections: a partial index on event.corrects_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A correction refers to the event it corrects (`corrects_id`). Finding the corrections of an
event, and the database's own foreign-key check when an event row goes (on SQLite a
table scan per row), read this index. Few events are corrections, so it holds only those:
`WHERE corrects_id IS NOT NULL` on both databases. A plain CREATE INDEX: the append-only
triggers of 0004 refuse UPDATE and DELETE of rows, not new indexes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CORRECTIONS = "corrects_id IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_event_corrects",
        "event",
        ["corrects_id"],
        unique=False,
        sqlite_where=sa.text(CORRECTIONS),
        postgresql_where=sa.text(CORRECTIONS),
    )


def downgrade() -> None:
    op.drop_index("ix_event_corrects", table_name="event")
