"""Reading incidents: references (INC-1042 / 1042) and paged lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import UsageError
from cc_tui.models import (
    Agent,
    Code,
    Contact,
    Customer,
    Department,
    Event,
    EventType,
    Incident,
    Priority,
    ServiceContract,
    SubcontractAgreement,
    Unit,
)
from cc_tui.models.enums import OPEN_STATUSES, Status
from cc_tui.services.incidents.base import get_incident, number

if TYPE_CHECKING:
    from cc_tui.services.incidents.list_filter import IncidentFilter

MAX_PAGE = 500


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
    # The version read: a change made from the list is refused if the incident changed since.
    version: int
    # What the escalation badge shows (time left or overdue).
    response_due: datetime | None = None
    resolve_due: datetime | None = None
    first_response_at: datetime | None = None
    paused_since: datetime | None = None
    # The escalation deadlines: a state reached by one of them says how long ago.
    warning_at: datetime | None = None
    late_at: datetime | None = None


def list_incidents(
    session: Session,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    open_only: bool = False,
    owner_id: int | None = None,
    department_id: int | None = None,
    before_id: int | None = None,
    ids: list[int] | None = None,
    limit: int = 100,
    where: IncidentFilter | None = None,
) -> list[IncidentRow]:
    """Newest first, one page; pass the last row's id as `before_id` for the next page;
    `where`: the list's `/` filter (`list_filter.parse_filter`)."""
    if status is not None and status not in {s.value for s in Status}:
        raise UsageError(f"unknown status {status!r}; one of: {', '.join(s.value for s in Status)}")
    limit = max(1, min(limit, MAX_PAGE))
    owner = aliased(Agent)
    query = (
        select(
            col(Incident.id),
            col(Incident.status),
            col(Incident.request_type),
            col(Incident.channel),
            col(Incident.title),
            col(Incident.customer_id),
            col(Customer.name),
            col(Priority.code),
            col(owner.login),
            col(Department.code),
            col(Incident.escalation),
            col(Incident.opened_at),
            col(Incident.response_due),
            col(Incident.resolve_due),
            col(Incident.first_response_at),
            col(Incident.paused_since),
            col(Incident.warning_at),
            col(Incident.late_at),
            col(Incident.version),
        )
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .outerjoin(Priority, col(Priority.id) == col(Incident.priority_id))
        .outerjoin(owner, col(owner.id) == col(Incident.owner_id))
        .outerjoin(Department, col(Department.id) == col(Incident.department_id))
        .order_by(col(Incident.id).desc())
        .limit(limit)
    )
    # A call added to another incident stays on record as a contact (counted in the
    # volume report) but is no incident of its own: it is listed nowhere.
    query = query.where(col(Incident.duplicate_of_id).is_(None))
    if status is not None:
        query = query.where(col(Incident.status) == status)
    elif open_only:
        query = query.where(col(Incident.status).in_(OPEN_STATUSES))
    if customer_id is not None:
        query = query.where(col(Incident.customer_id) == customer_id)
    if owner_id is not None:
        query = query.where(col(Incident.owner_id) == owner_id)
    if department_id is not None:
        query = query.where(col(Incident.department_id) == department_id)
    if before_id is not None:
        query = query.where(col(Incident.id) < before_id)
    if ids is not None:
        query = query.where(col(Incident.id).in_(ids))
    if where is not None and not where.empty:
        from cc_tui.services.incidents.list_filter import sql_conditions

        query = query.where(
            *sql_conditions(
                where,
                incident_id=col(Incident.id),
                status=col(Incident.status),
                title=col(Incident.title),
                customer=col(Customer.name),
                customer_folded=col(Customer.search_name),
                owner=col(owner.login),
                priority=col(Priority.code),
                department=col(Department.code),
            )
        )
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
            response_due=row[12],
            resolve_due=row[13],
            first_response_at=row[14],
            paused_since=row[15],
            warning_at=row[16],
            late_at=row[17],
            version=row[18],
        )
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    type: str
    kind: str
    author: str
    text: str | None
    contact_id: int | None
    duration_minutes: int | None
    corrects_id: int | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class IncidentDetail:
    """Everything `incident show` prints and the incident screen displays."""

    id: int
    number: str
    status: str
    type: str
    channel: str
    title: str | None
    description: str | None
    question: str | None
    answer: str | None
    caller: dict[str, Any]
    customer: dict[str, Any] | None
    contact: dict[str, Any] | None
    unit: dict[str, Any] | None
    reason: dict[str, Any]
    request_kind: str | None
    problem_code: str | None
    priority: str | None
    owner: str | None
    responsible: str | None
    department: str | None
    resolution: dict[str, Any]
    customer_accepted: bool | None
    closed_by_coordinator: bool | None
    escalation: str
    response_due: datetime | None
    follow_up_at: datetime | None
    warning_at: datetime | None
    late_at: datetime | None
    resolve_due: datetime | None
    # Set by hand (`cc-tui incident deadline`): priority, contract and calendar changes keep them.
    deadlines_manual: bool
    paused_minutes: int
    opened_at: datetime
    registered_at: datetime | None
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    expected_close: date | None
    duplicate_of: str | None
    version: int
    updated_at: datetime
    updated_by: str | None
    legal_next: tuple[str, ...]
    # Booked minutes of all agents (a running timer counts once it is stopped).
    time_spent_minutes: int
    events: list[EventRow]


