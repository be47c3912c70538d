"""Reading incidents: references (INC-1042 / 1042) and paged lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from cc_tui.errors import NotFound, UsageError
from cc_tui.models import Agent, Customer, Department, Incident, Priority
from cc_tui.models.enums import OPEN_STATUSES, Status

_REF = re.compile(r"^\s*(?:INC-?)?(\d{1,18})\s*$", re.IGNORECASE)
MAX_PAGE = 500


def parse_ref(ref: str | int) -> int:
    """`INC-1042`, `inc1042` or `1042` -> 1042."""
    if isinstance(ref, int):
        return ref
    match = _REF.match(ref)
    if not match:
        raise UsageError(f"not an incident number: {ref!r} (expected INC-1042 or 1042)")
    return int(match.group(1))


def number(incident_id: int) -> str:
    return f"INC-{incident_id}"


def get_incident(session: Session, ref: str | int) -> Incident:
    incident_id = parse_ref(ref)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {number(incident_id)}")
    return incident


@dataclass(frozen=True)
class IncidentRow:
    """One line of an incident list."""

    id: int
    number: str
    status: str
    type: str
    channel: str
    title: str | None
    customer_id: int | None
    customer: str | None
    priority: str | None
    owner: str | None
    department: str | None
    escalation: str
    opened_at: datetime


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    open_only: bool = False,
    owner_id: int | None = None,
    department_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[IncidentRow]:
    """Newest first, one page; pass the last row's id as `before_id` for the next page."""
    if status is not None and status not in {s.value for s in Status}:
        raise UsageError(f"unknown status {status!r}; one of: {', '.join(s.value for s in Status)}")
    limit = max(1, min(limit, MAX_PAGE))
    owner = aliased(Agent)
    query = (
        select(
            Incident.id,
            Incident.status,
            Incident.request_type,
            Incident.channel,
            Incident.title,
            Incident.customer_id,
            Customer.name,
            Priority.code,
            owner.login,
            Department.code,
            Incident.escalation,
            Incident.opened_at,
        )
        .outerjoin(Customer, Customer.id == Incident.customer_id)
        .outerjoin(Priority, Priority.id == Incident.priority_id)
        .outerjoin(owner, owner.id == Incident.owner_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .order_by(Incident.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Incident.status == status)
    elif open_only:
        query = query.where(Incident.status.in_(OPEN_STATUSES))
    if customer_id is not None:
        query = query.where(Incident.customer_id == customer_id)
    if owner_id is not None:
        query = query.where(Incident.owner_id == owner_id)
    if department_id is not None:
        query = query.where(Incident.department_id == department_id)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    return [
        IncidentRow(
            id=row[0],
            number=number(row[0]),
            status=row[1],
            type=row[2],
            channel=row[3],
            title=row[4],
            customer_id=row[5],
            customer=row[6],
            priority=row[7],
            owner=row[8],
            department=row[9],
            escalation=row[10],
            opened_at=row[11],
        )
        for row in session.execute(query)
    ]
