"""acted_by: who really made a change (the change feed and timeline events)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

`agent_id` / `author_id` name the agent a change was made as; `acted_by` names who made it:
on PostgreSQL the database role the connection logged in as (`session_user`, set by a
trigger, so no client can write another name), on SQLite the OS login of the process.
They differ when an admin acts for another agent with `--as`. A plain ADD COLUMN: SQLite
keeps the table, and with it the append-only triggers of 0004.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("change", "event")

POSTGRES_UP = [
    """CREATE FUNCTION cc_tui_acted_by() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.acted_by := session_user;
        RETURN NEW;
    END
    $$""",
    *(
        f"""CREATE TRIGGER {table}_acted_by BEFORE INSERT ON "{table}"
        FOR EACH ROW EXECUTE FUNCTION cc_tui_acted_by()"""
        for table in TABLES
    ),
]
POSTGRES_DOWN = [
    *(f'DROP TRIGGER IF EXISTS {table}_acted_by ON "{table}"' for table in TABLES),
    "DROP FUNCTION IF EXISTS cc_tui_acted_by()",
]


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("acted_by", sa.String(length=80), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    for table in TABLES:
        op.drop_column(table, "acted_by")
