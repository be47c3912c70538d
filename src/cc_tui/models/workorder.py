"""Work orders an incident is transferred to (M10); one work order may serve many incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("kind IN ('service','subcontract','repair')", name="kind"),
        CheckConstraint("status IN ('open','in_progress','completed','cancelled')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    repair_kind: str | None = Field(default=None, max_length=20)
    status: str = Field(default="open", max_length=20, index=True)
    title: str = Field(max_length=300)
    description: str | None = None
    template_id: int | None = Field(default=None, foreign_key="work_order_template.id")
    problem_code_id: int | None = Field(default=None, foreign_key="code.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    subcontract_id: int | None = Field(default=None, foreign_key="subcontract_agreement.id")
    billable: bool = False
    # The billable service order's number in the ERP (cross-reference).
    cross_reference: str | None = Field(default=None, max_length=80, index=True)
    created_by_id: int = Field(foreign_key="agent.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1


class IncidentWorkOrder(SQLModel, table=True):
    __tablename__ = "incident_work_order"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", primary_key=True, index=True)
    linked_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    linked_by_id: int = Field(foreign_key="agent.id")
