"""Incident deadlines (M6): computed from the priority code, the contract and a business
calendar, paused while the incident is pending, kept when set by hand.

Every offset of a priority is working minutes on its coverage basis, counted from the
registration: `business` uses the department's calendar (else the priority's, else 24/7),
`contract` the contract's coverage hours (else as business), `all` every hour. The contract
can override the response time. Time in pending does not count: the stored pauses are
skipped, so the deadlines can always be recomputed from history.

The escalation thresholds are follow-up, warning and late (the response clocks: they stop
once the customer got a first response) and the resolution due time (which makes an
incident late until it is solved). A priority without a late offset is late when the
response is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import (
    Agent,
    Department,
    Incident,
    IncidentPause,
    Priority,
    ServiceContract,
)
from cc_tui.models.enums import (
    ESCALATION_RANK,
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    CoverageBasis,
    Escalation,
    Role,
    SystemEvent,
)
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import get_incident, incident_changed, lock_incident, number
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.partial import UNSET
from cc_tui.services.partial import given as only_given
from cc_tui.services.worktime.hours import (
    WorkCalendar,
    add_working_time,
    always,
    holidays_between,
    to_utc,
    working_time,
)
from cc_tui.services.worktime.stored import CalendarCache

DEADLINES = ("response_due", "follow_up_at", "warning_at", "late_at", "resolve_due")
OFFSET_OF = {
    "response_due": "response_minutes",
    "follow_up_at": "follow_up_minutes",
    "warning_at": "warning_minutes",
    "late_at": "late_minutes",
    "resolve_due": "resolve_minutes",
}
# (deadline, escalation rank it brings, stopped by the first response)
THRESHOLDS = (
    ("follow_up_at", 1, True),
    ("warning_at", 2, True),
    ("late_at", 3, True),
    ("resolve_due", 3, False),
)
STATE_OF_RANK = {rank: Escalation(state) for state, rank in ESCALATION_RANK.items()}
# The author of what the escalation clocks do by themselves (sweeps, recomputations).
SYSTEM_LOGIN = "cc-tui"


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class DeadlinePlan:
    """How the deadlines of one incident follow from its priority, contract and calendar."""

    priority: str | None
    basis: str | None
    calendar: str
    calendar_tz: str
    # Where the calendar came from: "department DESK", "contract SC-1", "priority P1", ...
    calendar_source: str
    start: datetime | None
    # Working minutes per deadline; the response time may come from the contract.
    offsets: dict[str, int | None]
    offset_sources: dict[str, str]
    pauses: list[Pause]
    deadlines: dict[str, datetime | None]
    holidays_skipped: dict[str, list[date]]


@dataclass(frozen=True)
class DeadlineView:
    """An incident's clocks as stored, with the plan that computes them."""

    number: str
    status: str
    escalation: str
    manual: bool
    paused_since: datetime | None
    paused_minutes: int
    first_response_at: datetime | None
    escalate_at: datetime | None
    deadlines: dict[str, datetime | None]
    plan: DeadlinePlan
    version: int = 0
    notes: list[str] = field(default_factory=list)


# --- computing ------------------------------------------------------------------------


