"""Classification codes (M4) and priority codes (M6).

One `code` table holds every tree: reason and resolution codes (general -> specific), the
request-type dictionary, and the service hierarchy department -> provider -> category ->
problem code. `path` is the code's full name within its kind ("HW/DISK"), unique per kind.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class WorkOrderTemplate(SQLModel, table=True):
    __tablename__ = "work_order_template"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="service", max_length=20)
    repair_kind: str | None = Field(default=None, max_length=20)
    description: str | None = None
    estimated_minutes: int | None = None
    billable: bool = False
    # The checklist an order made from it starts with (a list of task texts; migration 0010).
    tasks: list[str] | None = Field(default=None, sa_type=JSON)
    department_id: int | None = Field(default=None, foreign_key="department.id")


class Code(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("kind", "path", name="uq_code_kind_path"),
        CheckConstraint(
            "kind IN ('reason','resolution','request-type','provider','category','problem')",
            name="kind",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    code: str = Field(max_length=40)
    path: str = Field(max_length=200)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="code.id", index=True)
    # Providers hang under a department; the rest of the tree inherits it.
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    # Problem codes may carry the work order an action request creates by default.
    work_order_template_id: int | None = Field(default=None, foreign_key="work_order_template.id")
    position: int = 0
    active: bool = True


class Priority(SQLModel, table=True):
    """A priority code: its offsets are working minutes on the chosen coverage basis."""

    __table_args__ = (CheckConstraint("basis IN ('business','contract','all')", name="basis"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)
    # 1 is the most urgent; queues sort by it.
    rank: int = 3
    response_minutes: int | None = None
    follow_up_minutes: int | None = None
    warning_minutes: int | None = None
    late_minutes: int | None = None
    resolve_minutes: int | None = None
    basis: str = Field(default="business", max_length=10)
    calendar_id: int | None = Field(default=None, foreign_key="calendar.id")
    is_default: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class EscalationAction(SQLModel, table=True):
    """What happens when an incident of a priority reaches an escalation state."""

    __tablename__ = "escalation_action"
    __table_args__ = (
        CheckConstraint("at_state IN ('follow_up','warning','late')", name="at_state"),
        CheckConstraint("action IN ('raise_priority','reassign','notify')", name="action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    priority_id: int = Field(foreign_key="priority.id", index=True, ondelete="CASCADE")
    position: int = 0
    at_state: str = Field(max_length=20)
    action: str = Field(max_length=20)
    target_priority_id: int | None = Field(default=None, foreign_key="priority.id")
    target_department_id: int | None = Field(default=None, foreign_key="department.id")
    target_agent_id: int | None = Field(default=None, foreign_key="agent.id")