def incident_detail(
    session: Session, ref: str | int, *, events_limit: int | None = None
) -> IncidentDetail:
    """An incident with its names resolved and its timeline (oldest first)."""
    from cc_tui.services.incidents.lifecycle import legal_targets
    from cc_tui.services.incidents.timetrack import minutes_on_incident

    inc = get_incident(session, ref)

    def code_path(code_id: int | None) -> str | None:
        code = session.get(Code, code_id) if code_id else None
        return code.path if code else None

    def code_leaf(code_id: int | None) -> str | None:
        code = session.get(Code, code_id) if code_id else None
        return code.code if code else None

    def login(agent_id: int | None) -> str | None:
        agent = session.get(Agent, agent_id) if agent_id else None
        return agent.login if agent else None

    customer = session.get(Customer, inc.customer_id) if inc.customer_id else None
    contact = session.get(Contact, inc.contact_id) if inc.contact_id else None
    priority = session.get(Priority, inc.priority_id) if inc.priority_id else None
    dept = session.get(Department, inc.department_id) if inc.department_id else None
    return IncidentDetail(
        id=inc.id or 0,
        number=number(inc.id or 0),
        status=inc.status,
        type=inc.request_type,
        channel=inc.channel,
        title=inc.title,
        description=inc.description,
        question=inc.question,
        answer=inc.answer,
        caller={"name": inc.caller_name, "phone": inc.caller_phone, "email": inc.caller_email},
        customer=None
        if customer is None
        else {
            "id": customer.id,
            "number": customer.number,
            "name": customer.name,
            "block_level": customer.block_level,
            "block_reason": customer.block_reason,
        },
        contact=None
        if contact is None
        else {"id": contact.id, "name": contact.name, "phone": contact.phone},
        unit=_unit_block(session, inc),
        reason={
            "general": code_leaf(inc.reason_general_id),
            "specific": code_leaf(inc.reason_specific_id),
        },
        request_kind=code_path(inc.request_type_code_id),
        problem_code=code_path(inc.problem_code_id),
        priority=priority.code if priority else None,
        owner=login(inc.owner_id),
        responsible=login(inc.responsible_id),
        department=dept.code if dept else None,
        resolution={
            "general": code_leaf(inc.resolution_general_id),
            "specific": code_leaf(inc.resolution_specific_id),
            "problem": inc.actual_problem,
            "solution": inc.actual_solution,
        },
        customer_accepted=inc.customer_accepted,
        closed_by_coordinator=inc.closed_by_coordinator,
        escalation=inc.escalation,
        response_due=inc.response_due,
        follow_up_at=inc.follow_up_at,
        warning_at=inc.warning_at,
        late_at=inc.late_at,
        resolve_due=inc.resolve_due,
        deadlines_manual=inc.deadlines_manual,
        paused_minutes=inc.paused_minutes,
        opened_at=inc.opened_at,
        registered_at=inc.registered_at,
        first_response_at=inc.first_response_at,
        solved_at=inc.solved_at,
        closed_at=inc.closed_at,
        expected_close=inc.expected_close,
        duplicate_of=number(inc.duplicate_of_id) if inc.duplicate_of_id else None,
        version=inc.version,
        updated_at=inc.updated_at,
        updated_by=login(inc.updated_by_id),
        legal_next=legal_targets(inc.status),
        time_spent_minutes=minutes_on_incident(session, inc.id or 0),
        events=list_events(session, inc.id or 0, limit=events_limit),
    )


def _unit_block(session: Session, inc: Incident) -> dict[str, Any] | None:
    unit = session.get(Unit, inc.unit_id) if inc.unit_id else None
    if unit is None:
        return None
    contract = session.get(ServiceContract, inc.contract_id) if inc.contract_id else None
    sub = session.get(SubcontractAgreement, inc.subcontract_id) if inc.subcontract_id else None
    under = inc.under_warranty
    if under is None:
        under = (
            unit.warranty_until is not None
            and unit.warranty_until >= clock.now().astimezone().date()
        )
    return {
        "serial": unit.serial,
        "item": unit.item,
        "unit_type": unit.unit_type,
        "under_warranty": bool(under),
        "warranty_until": unit.warranty_until,
        "contract": None
        if contract is None
        else {"code": contract.code, "coverage": contract.coverage},
        "subcontract": None
        if sub is None
        else {"code": sub.code, "subcontractor": sub.subcontractor},
    }


def list_events(
    session: Session, incident_id: int, *, limit: int | None = None, newest_first: bool = False
) -> list[EventRow]:
    query = (
        select(
            col(Event.id),
            col(Event.at),
            col(EventType.code),
            col(Event.kind),
            col(Agent.login),
            col(Event.text),
            col(Event.contact_id),
            col(Event.duration_minutes),
            col(Event.corrects_id),
            col(Event.data),
        )
        .join(EventType, col(EventType.id) == col(Event.event_type_id))
        .join(Agent, col(Agent.id) == col(Event.author_id))
        .where(col(Event.incident_id) == incident_id)
        .order_by(col(Event.id).desc() if newest_first else col(Event.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return [EventRow(*row) for row in session.execute(query)]
