"""Work orders (M10): transfer an action request, link to an open order, the order's lifecycle.

An incident handed to work orders is Transferred. When its last order is done (every order
completed or cancelled, at least one completed) it is solved with the order's problem and
solution and closed; when all of them were cancelled it goes back to in process. Reopening
an order reopens the incidents it closed. Every incident status change goes through the
lifecycle module; this module only decides which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, update
from sqlalchemy import text as sql_text
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import Conflict, NotFound, RuleViolation, UsageError
from cc_tui.models import (
    Agent,
    Code,
    Customer,
    Department,
    Incident,
    IncidentWorkOrder,
    SubcontractAgreement,
    Unit,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTemplate,
)
from cc_tui.models.enums import RequestType, Status, SystemEvent, WorkOrderKind
from cc_tui.models.enums import WorkOrderStatus as W
from cc_tui.models.workorder import OPEN_SQL
from cc_tui.services.context import Actor
from cc_tui.services.directory.agents import resolve_agent, resolve_department
from cc_tui.services.directory.codes import resolve_pair
from cc_tui.services.directory.units import subcontract_for
from cc_tui.services.incidents import lifecycle
from cc_tui.services.incidents.base import incident_changed, lock_incident, number, parse_ref
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.notify import outbox
from cc_tui.services.workorders.templates import (
    check_kinds,
    parse_kind,
    parse_repair_kind,
    repair_word,
    resolve_template,
)

_REF = re.compile(r"^\s*(?:WO-?)?(\d{1,18})\s*$", re.IGNORECASE)
# An action request in these states can be handed to (further) work orders.
TRANSFERABLE = (Status.REGISTERED, Status.ASSIGNED, Status.IN_PROCESS, Status.TRANSFERRED)
OPEN_ORDER = (W.OPEN, W.IN_PROGRESS)
TERMINAL = (W.COMPLETED, W.CANCELLED)
ORDER_MOVES: dict[str, tuple[str, ...]] = {
    W.OPEN: (W.IN_PROGRESS, W.COMPLETED, W.CANCELLED),
    W.IN_PROGRESS: (W.OPEN, W.COMPLETED, W.CANCELLED),
    W.COMPLETED: (W.OPEN,),  # reopen
    W.CANCELLED: (W.OPEN,),  # reopen
}
MAX_PAGE = 500


def wo_number(order_id: int) -> str:
    return f"WO-{order_id}"


def parse_wo(ref: str | int) -> int:
    """`WO-17`, `wo17` or `17` -> 17."""
    if isinstance(ref, int):
        return ref
    match = _REF.match(ref)
    if not match:
        raise UsageError(f"not a work-order number: {ref!r} (expected WO-17 or 17)")
    return int(match.group(1))


# ------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class OrderEvent:
    at: datetime
    author: str
    action: str
    incident: str | None
    text: str


@dataclass(frozen=True)
class WorkOrderInfo:
    number: str
    kind: str
    repair_kind: str | None
    status: str
    title: str
    description: str | None
    template: str | None
    problem_code: str | None
    department: str | None
    assignee: str | None
    subcontract: dict[str, Any] | None
    billable: bool
    cross_reference: str | None
    destination_type: str | None
    tasks: list[dict[str, Any]]
    actual_problem: str | None
    actual_solution: str | None
    resolution: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    version: int
    incidents: list[str]
    legal_next: tuple[str, ...]
    events: list[OrderEvent]


def get_order(session: Session, ref: str | int) -> WorkOrder:
    order_id = parse_wo(ref)
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(f"no work order {wo_number(order_id)}")
    return order


def _lock_order(session: Session, ref: str | int) -> WorkOrder:
    order_id = parse_wo(ref)
    order = session.scalars(
        select(WorkOrder)
        .where(col(WorkOrder.id) == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if order is None:
        raise NotFound(f"no work order {wo_number(order_id)}")
    return order


def _code_path(session: Session, code_id: int | None) -> str | None:
    code = session.get(Code, code_id) if code_id else None
    return code.path if code else None


def order_info(session: Session, order: WorkOrder, *, events: bool = True) -> WorkOrderInfo:
    assert order.id is not None
    template = session.get(WorkOrderTemplate, order.template_id) if order.template_id else None
    dept = session.get(Department, order.department_id) if order.department_id else None
    assignee = session.get(Agent, order.assignee_id) if order.assignee_id else None
    creator = session.get(Agent, order.created_by_id)
    agreement = (
        session.get(SubcontractAgreement, order.subcontract_id) if order.subcontract_id else None
    )
    linked = session.scalars(
        select(col(IncidentWorkOrder.incident_id))
        .where(col(IncidentWorkOrder.work_order_id) == order.id)
        .order_by(col(IncidentWorkOrder.incident_id))
    ).all()
    resolution = "/".join(
        p
        for p in (
            _code_path(session, order.resolution_general_id),
            (_code_path(session, order.resolution_specific_id) or "").rpartition("/")[2] or None,
        )
        if p
    )
    timeline: list[OrderEvent] = []
    if events:
        rows = session.execute(
            select(WorkOrderEvent, col(Agent.login))
            .join(Agent, col(Agent.id) == col(WorkOrderEvent.author_id))
            .where(col(WorkOrderEvent.work_order_id) == order.id)
            .order_by(col(WorkOrderEvent.id))
        ).all()
        timeline = [
            OrderEvent(
                e.at, login, e.action, number(e.incident_id) if e.incident_id else None, e.text
            )
            for e, login in rows
        ]
    return WorkOrderInfo(
        number=wo_number(order.id),
        kind=order.kind,
        repair_kind=repair_word(order.repair_kind),
        status=order.status,
        title=order.title,
        description=order.description,
        template=template.code if template else None,
        problem_code=_code_path(session, order.problem_code_id),
        department=dept.code if dept else None,
        assignee=assignee.login if assignee else None,
        subcontract=(
            {"code": agreement.code, "subcontractor": agreement.subcontractor}
            if agreement
            else None
        ),
        billable=order.billable,
        cross_reference=order.cross_reference,
        destination_type=order.destination_type,
        tasks=list(order.tasks or []),
        actual_problem=order.actual_problem,
        actual_solution=order.actual_solution,
        resolution=resolution or None,
        created_by=creator.login if creator else "",
        created_at=order.created_at,
        started_at=order.started_at,
        completed_at=order.completed_at,
        version=order.version,
        incidents=[number(i) for i in linked],
        legal_next=ORDER_MOVES.get(order.status, ()),
        events=timeline,
    )


def show_order(session: Session, ref: str | int) -> WorkOrderInfo:
    return order_info(session, get_order(session, ref))


@dataclass(frozen=True)
class WorkOrderRow:
    number: str
    kind: str
    repair_kind: str | None
    status: str
    title: str
    department: str | None
    assignee: str | None
    incidents: int
    billable: bool
    cross_reference: str | None
    created_at: datetime


def list_orders(
    session: Session,
    *,
    status: str | None = None,
    open_only: bool = False,
    department: str | None = None,
    assignee: str | None = None,
    incident: str | int | None = None,
    text: str | None = None,
    limit: int = 100,
    before: str | int | None = None,
) -> list[WorkOrderRow]:
    """Work orders newest first, one page (`before`: the last number of the page before)."""
    if status is not None:
        try:
            status = W(status).value
        except ValueError:
            choices = ", ".join(s.value for s in W)
            raise UsageError(f"unknown work-order status {status!r}; one of: {choices}") from None
    limit = max(1, min(limit, MAX_PAGE))
    count = (
        select(func.count())
        .where(col(IncidentWorkOrder.work_order_id) == col(WorkOrder.id))
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    query = (
        select(WorkOrder, col(Department.code), col(Agent.login), count)
        .outerjoin(Department, col(Department.id) == col(WorkOrder.department_id))
        .outerjoin(Agent, col(Agent.id) == col(WorkOrder.assignee_id))
        .order_by(col(WorkOrder.id).desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(col(WorkOrder.status) == status)
    elif open_only:
        query = query.where(sql_text(OPEN_SQL))  # as written in the partial indexes
        if not (department or assignee or incident is not None or (text and text.strip())):
            ids = _open_page(session, limit, parse_wo(before) if before is not None else None)
            query = query.where(col(WorkOrder.id).in_(ids))
    if department:
        dept_id = resolve_department(session, department).id
        query = query.where(col(WorkOrder.department_id) == dept_id)
    if assignee:
        query = query.where(col(WorkOrder.assignee_id) == resolve_agent(session, assignee).id)
    if incident is not None:
        incident_id = parse_ref(incident)
        query = query.where(
            col(WorkOrder.id).in_(
                select(col(IncidentWorkOrder.work_order_id)).where(
                    col(IncidentWorkOrder.incident_id) == incident_id
                )
            )
        )
    if text and text.strip():
        words = text.strip()
        if _REF.match(words):
            query = query.where(col(WorkOrder.id) == parse_wo(words))
        else:
            pattern = f"%{words.lower()}%"
            query = query.where(
                or_(
                    func.lower(col(WorkOrder.title)).like(pattern),
                    func.lower(col(WorkOrder.cross_reference)).like(pattern),
                    # The console's `/` filter is also how a supervisor picks a technician.
                    func.lower(col(Agent.login)).like(pattern),
                    func.lower(col(Agent.name)).like(pattern),
                )
            )
    if before is not None:
        query = query.where(col(WorkOrder.id) < parse_wo(before))
    return [
        WorkOrderRow(
            number=wo_number(o.id or 0),
            kind=o.kind,
            repair_kind=repair_word(o.repair_kind),
            status=o.status,
            title=o.title,
            department=dept,
            assignee=login,
            incidents=n,
            billable=o.billable,
            cross_reference=o.cross_reference,
            created_at=o.created_at,
        )
        for o, dept, login, n in session.execute(query).all()
    ]


def _open_page(session: Session, limit: int, before: int | None) -> list[int]:
    """The ids of a page of open orders, newest first, read backwards from the partial
    index (SQLite without statistics would read every open order by status and sort)."""
    hint = " INDEXED BY ix_work_order_open" if session.get_bind().dialect.name == "sqlite" else ""
    page = " AND id < :before" if before is not None else ""
    statement = sql_text(
        f"SELECT id FROM work_order{hint} WHERE {OPEN_SQL}{page} ORDER BY id DESC LIMIT :limit"
    )
    params: dict[str, int] = {"limit": limit}
    if before is not None:
        params["before"] = before
    return [row[0] for row in session.execute(statement, params)]


@dataclass(frozen=True)
class Candidate:
    number: str
    title: str
    status: str
    kind: str
    match: str  # "unit", "customer" or "region": why it is offered
    incidents: int
    created_at: datetime


def candidates(session: Session, ref: str | int, *, limit: int = 20) -> list[Candidate]:
    """Open orders worth linking this incident to: the same problem code, for the same unit,
    customer or region, newest first; orders it is linked to already are left out."""
    incident = _get_incident(session, ref)
    if incident.problem_code_id is None:
        return []
    region = None
    if incident.customer_id:
        customer = session.get(Customer, incident.customer_id)
        region = customer.region if customer else None
    same_unit = col(Incident.unit_id) == incident.unit_id if incident.unit_id else None
    same_customer = (
        col(Incident.customer_id) == incident.customer_id if incident.customer_id else None
    )
    same_region = col(Customer.region) == region if region else None
    tests = [t for t in (same_unit, same_customer, same_region) if t is not None]
    if not tests:
        return []
    mine = select(col(IncidentWorkOrder.work_order_id)).where(
        col(IncidentWorkOrder.incident_id) == incident.id
    )
    hits = (
        select(
            col(IncidentWorkOrder.work_order_id).label("wo"), func.min(_rank(tests)).label("rank")
        )
        .join(Incident, col(Incident.id) == col(IncidentWorkOrder.incident_id))
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .join(WorkOrder, col(WorkOrder.id) == col(IncidentWorkOrder.work_order_id))
        .where(
            col(WorkOrder.problem_code_id) == incident.problem_code_id,
            col(WorkOrder.status).in_(OPEN_ORDER),
            col(WorkOrder.id).not_in(mine),
            or_(*tests),
        )
        .group_by(col(IncidentWorkOrder.work_order_id))
        .subquery()
    )
    count = (
        select(func.count())
        .where(col(IncidentWorkOrder.work_order_id) == col(WorkOrder.id))
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    rows = session.execute(
        select(WorkOrder, hits.c.rank, count)
        .join(hits, hits.c.wo == col(WorkOrder.id))
        .order_by(col(WorkOrder.created_at).desc(), col(WorkOrder.id).desc())
        .limit(limit)
    ).all()
    words = [*_match_words(same_unit, same_customer), "region"]
    return [
        Candidate(
            number=wo_number(o.id or 0),
            title=o.title,
            status=o.status,
            kind=o.kind,
            match=words[rank],
            incidents=n,
            created_at=o.created_at,
        )
        for o, rank, n in rows
    ]


def _match_words(
    same_unit: ColumnElement[bool] | None, same_customer: ColumnElement[bool] | None
) -> list[str]:
    return [w for w, t in (("unit", same_unit), ("customer", same_customer)) if t is not None]


def _rank(tests: list[ColumnElement[bool]]) -> Any:
    """The closest reason a linked incident matches: its position in `tests`."""
    return case(*((t, i) for i, t in enumerate(tests)), else_=len(tests))


@dataclass(frozen=True)
class IncidentOrder:
    number: str
    kind: str
    status: str
    title: str
    department: str | None
    assignee: str | None


def orders_of_incident(session: Session, ref: str | int) -> list[IncidentOrder]:
    incident_id = parse_ref(ref)
    rows = session.execute(
        select(WorkOrder, col(Department.code), col(Agent.login))
        .join(IncidentWorkOrder, col(IncidentWorkOrder.work_order_id) == col(WorkOrder.id))
        .outerjoin(Department, col(Department.id) == col(WorkOrder.department_id))
        .outerjoin(Agent, col(Agent.id) == col(WorkOrder.assignee_id))
        .where(col(IncidentWorkOrder.incident_id) == incident_id)
        .order_by(col(WorkOrder.id))
    ).all()
    return [
        IncidentOrder(wo_number(o.id or 0), o.kind, o.status, o.title, dept, login)
        for o, dept, login in rows
    ]


# ------------------------------------------------------------------------------ transfer


@dataclass(frozen=True)
class TransferResult:
    incident: dict[str, str]
    work_orders: list[WorkOrderInfo]


def _get_incident(session: Session, ref: str | int) -> Incident:
    incident_id = parse_ref(ref)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {number(incident_id)}")
    return incident


def _transferable(incident: Incident) -> None:
    label = number(incident.id or 0)
    if incident.request_type != RequestType.ACTION:
        raise RuleViolation(
            f"{label} is a {incident.request_type} request; only action requests become work orders"
        )
    if incident.status not in TRANSFERABLE:
        allowed = ", ".join(s.value for s in TRANSFERABLE)
        raise RuleViolation(
            f"{label} is {incident.status}; work orders are made for incidents that are {allowed}",
            field="status",
        )


def subcontract_of(session: Session, incident: Incident) -> SubcontractAgreement | None:
    """The subcontract agreement covering the incident's unit (as found at intake, or now)."""
    if incident.subcontract_id:
        return session.get(SubcontractAgreement, incident.subcontract_id)
    unit = session.get(Unit, incident.unit_id) if incident.unit_id else None
    return subcontract_for(session, unit) if unit else None


