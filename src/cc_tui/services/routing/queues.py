"""Queues and ownership (M5): department queues, "My work", claiming, assignment, load.

A department's queue holds its open incidents nobody owns yet; an agent's list ("My work")
holds the open incidents they own. Both are ordered the same way: worst escalation state
first, then priority rank (1 = most urgent), then response due time (none last), then age
(lower id = older). Pages are keyset-paged on that order and read from partial indexes
over the open incidents (migration 0007), so a page costs the same on a database of a
million incidents as on a small one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, update
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import CcError, NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Customer, Department, Incident, Priority
from cc_tui.models.enums import ESCALATION_RANK, OPEN_STATUSES, Escalation, Status, SystemEvent
from cc_tui.services.context import Actor
from cc_tui.services.directory.agents import resolve_agent, resolve_department
from cc_tui.services.incidents.base import announce, lock_incident, number, parse_ref, touch
from cc_tui.services.incidents.each import EachOutcome, one_by_one
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.incidents.lifecycle import move
from cc_tui.services.sla.deadlines import apply_deadlines
from cc_tui.services.worktime.stored import CalendarCache

MAX_PAGE = 500
ESCALATION_BY_RANK = {rank: state.value for state, rank in ESCALATION_RANK.items()}

# The open statuses as SQL literals, not bound parameters: SQLite uses a partial index only
# when it can see that the query's WHERE implies the index's, which it cannot for parameters.
_OPEN_SQL: list[ColumnElement[Any]] = [literal_column(f"'{s.value}'") for s in OPEN_STATUSES]


def _is_open() -> ColumnElement[bool]:
    return col(Incident.status).in_(_OPEN_SQL)


# The queue order; migration 0007's indexes list the same expressions in the same order.
def _order() -> tuple[ColumnElement[Any] | Mapped[Any], ...]:
    return (
        col(Incident.escalation_rank).desc(),
        col(Incident.priority_rank),
        col(Incident.response_due).is_(None),
        col(Incident.response_due),
        col(Incident.id),
    )


@dataclass(frozen=True)
class QueueKey:
    """Where a row sits in queue order: pass a page's last key to get the next page."""

    escalation_rank: int
    priority_rank: int
    response_due: datetime | None
    id: int


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    status: str
    title: str | None
    customer: str | None
    priority: str | None
    escalation: str
    response_due: datetime | None
    owner: str | None
    department: str | None
    opened_at: datetime
    registered_at: datetime | None
    version: int
    key: QueueKey
    # What an escalation badge needs to show the clock that matters now.
    resolve_due: datetime | None = None
    first_response_at: datetime | None = None
    paused_since: datetime | None = None
    warning_at: datetime | None = None
    late_at: datetime | None = None


def _after(key: QueueKey) -> ColumnElement[bool]:
    """Rows strictly after `key` in queue order (escalation descending, the rest ascending,
    due times present before absent)."""
    esc, prio = col(Incident.escalation_rank), col(Incident.priority_rank)
    due = col(Incident.response_due)
    if key.response_due is None:
        later_due = and_(due.is_(None), col(Incident.id) > key.id)
    else:
        later_due = or_(
            due.is_(None),
            due > key.response_due,
            and_(due == key.response_due, col(Incident.id) > key.id),
        )
    return and_(
        # Redundant with the OR below, but gives the index scan a place to start.
        esc <= key.escalation_rank,
        or_(
            esc < key.escalation_rank,
            and_(esc == key.escalation_rank, prio > key.priority_rank),
            and_(esc == key.escalation_rank, prio == key.priority_rank, later_due),
        ),
    )


def _page(
    session: Session, conditions: list[ColumnElement[bool]], after: QueueKey | None, limit: int
) -> list[QueueRow]:
    limit = max(1, min(limit, MAX_PAGE))
    query = select(col(Incident.id)).where(_is_open(), *conditions)
    if after is not None:
        query = query.where(_after(after))
    rows = session.scalars(query.order_by(*_order()).limit(limit)).all()
    ids = [i for i in rows if i is not None]  # primary keys: never None
    return rows_for(session, ids)


