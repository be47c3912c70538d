"""outbox wake-up: PostgreSQL notifies `notify watch` when a message is queued

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

A statement trigger on `notification` sends NOTIFY cc_tui_outbox, delivered when the
queuing transaction commits (never for one that rolled back): whoever queues (a status
change, a hand-over, an agent's reply, the escalation sweep) wakes the sender without a
round trip of its own. SQLite has no NOTIFY; its watcher polls.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = [
    """CREATE FUNCTION notification_wake() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('cc_tui_outbox', '');
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER notification_wake AFTER INSERT ON notification
    FOR EACH STATEMENT EXECUTE FUNCTION notification_wake()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS notification_wake ON notification",
    "DROP FUNCTION IF EXISTS notification_wake()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
