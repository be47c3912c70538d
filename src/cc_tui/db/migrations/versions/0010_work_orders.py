"""work orders (M10): checklists, completion, the order's own timeline, list indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

Templates get their task checklist and default department; orders get the checklist, the
ERP destination type, what was found and done (problem, solution, resolution codes), when
they were started and last changed. `incident_work_order.closed_incident` marks the order
whose completion closed the incident, so reopening the order reopens exactly those.
`work_order_event` is the order's timeline. Indexes serve the list (newest first by
status, department or technician) and the link candidates (same problem code).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cc_tui.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referencing `target`: on SQLite in the ADD COLUMN itself (a batch
    rebuild would lose the tables' CHECK constraints), elsewhere as a named constraint."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(f"fk_{table}_{column}_{target}", table, target, [column], ["id"])


def upgrade() -> None:
    op.add_column("work_order_template", sa.Column("tasks", sa.JSON(), nullable=True))
    _add_reference("work_order_template", "department_id", "department")
    text = sa.String
    moment = cc_tui.models.base.UtcDateTime(timezone=True)
    for column in (
        sa.Column("destination_type", text(length=40), nullable=True),
        sa.Column("tasks", sa.JSON(), nullable=True),
        sa.Column("actual_problem", text(), nullable=True),
        sa.Column("actual_solution", text(), nullable=True),
        sa.Column("started_at", moment, nullable=True),
        sa.Column("updated_at", moment, nullable=True),
    ):
        op.add_column("work_order", column)
    _add_reference("work_order", "resolution_general_id", "code")
    _add_reference("work_order", "resolution_specific_id", "code")
    op.create_index("ix_work_order_status_id", "work_order", ["status", "id"])
    op.create_index("ix_work_order_department", "work_order", ["department_id", "status", "id"])
    op.create_index("ix_work_order_assignee", "work_order", ["assignee_id", "status", "id"])
    op.create_index("ix_work_order_problem", "work_order", ["problem_code_id", "status", "id"])
    op.add_column(
        "incident_work_order",
        sa.Column("closed_incident", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "work_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", moment, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("action", text(length=20), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("text", text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_work_order_event_order", "work_order_event", ["work_order_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_work_order_event_order", table_name="work_order_event")
    op.drop_table("work_order_event")
    op.drop_column("incident_work_order", "closed_incident")
    for name in ("problem", "assignee", "department", "status_id"):
        op.drop_index(f"ix_work_order_{name}", table_name="work_order")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, target in (
        ("work_order", "resolution_specific_id", "code"),
        ("work_order", "resolution_general_id", "code"),
        ("work_order_template", "department_id", "department"),
    ):
        if not sqlite:
            op.drop_constraint(f"fk_{table}_{column}_{target}", table, type_="foreignkey")
        op.drop_column(table, column)
    for column in (
        "updated_at",
        "started_at",
        "actual_solution",
        "actual_problem",
        "tasks",
        "destination_type",
    ):
        op.drop_column("work_order", column)
    op.drop_column("work_order_template", "tasks")