def plan_deadlines(
    session: Session,
    incident: Incident,
    *,
    now: datetime | None = None,
    cache: CalendarCache | None = None,
) -> DeadlinePlan:
    """What the rules say the deadlines are (ignores deadlines set by hand)."""
    now = to_utc(now) if now else clock.now()
    cache = cache or CalendarCache(session)
    priority = session.get(Priority, incident.priority_id) if incident.priority_id else None
    contract = session.get(ServiceContract, incident.contract_id) if incident.contract_id else None
    cal, source = choose_calendar(session, incident, priority, contract, cache)
    offsets: dict[str, int | None] = {}
    sources: dict[str, str] = {}
    for name in DEADLINES:
        value = getattr(priority, OFFSET_OF[name]) if priority else None
        offsets[name] = value
        sources[name] = f"priority {priority.code}" if priority and value is not None else "-"
    if contract is not None and contract.response_minutes is not None:
        offsets["response_due"] = contract.response_minutes
        sources["response_due"] = f"contract {contract.code}"
    if offsets["late_at"] is None and offsets["response_due"] is not None:
        # No late threshold of its own: a missed response is late.
        offsets["late_at"] = offsets["response_due"]
        sources["late_at"] = "response time"
    pauses = _pauses(session, incident)
    start = incident.registered_at
    deadlines: dict[str, datetime | None] = {}
    skipped: dict[str, list[date]] = {}
    for name in DEADLINES:
        minutes = offsets[name]
        if start is None or minutes is None:
            deadlines[name] = None
            continue
        due = deadline_after(cal, start, minutes, pauses, now=now)
        deadlines[name] = due
        skipped[name] = holidays_between(cal, start, due)
    return DeadlinePlan(
        priority=priority.code if priority else None,
        basis=priority.basis if priority else None,
        calendar=cal.name or "24/7",
        calendar_tz=cal.tz,
        calendar_source=source,
        start=start,
        offsets=offsets,
        offset_sources=sources,
        pauses=pauses,
        deadlines=deadlines,
        holidays_skipped=skipped,
    )


def choose_calendar(
    session: Session,
    incident: Incident,
    priority: Priority | None,
    contract: ServiceContract | None,
    cache: CalendarCache,
) -> tuple[WorkCalendar, str]:
    """The calendar an incident's clocks run on, and why that one."""
    basis = priority.basis if priority else CoverageBasis.ALL
    if basis == CoverageBasis.ALL:
        return cache.get(None), "all hours"
    if basis == CoverageBasis.CONTRACT and contract is not None and contract.calendar_id:
        return cache.get(contract.calendar_id), f"contract {contract.code}"
    dept = session.get(Department, incident.department_id) if incident.department_id else None
    if dept is not None and dept.calendar_id:
        return cache.get(dept.calendar_id), f"department {dept.code}"
    if priority is not None and priority.calendar_id:
        return cache.get(priority.calendar_id), f"priority {priority.code}"
    return always(), "24/7 (no calendar on the department or priority)"


def deadline_after(
    cal: WorkCalendar,
    start: datetime,
    minutes: int,
    pauses: list[Pause],
    *,
    now: datetime,
) -> datetime:
    """`minutes` working minutes after `start`, skipping the pauses (an open one until now)."""
    cursor = to_utc(start)
    remaining = timedelta(minutes=minutes)
    for pause in pauses:
        ended = pause.ended_at or max(now, pause.started_at)
        if ended <= cursor:
            continue
        if pause.started_at > cursor:
            worked = working_time(cal, cursor, pause.started_at)
            if worked >= remaining:
                break
            remaining -= worked
        cursor = max(cursor, ended)
    return add_working_time(cal, cursor, remaining)


def _pauses(session: Session, incident: Incident) -> list[Pause]:
    if incident.id is None:
        return []
    rows = session.scalars(
        select(IncidentPause)
        .where(col(IncidentPause.incident_id) == incident.id)
        .order_by(col(IncidentPause.started_at), col(IncidentPause.id))
    ).all()
    return [Pause(row.started_at, row.ended_at) for row in rows]


# --- escalation state, as the sweep sees it --------------------------------------------


def _active(incident: Incident) -> list[tuple[datetime, int]]:
    """The thresholds whose clocks still run: (instant, rank)."""
    result = []
    for name, rank, response_clock in THRESHOLDS:
        at = getattr(incident, name)
        if at is None or (response_clock and incident.first_response_at is not None):
            continue
        result.append((at, rank))
    return result


def implied_rank(incident: Incident, now: datetime) -> int:
    """The escalation rank the deadlines give at `now`."""
    return max((rank for at, rank in _active(incident) if at <= now), default=0)


