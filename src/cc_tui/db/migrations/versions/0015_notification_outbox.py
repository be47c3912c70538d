"""notification: a transactional outbox (idempotency key, retries, Message-ID)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

Customer messages are queued in the transaction that changes the incident, once per
incident, event, channel and recipient (a unique key; escalation rows leave it NULL). The
sender retries with back-off (`next_attempt_at`), keeps the last error and the Message-ID
it chose, so a resend after a crash carries the same one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cc_tui.models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUED = "status = 'queued'"


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("error", new_column_name="last_error")
        batch.add_column(sa.Column("idempotency_key", sa.String(length=400), nullable=True))
        batch.add_column(
            sa.Column(
                "next_attempt_at", cc_tui.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("message_id", sa.String(length=500), nullable=True))
        batch.create_unique_constraint("uq_notification_idempotency_key", ["idempotency_key"])
    op.create_index(
        "ix_notification_due",
        "notification",
        ["next_attempt_at", "id"],
        sqlite_where=sa.text(QUEUED),
        postgresql_where=sa.text(QUEUED),
    )


def downgrade() -> None:
    op.drop_index("ix_notification_due", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint("uq_notification_idempotency_key", type_="unique")
        batch.drop_column("message_id")
        batch.drop_column("next_attempt_at")
        batch.drop_column("idempotency_key")
        batch.alter_column("last_error", new_column_name="error")
