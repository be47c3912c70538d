"""notification policy: which events notify, per request type and channel

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05

One row per request type, event and channel (the customer's preference: email or sms),
switched on or off by admins. Seeded with what cc-tui always did: an action request's
registration, its hand-over to a work order and its closing notify, by e-mail and by SMS;
nothing else does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUEST_TYPES = ("information", "action", "comment")
EVENTS = ("registered", "handed_over", "solved", "closed")
CHANNELS = ("email", "sms")
ON = {("action", "registered"), ("action", "handed_over"), ("action", "closed")}


def upgrade() -> None:
    table = op.create_table(
        "notify_policy",
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("channel IN ('email','sms')", name="channel"),
        sa.PrimaryKeyConstraint("request_type", "event", "channel"),
    )
    op.bulk_insert(
        table,
        [
            {
                "request_type": kind,
                "event": event,
                "channel": channel,
                "enabled": (kind, event) in ON,
            }
            for kind in REQUEST_TYPES
            for event in EVENTS
            for channel in CHANNELS
        ],
    )


def downgrade() -> None:
    op.drop_table("notify_policy")