def next_escalation_at(incident: Incident) -> datetime | None:
    """When the incident next climbs a rank (None: no threshold above it is left)."""
    pending = [at for at, rank in _active(incident) if rank > incident.escalation_rank]
    return min(pending, default=None)


def apply_deadlines(
    session: Session,
    incident: Incident,
    *,
    now: datetime | None = None,
    cache: CalendarCache | None = None,
    author_id: int | None = None,
    why: str = "deadlines recomputed",
) -> bool:
    """Recompute and store an incident's deadlines; True if any stored value changed.

    Deadlines set by hand are kept. When the new deadlines put the incident in a lower
    escalation state, the state goes down (on the timeline); a higher one is the sweep's to
    raise, with its alerts.
    """
    if incident.registered_at is None or incident.status not in OPEN_STATUSES:
        return False
    now = to_utc(now) if now else clock.now()
    before = {name: getattr(incident, name) for name in (*DEADLINES, "escalate_at")}
    before["escalation"] = incident.escalation
    if not incident.deadlines_manual:
        plan = plan_deadlines(session, incident, now=now, cache=cache)
        for name in DEADLINES:
            setattr(incident, name, plan.deadlines[name])
    _settle(session, incident, now=now, author_id=author_id, why=why)
    after = {name: getattr(incident, name) for name in (*DEADLINES, "escalate_at")}
    after["escalation"] = incident.escalation
    return before != after


def _settle(
    session: Session, incident: Incident, *, now: datetime, author_id: int | None, why: str
) -> None:
    """Lower the escalation state if the deadlines no longer support it; set escalate_at."""
    implied = implied_rank(incident, now)
    if implied < incident.escalation_rank:
        previous = incident.escalation
        incident.escalation_rank = implied
        incident.escalation = STATE_OF_RANK[implied].value
        system_event(
            session,
            incident=incident,
            kind=SystemEvent.ESCALATION,
            author_id=author_id or system_agent_id(session),
            text=f"escalation {previous} -> {incident.escalation} ({why})",
            data={"field": "escalation", "from": previous, "to": incident.escalation},
        )
    incident.escalate_at = next_escalation_at(incident)


