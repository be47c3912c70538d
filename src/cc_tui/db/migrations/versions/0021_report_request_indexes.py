"""reports: the registered_at, closed_at and user-event indexes hold every column tested

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

The backlog and the per-agent registered count keep to requests (`duplicate_of_id IS
NULL`: a call added to another incident is a contact of it) and an agent sees the incidents
they own or registered. The indexes of migration 0018 lacked duplicate_of_id (and the
registered_at one the owner): each incident of the period was read from the table to test
it, 0.4 s per 300,000 on SQLite. With every tested column in the index the backlog counts
each day as two index ranges and reads no row of the table.

The per-agent "handled" count reads the user events of the period from ix_event_user_at,
whose WHERE is `kind = 'user'`; SQLite covers a query only from an index's columns, so it
read every event of the period from the table again to test `kind` (half a million rows
in a year). The index now holds `kind` as well.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = {
    "ix_incident_registered_at": ["registered_at", "status", "created_by_id"],
    "ix_incident_closed_at": ["closed_at", "status", "owner_id", "registered_at"],
}
AFTER = {
    "ix_incident_registered_at": [
        "registered_at",
        "status",
        "created_by_id",
        "duplicate_of_id",
        "owner_id",
    ],
    "ix_incident_closed_at": [
        "closed_at",
        "status",
        "owner_id",
        "registered_at",
        "duplicate_of_id",
        "created_by_id",
    ],
}


USER_EVENTS = "kind = 'user'"
EVENT_BEFORE = ["at", "author_id", "incident_id"]
EVENT_AFTER = ["at", "author_id", "incident_id", "kind"]


def _replace(indexes: dict[str, list[str]], event_columns: list[str]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="incident")
        op.create_index(name, "incident", columns)
    op.drop_index("ix_event_user_at", table_name="event")
    op.create_index(
        "ix_event_user_at",
        "event",
        event_columns,
        sqlite_where=sa.text(USER_EVENTS),
        postgresql_where=sa.text(USER_EVENTS),
    )


def upgrade() -> None:
    _replace(AFTER, EVENT_AFTER)


def downgrade() -> None:
    _replace(BEFORE, EVENT_BEFORE)
