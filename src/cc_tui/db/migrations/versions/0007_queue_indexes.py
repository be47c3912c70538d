"""queue indexes: department queues, "My work" and load read in queue order

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Queues are ordered by escalation (worst first), priority rank, response due time (none
last) and age. `ix_incident_unassigned` and `ix_incident_mywork` hold exactly that order
(escalation descending, `response_due IS NULL` before `response_due`), so a page or a claim
reads its first rows from the index instead of sorting the queue. `ix_incident_load` covers
the grouped load count. They replace `ix_incident_queue`, whose ascending escalation order
no queue could use. Plain CREATE/DROP INDEX on both databases (no SQLite table copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('registered','assigned','in_process','pending','transferred')"
UNASSIGNED = OPEN + " AND owner_id IS NULL"
# Owned only: else a planner may read an unassigned queue from this index (owner_id IS NULL
# as its first column gives the same order) and filter every department's rows.
OWNED = OPEN + " AND owner_id IS NOT NULL"
ORDER: list[str | sa.TextClause] = [
    sa.text("escalation_rank DESC"),
    "priority_rank",
    sa.text("(response_due IS NULL)"),
    "response_due",
    "id",
]


def upgrade() -> None:
    op.drop_index("ix_incident_queue", table_name="incident")
    op.create_index(
        "ix_incident_unassigned",
        "incident",
        ["department_id", *ORDER],
        unique=False,
        sqlite_where=sa.text(UNASSIGNED),
        postgresql_where=sa.text(UNASSIGNED),
    )
    op.create_index(
        "ix_incident_mywork",
        "incident",
        ["owner_id", *ORDER],
        unique=False,
        sqlite_where=sa.text(OWNED),
        postgresql_where=sa.text(OWNED),
    )
    op.create_index(
        "ix_incident_load",
        "incident",
        ["department_id", "owner_id", "status", "escalation_rank", "id"],
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_incident_load", table_name="incident")
    op.drop_index("ix_incident_mywork", table_name="incident")
    op.drop_index("ix_incident_unassigned", table_name="incident")
    op.create_index(
        "ix_incident_queue",
        "incident",
        ["department_id", "owner_id", "escalation_rank", "priority_rank", "response_due", "id"],
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
