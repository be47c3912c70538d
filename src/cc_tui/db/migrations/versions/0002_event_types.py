"""default and system event types

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy (migrations do not import service code, which may change later).
USER_TYPES = [
    ("CallIn", "Call in", "inbound", True),
    ("CallOut", "Call out", "outbound", True),
    ("EmailIn", "E-mail in", "inbound", True),
    ("EmailOut", "E-mail out", "outbound", True),
    ("Dispatch", "Dispatch", "internal", False),
    ("Note", "Note", "internal", False),
]
SYSTEM_TYPES = [
    ("Contact", "Contact"),
    ("StatusChange", "Status change"),
    ("Assignment", "Assignment"),
    ("PriorityChange", "Priority change"),
    ("FieldChange", "Field change"),
    ("Link", "Link"),
    ("KbSearch", "KB search"),
    ("Escalation", "Escalation"),
    ("Routing", "Routing"),
    ("WorkOrder", "Work order"),
    ("Notification", "Notification"),
]

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
    rows = [
        {"code": c, "name": n, "direction": d, "is_contact": k, "is_system": False, "active": True}
        for c, n, d, k in USER_TYPES
    ] + [
        {
            "code": c,
            "name": n,
            "direction": "internal",
            "is_contact": False,
            "is_system": True,
            "active": True,
        }
        for c, n in SYSTEM_TYPES
    ]
    op.bulk_insert(event_type, rows)


def downgrade() -> None:
    codes = [c for c, *_ in USER_TYPES] + [c for c, _ in SYSTEM_TYPES]
    op.execute(event_type.delete().where(event_type.c.code.in_(codes)))