def rows_for(session: Session, ids: Iterable[int]) -> list[QueueRow]:
    """Queue rows for these incidents, in the order given (names joined in one read)."""
    ids = list(ids)
    if not ids:
        return []
    owner = aliased(Agent)
    query = (
        select(
            col(Incident.id),
            col(Incident.status),
            col(Incident.title),
            col(Customer.name),
            col(Priority.code),
            col(Incident.escalation),
            col(Incident.response_due),
            col(owner.login),
            col(Department.code),
            col(Incident.opened_at),
            col(Incident.registered_at),
            col(Incident.version),
            col(Incident.escalation_rank),
            col(Incident.priority_rank),
            col(Incident.resolve_due),
            col(Incident.first_response_at),
            col(Incident.paused_since),
            col(Incident.warning_at),
            col(Incident.late_at),
        )
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .outerjoin(Priority, col(Priority.id) == col(Incident.priority_id))
        .outerjoin(owner, col(owner.id) == Incident.owner_id)
        .outerjoin(Department, col(Department.id) == col(Incident.department_id))
        .where(col(Incident.id).in_(ids))
    )
    found: dict[int, QueueRow] = {}
    for r in session.execute(query):
        found[r[0]] = QueueRow(
            id=r[0],
            number=number(r[0]),
            status=r[1],
            title=r[2],
            customer=r[3],
            priority=r[4],
            escalation=r[5],
            response_due=r[6],
            owner=r[7],
            department=r[8],
            opened_at=r[9],
            registered_at=r[10],
            version=r[11],
            key=QueueKey(r[12], r[13], r[6], r[0]),
            resolve_due=r[14],
            first_response_at=r[15],
            paused_since=r[16],
            warning_at=r[17],
            late_at=r[18],
        )
    return [found[i] for i in ids if i in found]


def department_queue(
    session: Session, *, department: str, after: QueueKey | None = None, limit: int = 50
) -> list[QueueRow]:
    """A department's unassigned open incidents, most urgent first."""
    dept = resolve_department(session, department)
    return _page(
        session,
        [col(Incident.department_id) == dept.id, col(Incident.owner_id).is_(None)],
        after,
        limit,
    )


def agent_queue(
    session: Session, *, agent: str | int, after: QueueKey | None = None, limit: int = 50
) -> list[QueueRow]:
    """An agent's open incidents ("My work"), escalated first."""
    agent_id = agent if isinstance(agent, int) else resolve_agent(session, agent).id
    return _page(session, [col(Incident.owner_id) == agent_id], after, limit)


def key_of(session: Session, ref: str | int) -> QueueKey:
    """The queue key of an incident, to page on after it (`--after INC-...`)."""
    incident_id = parse_ref(ref)
    row = session.execute(
        select(
            col(Incident.escalation_rank),
            col(Incident.priority_rank),
            col(Incident.response_due),
            col(Incident.id),
        ).where(col(Incident.id) == incident_id)
    ).first()
    if row is None:
        raise NotFound(f"no incident {number(incident_id)}")
    return QueueKey(*row)


# --- claiming ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignResult:
    id: int
    number: str
    previous_status: str
    status: str
    previous_owner: str | None
    owner: str | None
    previous_department: str | None
    department: str | None
    version: int


def _own_department(session: Session, actor: Actor, department: str | None) -> Department:
    if department is not None:
        return resolve_department(session, department)
    if actor.department_id is None:
        raise UsageError(
            f"{actor.login} belongs to no department; name the queue (--department)",
            field="department",
        )
    dept = session.get(Department, actor.department_id)
    assert dept is not None
    return dept


