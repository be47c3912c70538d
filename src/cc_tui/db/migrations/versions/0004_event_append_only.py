"""event append-only: the database refuses UPDATE and DELETE of timeline events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

The services have no path that changes an event; these triggers make the same promise for
anything else that connects (a script, a SQL console). A correction is a new event.
Note for later migrations: a SQLite batch operation that copies the `event` table drops
its triggers; such a migration must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "events are append-only: add a correction instead"

SQLITE_UP = [
    f"""CREATE TRIGGER event_no_update BEFORE UPDATE ON event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END""",
    f"""CREATE TRIGGER event_no_delete BEFORE DELETE ON event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS event_no_update",
    "DROP TRIGGER IF EXISTS event_no_delete",
]

# SQLSTATE 23001 (restrict_violation): drivers report it as an integrity error, which the
# program shows as "refused by the database: ...".
POSTGRES_UP = [
    f"""CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$""",
    """CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
    FOR EACH ROW EXECUTE FUNCTION event_append_only()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS event_append_only ON event",
    "DROP FUNCTION IF EXISTS event_append_only()",
]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN
    for statement in statements:
        op.execute(statement)
