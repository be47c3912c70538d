"""The incident: one customer contact and everything done about it (M1-M10)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime
from cc_tui.statuses import OPEN_STATUSES, RUNNING_STATUSES, Status, status_sql

_OPEN = status_sql(OPEN_STATUSES)
# Open and not pending: the escalation clocks run (migration 0006).
_RUNNING = status_sql(RUNNING_STATUSES)
_QUEUE_ORDER = (
    text("escalation_rank DESC"),
    "priority_rank",
    text("(response_due IS NULL)"),
    "response_due",
    "id",
)


class Incident(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(status_sql(Status), name="status"),
        CheckConstraint("channel IN ('phone','email','fax','web','walk-in','cti')", name="channel"),
        CheckConstraint("request_type IN ('information','action','comment')", name="request_type"),
        CheckConstraint(
            "escalation IN ('on_time','follow_up','warning','late')", name="escalation"
        ),
        # Queues (migration 0007), in queue order: worst escalation first, priority rank,
        # response due (none last), age. A department's unassigned incidents ...
        Index(
            "ix_incident_unassigned",
            "department_id",
            *_QUEUE_ORDER,
            sqlite_where=text(_OPEN + " AND owner_id IS NULL"),
            postgresql_where=text(_OPEN + " AND owner_id IS NULL"),
        ),
        # ... an agent's open incidents ("My work") ...
        Index(
            "ix_incident_mywork",
            "owner_id",
            *_QUEUE_ORDER,
            sqlite_where=text(_OPEN + " AND owner_id IS NOT NULL"),
            postgresql_where=text(_OPEN + " AND owner_id IS NOT NULL"),
        ),
        # ... and the grouped load count, read from the index alone.
        Index(
            "ix_incident_load",
            "department_id",
            "owner_id",
            "status",
            "escalation_rank",
            "id",
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # "My work" and per-agent load.
        Index(
            "ix_incident_owner_open",
            "owner_id",
            "status",
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # Escalation sweep: incidents whose clocks run, by when they next change state.
        Index(
            "ix_incident_escalate",
            "escalate_at",
            sqlite_where=text(_RUNNING),
            postgresql_where=text(_RUNNING),
        ),
        Index("ix_incident_customer", "customer_id", "status", "id"),
        Index("ix_incident_contact", "contact_id", "status", "id"),
        Index("ix_incident_unit", "unit_id", "status", "id"),
        Index("ix_incident_status", "status", "id"),
        Index("ix_incident_opened_at", "opened_at"),
        # Imported history: a second import of the same rows adds nothing (migration 0016).
        Index("uq_incident_source_number", "source_number", unique=True),
        # Reports (migrations 0018, 0021): registered and closed in a period, with what the
        # backlog tests (a request's status and duplicate_of_id, an agent's own incidents),
        # from the index alone.
        Index(
            "ix_incident_registered_at",
            "registered_at",
            "status",
            "created_by_id",
            "duplicate_of_id",
            "owner_id",
        ),
        Index(
            "ix_incident_closed_at",
            "closed_at",
            "status",
            "owner_id",
            "registered_at",
            "duplicate_of_id",
            "created_by_id",
        ),
        # Reports (migration 0023): each agent's registered, solved and closed incidents
        # in a period, one index range per agent (nothing to sort).
        Index(
            "ix_incident_registered_by",
            "created_by_id",
            "registered_at",
            "status",
            "duplicate_of_id",
        ),
        Index("ix_incident_solved_by", "owner_id", "solved_at"),
        Index("ix_incident_closed_by", "owner_id", "closed_at"),
    )

    # The human number is INC-<id>.
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    request_type: str = Field(max_length=20)
    status: str = Field(default="draft", max_length=20)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = None
    # Information requests: what was asked and what the agent answered.
    question: str | None = None
    answer: str | None = None

    # Who called, as given (also when no customer could be identified).
    caller_name: str | None = Field(default=None, max_length=200)
    caller_phone: str | None = Field(default=None, max_length=40)
    caller_phone_e164: str | None = Field(default=None, max_length=20, index=True)
    caller_email: str | None = Field(default=None, max_length=254)

    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    contract_id: int | None = Field(default=None, foreign_key="service_contract.id")
    subcontract_id: int | None = Field(default=None, foreign_key="subcontract_agreement.id")
    under_warranty: bool | None = None

    reason_general_id: int | None = Field(default=None, foreign_key="code.id")
    reason_specific_id: int | None = Field(default=None, foreign_key="code.id")
    request_type_code_id: int | None = Field(default=None, foreign_key="code.id")
    problem_code_id: int | None = Field(default=None, foreign_key="code.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    priority_rank: int = 9  # copy of priority.rank for queue ordering; 9 = none

    department_id: int | None = Field(default=None, foreign_key="department.id")
    owner_id: int | None = Field(default=None, foreign_key="agent.id")
    responsible_id: int | None = Field(default=None, foreign_key="agent.id")
    created_by_id: int = Field(foreign_key="agent.id")
    routing_rule_id: int | None = Field(default=None, foreign_key="routing_rule.id")

    # Contact timing: opened the moment the contact started, ended when saved/abandoned.
    opened_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    contact_ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    registered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    solved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expected_close: date | None = None

    # Deadlines (M6), computed from priority, contract and calendar unless set by hand.
    response_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    follow_up_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    warning_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    late_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolve_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    deadlines_manual: bool = False
    escalation: str = Field(default="on_time", max_length=20)
    escalation_rank: int = 0
    paused_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    paused_minutes: int = 0
    # When the next escalation threshold passes (NULL: none left); kept by the deadline
    # service and the sweep, which only reads incidents whose time has come.
    escalate_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    # Resolution (required before solved).
    actual_problem: str | None = None
    actual_solution: str | None = None
    resolution_general_id: int | None = Field(default=None, foreign_key="code.id")
    resolution_specific_id: int | None = Field(default=None, foreign_key="code.id")
    # Closing: accepted by the customer, or closed by a coordinator.
    customer_accepted: bool | None = None
    closed_by_coordinator: bool | None = None

    parent_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kb_searches: int = 0
    # The number the incident had in the desk it was imported from (`cc-tui import`).
    source_number: str | None = Field(default=None, max_length=100)

    version: int = 1
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="agent.id")

    @property
    def number(self) -> str:
        return f"INC-{self.id}"


class IncidentPause(SQLModel, table=True):
    """A span in `pending` during which the incident's clocks stop."""

    __tablename__ = "incident_pause"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    started_at: datetime = Field(sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