@dataclass(frozen=True)
class TransferOffer:
    """What the transfer form starts with: the template from the problem code, the unit's
    subcontract agreement, and the open orders worth linking to."""

    template: str | None
    kind: str | None
    subcontract: dict[str, Any] | None
    candidates: list[Candidate]


def transfer_offer(session: Session, ref: str | int) -> TransferOffer:
    incident = _get_incident(session, ref)
    code = session.get(Code, incident.problem_code_id) if incident.problem_code_id else None
    template = (
        session.get(WorkOrderTemplate, code.work_order_template_id)
        if code and code.work_order_template_id
        else None
    )
    agreement = subcontract_of(session, incident)
    return TransferOffer(
        template=template.code if template else None,
        kind=template.kind if template else None,
        subcontract=(
            {
                "code": agreement.code,
                "subcontractor": agreement.subcontractor,
                "transfer_allowed": agreement.transfer_allowed,
            }
            if agreement
            else None
        ),
        candidates=candidates(session, incident.id or 0),
    )


def transfer(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    kind: str | None = None,
    repair_kind: str | None = None,
    templates: list[str] | tuple[str, ...] = (),
    billable: bool = False,
    xref: str | None = None,
    destination: str | None = None,
    to_subcontractor: bool = False,
) -> TransferResult:
    """Hand an action request to one or more new work orders (one per template given; else
    one of the chosen kind; else the problem code's template). It becomes Transferred."""
    incident = lock_incident(session, ref, None)
    _transferable(incident)
    if xref and not billable:
        raise UsageError("--xref is the cross-reference of a billable order: add --billable")
    if billable and not (xref and xref.strip()):
        raise UsageError("a billable order needs its ERP cross-reference (--xref)", field="xref")
    chosen_kind = parse_kind(kind) if kind else None
    if to_subcontractor:
        if chosen_kind not in (None, WorkOrderKind.SUBCONTRACT):
            raise UsageError("--to-subcontractor makes a subcontract order, not a " + str(kind))
        chosen_kind = WorkOrderKind.SUBCONTRACT
    picked = [resolve_template(session, t) for t in templates]
    if not picked and chosen_kind is None:
        default = _default_template(session, incident)
        if default is None:
            raise UsageError(
                f"{number(incident.id or 0)} has no problem code with a default template: "
                "choose --kind or --template",
                field="kind",
            )
        picked = [default]
    specs: list[tuple[WorkOrderKind, WorkOrderTemplate | None]]
    if picked:
        specs = [(chosen_kind or parse_kind(t.kind), t) for t in picked]
    else:
        assert chosen_kind is not None  # nothing picked: only when a kind was chosen
        specs = [(chosen_kind, None)]
    now = clock.now()
    made = [
        _new_order(
            session,
            actor,
            incident,
            order_kind,
            template,
            repair_kind=repair_kind,
            xref=xref.strip() if xref else None,
            destination=destination,
            now=now,
        )
        for order_kind, template in specs
    ]
    _to_transferred(session, actor, incident, made)
    return TransferResult(
        incident={"number": number(incident.id or 0), "status": incident.status},
        work_orders=[order_info(session, o) for o in made],
    )


