"""incident.source_number: the number an imported incident had in the desk it came from

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

`cc-tui import incidents` keeps each row's number (ServiceNow's `INC0010001`); the unique
index makes a second import of the same file add nothing. Incidents made in cc-tui leave it
NULL (both databases allow any number of NULLs under a unique index). The "Imported" system
event type marks the timeline entry the import writes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

event_type = sa.table(
    "event_type",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("direction", sa.String),
    sa.column("is_contact", sa.Boolean),
    sa.column("is_system", sa.Boolean),
    sa.column("active", sa.Boolean),
)


def upgrade() -> None:
    op.add_column("incident", sa.Column("source_number", sa.String(length=100), nullable=True))
    op.create_index("uq_incident_source_number", "incident", ["source_number"], unique=True)
    have = op.get_bind().execute(
        sa.select(event_type.c.code).where(event_type.c.code == "Imported")
    )
    if have.first() is None:
        op.bulk_insert(
            event_type,
            [
                {
                    "code": "Imported",
                    "name": "Imported",
                    "direction": "internal",
                    "is_contact": False,
                    "is_system": True,
                    "active": True,
                }
            ],
        )


def downgrade() -> None:
    # The event type stays: the append-only timeline may hold events of it.
    op.drop_index("uq_incident_source_number", table_name="incident")
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("source_number")
