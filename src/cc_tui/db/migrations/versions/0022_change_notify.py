"""change feed wake-up: one NOTIFY cc_tui per transaction, sent by the database

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05

Until now every `record_change` ran `SELECT pg_notify(...)` after its row, a round trip of
its own (a new incident filed from an e-mail made two). A statement trigger on `change`
sends `NOTIFY cc_tui` with an empty payload instead. PostgreSQL folds identical
notifications of one transaction into one and delivers it when the transaction commits
(never for one that rolled back), so a listener is woken once per committed transaction
that added change rows; it reads the rows themselves by id, as it always did. The
change table stays one row per change. SQLite has no NOTIFY; its listeners poll.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = [
    """CREATE FUNCTION change_wake() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('cc_tui', '');
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER change_wake AFTER INSERT ON change
    FOR EACH STATEMENT EXECUTE FUNCTION change_wake()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS change_wake ON change",
    "DROP FUNCTION IF EXISTS change_wake()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