def _default_template(session: Session, incident: Incident) -> WorkOrderTemplate | None:
    code = session.get(Code, incident.problem_code_id) if incident.problem_code_id else None
    if code is None or code.work_order_template_id is None:
        return None
    return session.get(WorkOrderTemplate, code.work_order_template_id)


def _new_order(
    session: Session,
    actor: Actor,
    incident: Incident,
    kind: WorkOrderKind,
    template: WorkOrderTemplate | None,
    *,
    repair_kind: str | None,
    xref: str | None,
    destination: str | None,
    now: datetime,
) -> WorkOrder:
    label = number(incident.id or 0)
    stored_repair = parse_repair_kind(repair_kind) if repair_kind else None
    if stored_repair is None and template is not None and kind == template.kind:
        stored_repair = template.repair_kind
    check_kinds(kind, stored_repair)
    agreement = None
    if kind == WorkOrderKind.SUBCONTRACT:
        agreement = subcontract_of(session, incident)
        if agreement is None:
            raise RuleViolation(
                f"{label}'s unit is under no subcontract agreement: no subcontract order",
                field="kind",
            )
        if not agreement.transfer_allowed:
            raise RuleViolation(
                f"subcontract {agreement.code} ({agreement.subcontractor}) does not take transfers",
                field="kind",
            )
    code = session.get(Code, incident.problem_code_id) if incident.problem_code_id else None
    department_id = (
        (template.department_id if template else None)
        or (code.department_id if code else None)
        or incident.department_id
    )
    name = template.name if template else f"{kind.value.capitalize()} order"
    title = f"{name}: {incident.title}" if incident.title else name
    if agreement is not None:
        title = f"{title} ({agreement.subcontractor})"
    order = WorkOrder(
        kind=kind,
        repair_kind=stored_repair,
        title=title[:300],
        description=(template.description if template else None) or incident.description,
        template_id=template.id if template else None,
        problem_code_id=incident.problem_code_id,
        department_id=department_id,
        subcontract_id=agreement.id if agreement else None,
        billable=xref is not None,
        cross_reference=xref,
        destination_type=(destination or "").strip()[:40] or None,
        tasks=[{"text": t, "done": False} for t in (template.tasks or [])] if template else None,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    number_text = wo_number(order.id)
    origin = f" from template {template.code}" if template else ""
    _order_event(
        session, order, actor, "created", f"created for {label}{origin}", incident.id, now=now
    )
    _link_row(session, actor, incident, order, now)
    record_change(
        session,
        entity="work_order",
        action="created",
        entity_id=order.id,
        incident_id=incident.id,
        department_id=order.department_id,
        agent_id=actor.id,
    )
    who = f" to {agreement.subcontractor}" if agreement else ""
    _handed_over(session, actor, incident, order, f"handed over to work order {number_text}{who}")
    return order


def _handed_over(
    session: Session, actor: Actor, incident: Incident, order: WorkOrder, text: str
) -> None:
    """The incident's "handed over to work order" event (what notifications send)."""
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.WORK_ORDER,
        author_id=actor.id,
        text=f"{text}: {order.title}",
        data={
            "event": "handed_over",
            "work_order": order.id,
            "kind": order.kind,
            "subcontract": order.subcontract_id,
        },
    )
    outbox.queue(session, incident, outbox.HANDED_OVER, detail=str(order.id))


