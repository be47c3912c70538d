"""Work orders an incident is transferred to (M10); one work order may serve many incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, false, text
from sqlalchemy import Boolean as SaBoolean
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime

# Open orders: what the console's list shows and what incidents can still be linked to.
OPEN_SQL = "status IN ('open','in_progress')"


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("kind IN ('service','subcontract','repair')", name="kind"),
        CheckConstraint("status IN ('open','in_progress','completed','cancelled')", name="status"),
        # The work-order list pages newest first: by status, and the open orders (all, a
        # department's, a technician's) from partial indexes (migrations 0010, 0011).
        Index("ix_work_order_status_id", "status", "id"),
        Index("ix_work_order_department", "department_id", "id"),
        Index(
            "ix_work_order_open",
            "id",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index(
            "ix_work_order_open_department",
            "department_id",
            "id",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index(
            "ix_work_order_open_assignee",
            "assignee_id",
            "id",
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        # Link candidates: open orders with the same problem code.
        Index("ix_work_order_problem", "problem_code_id", "status", "id"),
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
    # The billable service order's number in the ERP (cross-reference) and where it goes.
    cross_reference: str | None = Field(default=None, max_length=80, index=True)
    destination_type: str | None = Field(default=None, max_length=40)
    # The checklist: [{"text": ..., "done": bool}, ...].
    tasks: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    # What the technician found and did, recorded when the order is completed.
    actual_problem: str | None = None
    actual_solution: str | None = None
    resolution_general_id: int | None = Field(default=None, foreign_key="code.id")
    resolution_specific_id: int | None = Field(default=None, foreign_key="code.id")
    created_by_id: int = Field(foreign_key="agent.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1


class IncidentWorkOrder(SQLModel, table=True):
    __tablename__ = "incident_work_order"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", primary_key=True, index=True)
    linked_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    linked_by_id: int = Field(foreign_key="agent.id")
    # This order's completion (or cancellation) closed the incident: reopening it reopens
    # the incident.
    closed_incident: bool = Field(
        default=False,
        sa_column=Column(SaBoolean, nullable=False, server_default=false()),
    )


class WorkOrderEvent(SQLModel, table=True):
    """The work order's own timeline: created, linked, status changes (append-only)."""

    __tablename__ = "work_order_event"
    __table_args__ = (Index("ix_work_order_event_order", "work_order_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id")
    at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    author_id: int = Field(foreign_key="agent.id")
    action: str = Field(max_length=20)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    text: str
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
