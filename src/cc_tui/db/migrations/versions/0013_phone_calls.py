"""telephony (M15): the call log and the agents' extensions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

`phone_call` holds one row per call the telephone system reported (its `call_id` unique,
so replayed events change nothing), who it rang for, who answered, the caller identified
and the contact it became. `agent.extension` maps the PBX's answering number to an agent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cc_tui.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agent", sa.Column("extension", sa.String(length=40), nullable=True))
    op.create_index("ix_agent_extension", "agent", ["extension"], unique=True)
    moment = cc_tui.models.base.UtcDateTime(timezone=True)
    op.create_table(
        "phone_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("from_number", sa.String(length=100), nullable=False),
        sa.Column("from_e164", sa.String(length=20), nullable=True),
        sa.Column("to_number", sa.String(length=100), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.Column("ringing", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("extension", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("rang_at", moment, nullable=False),
        sa.Column("answered_at", moment, nullable=True),
        sa.Column("ended_at", moment, nullable=True),
        sa.Column("cause", sa.String(length=100), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("direction IN ('in','out')", name="direction"),
        sa.CheckConstraint("state IN ('ringing','answered','ended','missed')", name="state"),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    for column in ("from_e164", "agent_id", "rang_at", "customer_id", "incident_id"):
        op.create_index(f"ix_phone_call_{column}", "phone_call", [column])


def downgrade() -> None:
    for column in ("incident_id", "customer_id", "rang_at", "agent_id", "from_e164"):
        op.drop_index(f"ix_phone_call_{column}", table_name="phone_call")
    op.drop_table("phone_call")
    op.drop_index("ix_agent_extension", table_name="agent")
    op.drop_column("agent", "extension")