def _link_row(
    session: Session, actor: Actor, incident: Incident, order: WorkOrder, now: datetime
) -> None:
    session.add(
        IncidentWorkOrder(
            incident_id=incident.id or 0,
            work_order_id=order.id or 0,
            linked_at=now,
            linked_by_id=actor.id,
        )
    )


def _to_transferred(
    session: Session, actor: Actor, incident: Incident, orders: list[WorkOrder]
) -> None:
    names = ", ".join(wo_number(o.id or 0) for o in orders)
    if incident.status != Status.TRANSFERRED:
        lifecycle.change_status(
            session, actor=actor, ref=incident.id or 0, to=Status.TRANSFERRED, note=names
        )
        return
    # Transferred already: a further order; the incident still changed for open consoles.
    incident_changed(session, incident, actor, "work_order")


def hand_over(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    choice: str,
    repair_kind: str | None = None,
    xref: str | None = None,
) -> TransferResult:
    """The transfer form's choice: `link:WO-n`, `template` (the problem code's) or
    `kind:service|subcontract|repair`; a cross-reference makes the new order billable."""
    if choice.startswith("link:"):
        return link(session, actor=actor, ref=ref, wo=choice.removeprefix("link:"))
    kind = choice.removeprefix("kind:") if choice.startswith("kind:") else None
    if kind is None and choice != "template":
        raise UsageError(f"unknown choice {choice!r}", field="action")
    return transfer(
        session,
        actor=actor,
        ref=ref,
        kind=kind,
        repair_kind=repair_kind if kind in (None, "repair") else None,
        billable=xref is not None,
        xref=xref,
    )