def claim_next(session: Session, *, actor: Actor, department: str | None = None) -> AssignResult:
    """Take the most urgent unassigned incident of a queue (the actor's own department by
    default). Two agents claiming at once never get the same one: on PostgreSQL the row is
    picked with FOR UPDATE SKIP LOCKED inside the UPDATE; SQLite write transactions begin
    IMMEDIATE, so claims there run one after another."""
    dept = _own_department(session, actor, department)
    now = clock.now()
    pick = (
        select(col(Incident.id))
        .where(_is_open(), col(Incident.department_id) == dept.id, col(Incident.owner_id).is_(None))
        .order_by(*_order())
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = session.execute(
        update(Incident)
        .where(col(Incident.id) == pick)
        .values(
            owner_id=actor.id,
            assigned_at=func.coalesce(Incident.assigned_at, now),
            version=Incident.version + 1,
            updated_at=now,
            updated_by_id=actor.id,
        )
        .returning(col(Incident.id))
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        raise NotFound(f"the {dept.code} queue is empty")
    incident = session.get(Incident, claimed[0], populate_existing=True)
    assert incident is not None
    label = number(incident.id or 0)
    previous = incident.status
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.ASSIGNMENT,
        author_id=actor.id,
        text=f"claimed by {actor.login} from the {dept.code} queue",
        data={"field": "owner", "from": None, "to": actor.login, "how": "claim"},
    )
    if previous == Status.REGISTERED:
        # The claim above counted as the change (version, who, when).
        move(session, incident, Status.ASSIGNED, actor=actor, system=True, now=now, change=None)
    announce(session, incident, actor, "claimed")
    return AssignResult(
        id=incident.id or 0,
        number=label,
        previous_status=previous,
        status=incident.status,
        previous_owner=None,
        owner=actor.login,
        previous_department=dept.code,
        department=dept.code,
        version=incident.version,
    )


# --- assignment -------------------------------------------------------------------------


def _login(session: Session, agent_id: int | None) -> str | None:
    agent = session.get(Agent, agent_id) if agent_id else None
    return agent.login if agent else None


def _code(session: Session, department_id: int | None) -> str | None:
    dept = session.get(Department, department_id) if department_id else None
    return dept.code if dept else None


@dataclass(frozen=True)
class _Target:
    agent: Agent | None
    department: Department | None


def _target(session: Session, to_agent: str | None, to_department: str | None) -> _Target:
    if not (to_agent and to_agent.strip()) and not (to_department and to_department.strip()):
        raise UsageError("assign to an agent (--to LOGIN) or a department (--department D)")
    agent = resolve_agent(session, to_agent) if to_agent and to_agent.strip() else None
    if agent is not None and not agent.active:
        raise RuleViolation(f"agent {agent.login} is deactivated", field="to")
    dept = None
    if to_department and to_department.strip():
        dept = resolve_department(session, to_department)
        if not dept.active:
            raise RuleViolation(f"department {dept.code} is deactivated", field="department")
        if agent is not None and agent.department_id not in (None, dept.id):
            raise RuleViolation(
                f"agent {agent.login} works in {_code(session, agent.department_id)}, "
                f"not {dept.code}",
                field="to",
            )
    return _Target(agent, dept)


def _assign_locked(
    session: Session,
    actor: Actor,
    incident: Incident,
    target: _Target,
    reason: str | None,
    now: datetime,
    cache: CalendarCache | None = None,
) -> AssignResult | None:
    """Apply an assignment to a locked incident; None when it is there already."""
    label = number(incident.id or 0)
    if incident.status not in OPEN_STATUSES:
        raise RuleViolation(f"{label} is {incident.status}; only open incidents are assigned")
    if incident.owner_id is not None and incident.owner_id != actor.id and not actor.is_supervisor:
        raise RuleViolation(
            f"{label} belongs to {_login(session, incident.owner_id)}; only its owner or a "
            "supervisor may reassign it",
            field="to",
        )
    old_owner, old_dept, old_status = incident.owner_id, incident.department_id, incident.status
    if target.agent is not None:
        new_owner = target.agent.id
        if target.department is not None:
            new_dept = target.department.id
        else:
            new_dept = target.agent.department_id or old_dept
    else:
        assert target.department is not None
        new_owner = None  # into the department's queue
        new_dept = target.department.id
    if new_owner == old_owner and new_dept == old_dept:
        return None

    new_status = old_status
    if new_owner is None and old_status in (Status.ASSIGNED, Status.IN_PROCESS):
        new_status = Status.REGISTERED.value  # back in a queue: nobody works it yet
    elif (
        new_owner is not None
        and new_owner != old_owner
        and old_status in (Status.REGISTERED, Status.IN_PROCESS)
    ):
        new_status = Status.ASSIGNED.value  # the new owner has not started yet

    incident.owner_id = new_owner
    incident.department_id = new_dept
    if new_owner is not None and incident.assigned_at is None:
        incident.assigned_at = now
    touch(incident, actor, now)

    names = {
        "from": _login(session, old_owner),
        "to": _login(session, new_owner),
        "department_from": _code(session, old_dept),
        "department_to": _code(session, new_dept),
    }
    parts = []
    if old_owner != new_owner:
        parts.append(f"owner {names['from'] or '-'} -> {names['to'] or '-'}")
    if old_dept != new_dept:
        parts.append(f"department {names['department_from'] or '-'} -> {names['department_to']}")
    text = "; ".join(parts) + (f": {reason.strip()}" if reason and reason.strip() else "")
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.ASSIGNMENT,
        author_id=actor.id,
        text=text,
        data={"field": "owner", **names, "reason": reason.strip() if reason else None},
    )
    if new_status != old_status:
        move(session, incident, new_status, actor=actor, system=True, now=now, change=None)
    if new_dept != old_dept:
        # Business-hours clocks run on the department's calendar: another department may
        # keep other hours. Deadlines set by hand stay as they are.
        apply_deadlines(
            session, incident, now=now, cache=cache, author_id=actor.id, why="department changed"
        )
    announce(session, incident, actor, "assigned")
    return AssignResult(
        id=incident.id or 0,
        number=label,
        previous_status=old_status,
        status=new_status,
        previous_owner=names["from"],
        owner=names["to"],
        previous_department=names["department_from"],
        department=names["department_to"],
        version=incident.version,
    )