def recompute_open(
    session: Session,
    *,
    calendar_id: int | None = None,
    priority_id: int | None = None,
    contract_id: int | None = None,
    author_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Recompute the open incidents a changed calendar, priority or contract drives.

    Returns how many incidents' stored clocks changed.
    """
    query = select(Incident).where(
        col(Incident.status).in_(OPEN_STATUSES),
        col(Incident.registered_at).is_not(None),
        col(Incident.deadlines_manual).is_(False),
    )
    if calendar_id is not None:
        uses = or_(
            col(Incident.priority_id).in_(
                select(col(Priority.id)).where(col(Priority.calendar_id) == calendar_id)
            ),
            col(Incident.department_id).in_(
                select(col(Department.id)).where(col(Department.calendar_id) == calendar_id)
            ),
            col(Incident.contract_id).in_(
                select(col(ServiceContract.id)).where(
                    col(ServiceContract.calendar_id) == calendar_id
                )
            ),
        )
        query = query.where(uses)
    if priority_id is not None:
        query = query.where(col(Incident.priority_id) == priority_id)
    if contract_id is not None:
        query = query.where(col(Incident.contract_id) == contract_id)
    cache = CalendarCache(session)
    now = to_utc(now) if now else clock.now()
    changed = 0
    for incident in session.scalars(
        query.order_by(col(Incident.id)).execution_options(yield_per=500)
    ):
        if apply_deadlines(session, incident, now=now, cache=cache, author_id=author_id):
            changed += 1
            record_change(
                session,
                entity="incident",
                action="deadlines",
                entity_id=incident.id,
                incident_id=incident.id,
                department_id=incident.department_id,
                agent_id=author_id,
            )
    return changed


def system_agent_id(session: Session) -> int:
    """The agent row that authors what the clocks do by themselves (never logs in)."""
    found = session.scalars(select(col(Agent.id)).where(col(Agent.login) == SYSTEM_LOGIN)).first()
    if found is not None:
        return found
    agent = Agent(login=SYSTEM_LOGIN, name="cc-tui (automatic)", role=Role.AGENT, active=False)
    session.add(agent)
    session.flush()
    assert agent.id is not None
    return agent.id


# --- deadlines by hand, and reading them back -----------------------------------------


def set_deadlines(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    expected_version: int | None = None,
    response_due: datetime | None = UNSET,
    follow_up_at: datetime | None = UNSET,
    warning_at: datetime | None = UNSET,
    late_at: datetime | None = UNSET,
    resolve_due: datetime | None = UNSET,
    automatic: bool = False,
) -> DeadlineView:
    """Set deadlines by hand (kept from then on), or go back to the computed ones.

    A supervisor's decision: the deadlines are what the desk promised the customer.
    """

    actor.require_supervisor("set deadlines by hand")
    incident = lock_incident(session, ref, expected_version)
    label = number(incident.id or 0)
    if incident.status not in OPEN_STATUSES:
        raise RuleViolation(f"{label} is {incident.status}; its clocks have stopped")
    given = only_given(
        {
            "response_due": response_due,
            "follow_up_at": follow_up_at,
            "warning_at": warning_at,
            "late_at": late_at,
            "resolve_due": resolve_due,
        }
    )
    if automatic and given:
        raise UsageError("either set deadlines by hand or return to the computed ones")
    if not automatic and not given:
        raise UsageError("give at least one deadline to set")
    now = clock.now()
    old = {name: getattr(incident, name) for name in DEADLINES}
    if automatic:
        incident.deadlines_manual = False
        plan = plan_deadlines(session, incident, now=now)
        new = dict(plan.deadlines)
    else:
        new = dict(old)
        for name, value in given.items():
            new[name] = to_utc(value) if value is not None else None
        incident.deadlines_manual = True
    for name in DEADLINES:
        if new[name] != old[name]:
            setattr(incident, name, new[name])
            system_event(
                session,
                incident=incident,
                kind=SystemEvent.FIELD,
                author_id=actor.id,
                text=f"{name.replace('_', ' ')}: {_show(old[name])} -> {_show(new[name])}"
                + (" (computed)" if automatic else " (set by hand)"),
                data={
                    "field": name,
                    "from": _iso(old[name]),
                    "to": _iso(new[name]),
                    "manual": not automatic,
                },
            )
    _settle(session, incident, now=now, author_id=actor.id, why="deadlines changed")
    incident_changed(session, incident, actor, "deadlines", now=now)
    return _view(session, incident, now)


def deadline_view(session: Session, *, ref: str | int, now: datetime | None = None) -> DeadlineView:
    """The stored deadlines and how the rules compute them (for the incident screen)."""

    return _view(session, get_incident(session, ref), to_utc(now) if now else clock.now())


def _view(session: Session, incident: Incident, now: datetime) -> DeadlineView:
    plan = plan_deadlines(session, incident, now=now)
    notes = []
    if incident.deadlines_manual:
        notes.append("deadlines set by hand; priority, contract and calendar changes keep them")
    if incident.paused_since is not None:
        notes.append("pending: the clocks are paused")
    if incident.first_response_at is not None:
        notes.append("responded: follow-up, warning and late no longer apply")
    if incident.status in RESOLVED_STATUSES:
        notes.append(f"{incident.status}: every clock has stopped")
    return DeadlineView(
        number=number(incident.id or 0),
        status=incident.status,
        escalation=incident.escalation,
        manual=incident.deadlines_manual,
        paused_since=incident.paused_since,
        paused_minutes=incident.paused_minutes,
        first_response_at=incident.first_response_at,
        escalate_at=incident.escalate_at,
        deadlines={name: getattr(incident, name) for name in DEADLINES},
        plan=plan,
        version=incident.version,
        notes=notes,
    )


def _show(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