def link(session: Session, *, actor: Actor, ref: str | int, wo: str | int) -> TransferResult:
    """Attach the incident to an existing open work order (many callers, one problem)."""
    incident = lock_incident(session, ref, None)
    _transferable(incident)
    order = _lock_order(session, wo)
    label, wo_label = number(incident.id or 0), wo_number(order.id or 0)
    if order.status not in OPEN_ORDER:
        raise RuleViolation(f"{wo_label} is {order.status}: only open orders take incidents")
    linked = session.get(IncidentWorkOrder, (incident.id, order.id))
    if linked is not None:
        raise RuleViolation(f"{label} is linked to {wo_label} already")
    now = clock.now()
    _link_row(session, actor, incident, order, now)
    _order_event(session, order, actor, "linked", f"{label} linked", incident.id, now=now)
    _touch_order(session, order, actor, "linked", now, incident_id=incident.id)
    _handed_over(session, actor, incident, order, f"linked to work order {wo_label}")
    _to_transferred(session, actor, incident, [order])
    return TransferResult(
        incident={"number": label, "status": incident.status},
        work_orders=[order_info(session, order)],
    )


# ------------------------------------------------------------------------- the lifecycle


@dataclass(frozen=True)
class OrderStatusResult:
    work_order: WorkOrderInfo
    previous: str
    # The incidents this change moved, with their new status.
    incidents: list[dict[str, str]]


