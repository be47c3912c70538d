"""reports: per-agent counts and minutes from indexes that begin with the agent

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05

The per-agent report counts, for each agent, the incidents they registered, solved and
closed in a period. Counted as GROUP BYs over the period's registered_at, solved_at and
closed_at index entries, SQLite sorted every entry (up to 300,000 in a year of a million
incidents, 0.45 s together); counted per agent as a range of an index that begins with
the agent, nothing is sorted (0.1 s). The solved_at index of migration 0018 served only
that count and is replaced by the agent-first one; the registered_at and closed_at ones
stay (the backlog counts days from them).

The minutes booked per agent were read through ix_time_entry_agent (agent_id, started_at),
each entry's ended_at and minutes from the table (0.18 s for a year's 170,000 entries);
the index now holds both (0.035 s).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED = (
    ("ix_incident_registered_by", ["created_by_id", "registered_at", "status", "duplicate_of_id"]),
    ("ix_incident_solved_by", ["owner_id", "solved_at"]),
    ("ix_incident_closed_by", ["owner_id", "closed_at"]),
)
DROPPED = (("ix_incident_solved_at", ["solved_at", "owner_id"]),)
ENTRIES_BEFORE = ["agent_id", "started_at"]
ENTRIES_AFTER = ["agent_id", "started_at", "ended_at", "minutes"]


def _entries(columns: list[str]) -> None:
    op.drop_index("ix_time_entry_agent", table_name="time_entry")
    op.create_index("ix_time_entry_agent", "time_entry", columns)


def upgrade() -> None:
    for name, _columns in DROPPED:
        op.drop_index(name, table_name="incident")
    for name, columns in CREATED:
        op.create_index(name, "incident", columns)
    _entries(ENTRIES_AFTER)


def downgrade() -> None:
    for name, _columns in CREATED:
        op.drop_index(name, table_name="incident")
    for name, columns in DROPPED:
        op.create_index(name, "incident", columns)
    _entries(ENTRIES_BEFORE)
