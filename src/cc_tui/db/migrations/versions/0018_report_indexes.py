"""reports: indexes for a year of figures over a large history

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

The reports count and measure incidents registered, solved and closed in a period, the
user events and time entries of a period, and the minutes booked on each incident. Each
of these indexes holds every column its report reads, so a year of a million incidents is
read from the index alone instead of the table: the backlog's days (registered_at,
closed_at), the per-agent counts (registered, solved, closed, handled, booked) and the
time analysis' booked minutes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAIN = (
    ("ix_incident_registered_at", "incident", ["registered_at", "status", "created_by_id"]),
    ("ix_incident_closed_at", "incident", ["closed_at", "status", "owner_id", "registered_at"]),
    ("ix_incident_solved_at", "incident", ["solved_at", "owner_id"]),
    (
        "ix_time_entry_started",
        "time_entry",
        ["started_at", "agent_id", "incident_id", "ended_at", "minutes"],
    ),
)
PARTIAL = (
    ("ix_event_user_at", "event", ["at", "author_id", "incident_id"], "kind = 'user'"),
    ("ix_time_entry_booked", "time_entry", ["incident_id", "minutes"], "ended_at IS NOT NULL"),
)


def upgrade() -> None:
    for name, table, columns in PLAIN:
        op.create_index(name, table, columns)
    for name, table, columns, where in PARTIAL:
        op.create_index(
            name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )


def downgrade() -> None:
    for name, table, *_rest in (*PARTIAL, *PLAIN):
        op.drop_index(name, table_name=table)