def set_status(
    session: Session,
    *,
    actor: Actor,
    wo: str | int,
    to: str,
    problem: str | None = None,
    solution: str | None = None,
    resolution: str | None = None,
    expected_version: int | None = None,
) -> OrderStatusResult:
    """Move a work order: start, complete (problem and solution required), cancel, reopen."""
    try:
        target = W(to)
    except ValueError:
        choices = ", ".join(s.value for s in W)
        raise UsageError(f"unknown work-order status {to!r}; one of: {choices}") from None
    order = _lock_order(session, wo)
    label = wo_number(order.id or 0)
    if expected_version is not None and order.version != expected_version:
        raise Conflict(
            f"{label} was changed since you read it (version {order.version}, yours "
            f"{expected_version}): reload"
        )
    previous = order.status
    if target.value == previous:
        raise RuleViolation(f"{label} is {previous} already")
    allowed = ORDER_MOVES.get(previous, ())
    if target not in allowed:
        raise RuleViolation(
            f"{label} cannot go from {previous} to {target.value}; allowed: {', '.join(allowed)}",
            field="status",
        )
    if target != W.COMPLETED and (problem or solution or resolution):
        raise UsageError("problem, solution and resolution are recorded when completing")
    now = clock.now()
    if target == W.COMPLETED:
        _record_completion(session, order, problem, solution, resolution)
        order.completed_at = now
    elif target == W.IN_PROGRESS:
        order.started_at = order.started_at or now
        if order.assignee_id is None:
            order.assignee_id = actor.id
    elif target == W.OPEN and previous in TERMINAL:
        order.completed_at = None
    order.status = target
    text = f"{previous} -> {target.value}"
    if target == W.COMPLETED:
        text += f": {order.actual_solution}"
    _order_event(session, order, actor, "status", text, None, now=now)
    _touch_order(session, order, actor, "status", now)
    moved: list[dict[str, str]] = []
    if target in TERMINAL:
        moved = _settle(session, actor, order, now)
    elif previous in TERMINAL:
        moved = _reopen(session, actor, order, now)
    return OrderStatusResult(order_info(session, order), previous, moved)


