"""escalation sweep: incident.escalate_at with a partial index over running clocks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

`escalate_at` is when an incident's next escalation threshold passes. The sweep reads only
incidents whose time has come (an index range scan), instead of every open incident. The
index replaces `ix_incident_sweep`, which no query used. Plain ALTERs on both databases: no
SQLite table copy, so the triggers of other tables stay as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('registered','assigned','in_process','pending','transferred')"
RUNNING = "status IN ('registered','assigned','in_process','transferred')"


def upgrade() -> None:
    op.add_column("incident", sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_incident_sweep", table_name="incident")
    op.create_index(
        "ix_incident_escalate",
        "incident",
        ["escalate_at"],
        unique=False,
        sqlite_where=sa.text(RUNNING),
        postgresql_where=sa.text(RUNNING),
    )
    # Incidents that already have deadlines are looked at by the first sweep, which sets
    # their real next threshold.
    op.execute(
        f"UPDATE incident SET escalate_at = registered_at WHERE {OPEN} "
        "AND registered_at IS NOT NULL AND (follow_up_at IS NOT NULL OR warning_at IS NOT NULL "
        "OR late_at IS NOT NULL OR resolve_due IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_index("ix_incident_escalate", table_name="incident")
    op.create_index(
        "ix_incident_sweep",
        "incident",
        ["escalation_rank", "late_at"],
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.drop_column("incident", "escalate_at")