def assign(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    to_agent: str | None = None,
    to_department: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> AssignResult:
    """Give an incident to an agent, or move it to a department's queue.

    Anyone may assign an incident nobody owns (the call taker hands it on); an owned one
    only its owner or a supervisor. Assigning to an agent also moves the incident to the
    agent's department (on-site work goes to a service engineer of an on-site department).
    """
    target = _target(session, to_agent, to_department)
    incident = lock_incident(session, ref, expected_version)
    result = _assign_locked(session, actor, incident, target, reason, clock.now())
    if result is None:
        where = (
            target.agent.login
            if target.agent
            else f"the {target.department.code if target.department else '?'} queue"
        )
        raise RuleViolation(f"{number(incident.id or 0)} is with {where} already")
    return result


@dataclass(frozen=True)
class BulkResult:
    moved: list[AssignResult] = field(default_factory=list)
    # Incidents that were at the target already.
    unchanged: list[str] = field(default_factory=list)


def bulk_move(
    session: Session,
    *,
    actor: Actor,
    refs: Iterable[str | int],
    to_department: str | None = None,
    to_agent: str | None = None,
    reason: str | None = None,
) -> BulkResult:
    """Move many incidents at once (supervisors): all of them, or none if one is refused."""
    actor.require_supervisor("move incidents in bulk")
    ids = sorted({parse_ref(r) for r in refs})  # one lock order: no deadlocks between movers
    if not ids:
        raise UsageError("no incidents to move")
    target = _target(session, to_agent, to_department)
    now = clock.now()
    cache = CalendarCache(session)
    result = BulkResult()
    try:
        # A savepoint: a refusal undoes the moves made so far, even if the caller goes on.
        with session.begin_nested():
            for incident_id in ids:
                incident = lock_incident(session, incident_id, None)
                done = _assign_locked(session, actor, incident, target, reason, now, cache)
                if done is None:
                    result.unchanged.append(number(incident_id))
                else:
                    result.moved.append(done)
    except CcError as error:
        raise type(error)(f"nothing moved: {error.message}", field=error.field) from error
    return result


def assign_each(
    session: Session,
    *,
    actor: Actor,
    chosen: Sequence[tuple[int, int | None]],
    to_agent: str | None = None,
    to_department: str | None = None,
    reason: str | None = None,
) -> EachOutcome[AssignResult]:
    """Assign or move the incidents an agent chose, as (id, version seen or None), each on
    its own: one changed since it was read, closed, or owned by someone the actor may not
    take it from is refused and named; the others are assigned. The rules are `assign`'s:
    anyone may hand on an incident nobody owns, an owned one only its owner or a
    supervisor. An unknown or deactivated target refuses the whole call."""
    target = _target(session, to_agent, to_department)
    now = clock.now()
    cache = CalendarCache(session)

    def apply(incident_id: int, version: int | None) -> AssignResult | None:
        incident = lock_incident(session, incident_id, version)
        return _assign_locked(session, actor, incident, target, reason, now, cache)

    return one_by_one(session, chosen, apply)


def assign_chosen(
    session: Session,
    *,
    actor: Actor,
    chosen: Sequence[tuple[int, int]],
    to_agent: str | None = None,
    to_department: str | None = None,
    reason: str | None = None,
) -> list[AssignResult]:
    """Assign or move the incidents an agent chose, as (id, version seen): one is checked
    against its version (`assign`); many move together or not at all (`bulk_move`)."""
    if len(chosen) == 1:
        incident_id, version = chosen[0]
        return [
            assign(
                session,
                actor=actor,
                ref=incident_id,
                to_agent=to_agent,
                to_department=to_department,
                reason=reason,
                expected_version=version,
            )
        ]
    done = bulk_move(
        session,
        actor=actor,
        refs=[incident_id for incident_id, _version in chosen],
        to_agent=to_agent,
        to_department=to_department,
        reason=reason,
    )
    return done.moved


# --- load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingItem:
    id: int
    number: str
    title: str | None
    since: datetime  # registered (or opened, for a contact saved without registration time)
    escalation: str


@dataclass(frozen=True)
class DepartmentLoad:
    id: int | None  # None: open incidents no rule routed to a department
    code: str | None
    name: str
    on_site: bool
    open: int
    unassigned: int
    by_status: dict[str, int]
    by_escalation: dict[str, int]
    oldest_waiting: WaitingItem | None  # the oldest incident nobody has claimed


@dataclass(frozen=True)
class AgentLoad:
    id: int
    login: str
    name: str
    role: str
    department: str | None
    skills: list[str]
    active: bool
    open: int
    by_status: dict[str, int]
    by_escalation: dict[str, int]
    oldest: WaitingItem | None  # the oldest open incident the agent owns


@dataclass(frozen=True)
class Load:
    at: datetime
    departments: list[DepartmentLoad]
    agents: list[AgentLoad]
    total_open: int


def _zero_status() -> dict[str, int]:
    return {s.value: 0 for s in OPEN_STATUSES}


def _zero_escalation() -> dict[str, int]:
    return {e.value: 0 for e in Escalation}


@dataclass
class _Tally:
    open: int = 0
    unassigned: int = 0
    by_status: dict[str, int] = field(default_factory=_zero_status)
    by_escalation: dict[str, int] = field(default_factory=_zero_escalation)
    oldest_id: int | None = None

    def add(self, status: str, rank: int, count: int) -> None:
        self.open += count
        self.by_status[status] = self.by_status.get(status, 0) + count
        state = ESCALATION_BY_RANK.get(rank, Escalation.LATE.value)
        self.by_escalation[state] += count

    def older(self, incident_id: int) -> None:
        if self.oldest_id is None or incident_id < self.oldest_id:
            self.oldest_id = incident_id


def load(session: Session) -> Load:
    """Open incidents per department and per agent, by status and escalation state, with
    the oldest waiting item of each: one grouped read of the open-incident index, plus the
    departments, the agents and the few oldest items."""
    groups = session.execute(
        select(
            col(Incident.department_id),
            col(Incident.owner_id),
            col(Incident.status),
            col(Incident.escalation_rank),
            func.count(),
            func.min(col(Incident.id)),
        )
        .where(_is_open())
        .group_by(
            col(Incident.department_id),
            col(Incident.owner_id),
            col(Incident.status),
            col(Incident.escalation_rank),
        )
    ).all()
    by_dept: dict[int | None, _Tally] = {}
    by_agent: dict[int, _Tally] = {}
    total = 0
    for dept_id, owner_id, status, rank, count, oldest in groups:
        total += count
        dept = by_dept.setdefault(dept_id, _Tally())
        dept.add(status, rank, count)
        if owner_id is None:
            dept.unassigned += count
            dept.older(oldest)
        else:
            mine = by_agent.setdefault(owner_id, _Tally())
            mine.add(status, rank, count)
            mine.older(oldest)

    oldest_ids = [t.oldest_id for t in (*by_dept.values(), *by_agent.values()) if t.oldest_id]
    waiting = _waiting_items(session, oldest_ids)

    departments = []
    dept_rows = session.scalars(select(Department).order_by(Department.code)).all()
    codes = {d.id: d.code for d in dept_rows}
    for d in dept_rows:
        tally = by_dept.get(d.id)
        if tally is None and not d.active:
            continue
        tally = tally or _Tally()
        departments.append(_dept_load(d.id, d.code, d.name, d.on_site, tally, waiting))
    if None in by_dept:
        departments.append(_dept_load(None, None, "(no department)", False, by_dept[None], waiting))

    agents = []
    for a in session.scalars(select(Agent).order_by(Agent.login)).all():
        tally = by_agent.get(a.id or 0)
        if tally is None and not a.active:
            continue
        tally = tally or _Tally()
        agents.append(
            AgentLoad(
                id=a.id or 0,
                login=a.login,
                name=a.name,
                role=a.role,
                department=codes.get(a.department_id) if a.department_id else None,
                skills=[s for s in a.skills.split(",") if s],
                active=a.active,
                open=tally.open,
                by_status=tally.by_status,
                by_escalation=tally.by_escalation,
                oldest=waiting.get(tally.oldest_id) if tally.oldest_id else None,
            )
        )
    return Load(at=clock.now(), departments=departments, agents=agents, total_open=total)


def _dept_load(
    dept_id: int | None,
    code: str | None,
    name: str,
    on_site: bool,
    tally: _Tally,
    waiting: dict[int, WaitingItem],
) -> DepartmentLoad:
    return DepartmentLoad(
        id=dept_id,
        code=code,
        name=name,
        on_site=on_site,
        open=tally.open,
        unassigned=tally.unassigned,
        by_status=tally.by_status,
        by_escalation=tally.by_escalation,
        oldest_waiting=waiting.get(tally.oldest_id) if tally.oldest_id else None,
    )


def _waiting_items(session: Session, ids: list[int]) -> dict[int, WaitingItem]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            col(Incident.id),
            col(Incident.title),
            col(Incident.registered_at),
            col(Incident.opened_at),
            col(Incident.escalation),
        ).where(col(Incident.id).in_(ids))
    )
    return {
        r[0]: WaitingItem(
            id=r[0], number=number(r[0]), title=r[1], since=r[2] or r[3], escalation=r[4]
        )
        for r in rows
    }