def _record_completion(
    session: Session,
    order: WorkOrder,
    problem: str | None,
    solution: str | None,
    resolution: str | None,
) -> None:
    problem = (problem or "").strip()
    solution = (solution or "").strip()
    missing = [w for w, v in (("the actual problem", problem), ("the solution", solution)) if not v]
    if missing:
        raise RuleViolation(
            f"completing a work order needs {' and '.join(missing)} (--problem, --solution)",
            field="problem" if not problem else "solution",
        )
    general_id = specific_id = None
    if resolution and resolution.strip():
        from cc_tui.models.enums import CodeKind

        general, specific = resolve_pair(session, CodeKind.RESOLUTION, resolution)
        general_id, specific_id = general.id, specific.id if specific else None
    order.actual_problem = problem
    order.actual_solution = solution
    order.resolution_general_id = general_id
    order.resolution_specific_id = specific_id


def _touch_order(
    session: Session,
    order: WorkOrder,
    actor: Actor,
    action: str,
    now: datetime,
    *,
    incident_id: int | None = None,
) -> None:
    order.version += 1
    order.updated_at = now
    record_change(
        session,
        entity="work_order",
        action=action,
        entity_id=order.id,
        incident_id=incident_id,
        department_id=order.department_id,
        agent_id=actor.id,
    )


def _order_event(
    session: Session,
    order: WorkOrder,
    actor: Actor,
    action: str,
    text: str,
    incident_id: int | None,
    *,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        WorkOrderEvent(
            work_order_id=order.id or 0,
            at=now,
            author_id=actor.id,
            action=action,
            incident_id=incident_id,
            text=text,
            data=data,
        )
    )


def _linked_ids(order_id: int) -> Select[int | None]:
    link = IncidentWorkOrder
    return select(col(link.incident_id)).where(col(link.work_order_id) == order_id)


def _settle(
    session: Session, actor: Actor, order: WorkOrder, now: datetime
) -> list[dict[str, str]]:
    """After the order completed or was cancelled: close the transferred incidents whose
    orders are all done (one completed at least), send back those whose orders were all
    cancelled. Set-based: a handful of statements however many incidents share the order."""
    assert order.id is not None
    incidents = lifecycle.lock_for_moves(
        session,
        col(Incident.id).in_(_linked_ids(order.id)) & (col(Incident.status) == Status.TRANSFERRED),
    )
    if not incidents:
        return []
    link = IncidentWorkOrder
    tally = {
        incident_id: (total, done, completed)
        for incident_id, total, done, completed in session.execute(
            select(
                col(link.incident_id),
                func.count(),
                func.sum(case((col(WorkOrder.status).in_(TERMINAL), 1), else_=0)),
                func.sum(case((col(WorkOrder.status) == W.COMPLETED, 1), else_=0)),
            )
            .join(WorkOrder, col(WorkOrder.id) == col(link.work_order_id))
            .where(col(link.incident_id).in_(_linked_ids(order.id)))
            .group_by(col(link.incident_id))
        )
    }
    closing = [i for i in incidents if _all_done(tally.get(i.id)) and tally[i.id][2] > 0]
    returning = [i for i in incidents if _all_done(tally.get(i.id)) and tally[i.id][2] == 0]
    label = wo_number(order.id)
    by_source: dict[int, tuple[WorkOrder, list[lifecycle.Locked]]] = {}
    for incident, done in _completing_orders(session, order, closing):
        by_source.setdefault(done.id or 0, (done, []))[1].append(incident)
    for done, group in by_source.values():
        done_label = wo_number(done.id or 0)
        values: dict[str, Any] = {
            "actual_problem": done.actual_problem,
            "actual_solution": done.actual_solution,
        }
        if done.resolution_general_id is not None:
            values.update(
                resolution_general_id=done.resolution_general_id,
                resolution_specific_id=done.resolution_specific_id,
            )
        lifecycle.move_set(
            session,
            group,
            (Status.SOLVED, Status.CLOSED),
            actor=actor,
            note=(
                f"work order {done_label} completed: {done.actual_problem} / "
                f"{done.actual_solution}",
                f"its last work order {label} is done",
            ),
            data={
                "work_order": done.id,
                "problem": done.actual_problem,
                "solution": done.actual_solution,
            },
            values=values,
        )
    lifecycle.move_set(
        session,
        returning,
        (Status.IN_PROCESS,),
        actor=actor,
        note=f"all its work orders were cancelled (last: {label})",
        data={"work_order": order.id},
    )
    if closing:
        session.execute(
            update(IncidentWorkOrder)
            .where(
                col(IncidentWorkOrder.work_order_id) == order.id,
                col(IncidentWorkOrder.incident_id).in_([i.id for i in closing]),
            )
            .values(closed_incident=True)
        )
    for verb, group in (("closed", closing), ("sent back to in process", returning)):
        if group:
            _order_event(
                session,
                order,
                actor,
                "incidents",
                f"{verb}: {_count(group)}",
                None,
                now=now,
                data={"incidents": [i.id for i in group]},
            )
    return [{"number": number(i.id), "status": Status.CLOSED.value} for i in closing] + [
        {"number": number(i.id), "status": Status.IN_PROCESS.value} for i in returning
    ]


def _all_done(tally: tuple[int, int, int] | None) -> bool:
    return tally is not None and tally[0] == tally[1]


def _count(incidents: list[lifecycle.Locked]) -> str:
    if len(incidents) <= 5:
        return ", ".join(number(i.id) for i in incidents)
    return f"{len(incidents)} incidents"


def _completing_orders(
    session: Session, order: WorkOrder, closing: list[lifecycle.Locked]
) -> list[tuple[lifecycle.Locked, WorkOrder]]:
    """Per closing incident, the order whose problem and solution it takes: this one when it
    was completed, else the incident's most recently completed order."""
    if not closing:
        return []
    if order.status == W.COMPLETED:
        return [(i, order) for i in closing]
    found: dict[int, WorkOrder] = {}
    rows = session.execute(
        select(col(IncidentWorkOrder.incident_id), WorkOrder)
        .join(WorkOrder, col(WorkOrder.id) == col(IncidentWorkOrder.work_order_id))
        .where(
            col(IncidentWorkOrder.incident_id).in_([i.id for i in closing]),
            col(WorkOrder.status) == W.COMPLETED,
        )
        .order_by(col(WorkOrder.completed_at), col(WorkOrder.id))
    ).all()
    for incident_id, done in rows:
        found[incident_id] = done  # the last one wins
    return [(i, found[i.id]) for i in closing]


def _reopen(
    session: Session, actor: Actor, order: WorkOrder, now: datetime
) -> list[dict[str, Any]]:
    """The order is open again: the incidents closed by their work orders go back to
    Transferred (an incident a coordinator closed stays closed)."""
    assert order.id is not None
    closed_by_orders = select(col(IncidentWorkOrder.incident_id)).where(
        col(IncidentWorkOrder.closed_incident).is_(True)
    )
    incidents = lifecycle.lock_for_moves(
        session,
        col(Incident.id).in_(_linked_ids(order.id))
        & col(Incident.id).in_(closed_by_orders)
        & (col(Incident.status) == Status.CLOSED),
    )
    if not incidents:
        return []
    label = wo_number(order.id)
    lifecycle.move_set(
        session,
        incidents,
        (Status.TRANSFERRED,),
        actor=actor,
        note=f"work order {label} reopened",
        data={"work_order": order.id},
    )
    session.execute(
        update(IncidentWorkOrder)
        .where(col(IncidentWorkOrder.incident_id).in_([i.id for i in incidents]))
        .values(closed_incident=False)
    )
    _order_event(
        session,
        order,
        actor,
        "incidents",
        f"reopened: {_count(incidents)}",
        None,
        now=now,
        data={"incidents": [i.id for i in incidents]},
    )
    return [{"number": number(i.id), "status": Status.TRANSFERRED.value} for i in incidents]
