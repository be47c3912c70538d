"""Routing (M5): ordered rules decide which department, and possibly which agent, a new
action request goes to.

Rules are data, ordered by `position` (1 = tried first). A rule's match fields are all
optional; an empty field matches anything, so a rule with no match fields (the default
rule) catches whatever the rules before it did not. The first matching active rule wins.
Its result is a department and either nobody (the department's queue), a named owner, or
the least-loaded active agent of the department (with a skill, if the rule names one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, func, literal, literal_column, select, update
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Code, Customer, Department, Incident, Priority, RoutingRule, Unit
from cc_tui.models.base import stored_id
from cc_tui.models.enums import OPEN_STATUSES, CodeKind, Role, Status, SystemEvent
from cc_tui.services import per_batch
from cc_tui.services.context import Actor
from cc_tui.services.directory.agents import parse_skills, resolve_agent, resolve_department
from cc_tui.services.directory.codes import resolve_code, resolve_pair
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.incidents.lifecycle import move

MATCH_FIELDS = (
    "unit_type",
    "reason_code_id",
    "problem_code_id",
    "region",
    "priority_id",
    "channel",
    "request_type",
)


@dataclass(frozen=True)
class RuleInfo:
    id: int
    position: int
    name: str | None
    unit_type: str | None
    reason: str | None  # GENERAL or GENERAL/SPECIFIC
    problem_code: str | None
    region: str | None
    priority: str | None
    channel: str | None
    request_type: str | None
    department: str
    owner: str | None
    least_loaded: bool
    skill: str | None
    active: bool
    is_default: bool
    # False when an earlier active default rule catches everything first.
    reachable: bool


@dataclass(frozen=True)
class RoutingDecision:
    rule_id: int
    position: int
    rule_name: str | None
    department_id: int
    department: str
    owner_id: int | None
    owner: str | None
    # "owner" (named by the rule), "least_loaded", or "queue" (nobody yet).
    how: str
    note: str | None = None

    def describe(self) -> str:
        label = f"rule {self.position}" + (f" ({self.rule_name})" if self.rule_name else "")
        target = self.department
        if self.owner:
            target += f", owner {self.owner}"
            if self.how == "least_loaded":
                target += " (least loaded)"
        else:
            target += " queue"
        text = f"routed by {label} to {target}"
        return text + (f"; {self.note}" if self.note else "")


# --- administration ---------------------------------------------------------------------


def _rule_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RoutingRule)) or 0


def _get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"no routing rule with id {rule_id}", field="rule")
    return rule


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def add_rule(
    session: Session,
    *,
    actor: Actor,
    department: str,
    owner: str | None = None,
    least_loaded: bool = False,
    skill: str | None = None,
    unit_type: str | None = None,
    reason: str | None = None,
    problem_code: str | None = None,
    region: str | None = None,
    priority: str | None = None,
    channel: str | None = None,
    request_type: str | None = None,
    position: int | None = None,
    name: str | None = None,
) -> RuleInfo:
    """Add a rule; inserting at `position` moves that rule and the ones after it down."""
    from cc_tui.services.incidents.base import parse_channel, parse_request_type
    from cc_tui.services.sla.priorities import resolve_priority

    actor.require_admin("change routing rules")
    dept = resolve_department(session, department)
    if not dept.active:
        raise RuleViolation(f"department {dept.code} is deactivated", field="department")
    owner_row = None
    if owner is not None and _clean(owner):
        if least_loaded:
            raise UsageError("a rule names an owner or routes to the least-loaded agent, not both")
        owner_row = resolve_agent(session, owner)
        if not owner_row.active:
            raise RuleViolation(f"agent {owner_row.login} is deactivated", field="owner")
        if owner_row.department_id not in (None, dept.id):
            raise RuleViolation(
                f"agent {owner_row.login} does not work in department {dept.code}", field="owner"
            )
    skill_tag = None
    if skill is not None and _clean(skill):
        if not least_loaded:
            raise UsageError("a skill only applies with --least-loaded", field="skill")
        tags = parse_skills(skill)
        if len(tags) != 1:
            raise UsageError("a rule names one skill", field="skill")
        skill_tag = tags[0]

    rule = RoutingRule(
        position=0,
        name=_clean(name),
        department_id=stored_id(dept),
        owner_id=owner_row.id if owner_row else None,
        least_loaded=least_loaded,
        skill=skill_tag,
        unit_type=_clean(unit_type),
        region=_clean(region),
    )
    if reason is not None and _clean(reason):
        general, specific = resolve_pair(session, CodeKind.REASON, reason)
        rule.reason_code_id = (specific or general).id
    if problem_code is not None and _clean(problem_code):
        rule.problem_code_id = resolve_code(session, CodeKind.PROBLEM, problem_code).id
    if priority is not None and _clean(priority):
        rule.priority_id = resolve_priority(session, priority.strip()).id
    if channel is not None and _clean(channel):
        rule.channel = parse_channel(channel).value
    if request_type is not None and _clean(request_type):
        rule.request_type = parse_request_type(request_type).value

    count = _rule_count(session)
    if position is None:
        position = count + 1
    if not 1 <= position <= count + 1:
        raise UsageError(f"position must be 1 to {count + 1}", field="position")
    session.execute(
        update(RoutingRule)
        .where(col(RoutingRule.position) >= position)
        .values(position=RoutingRule.position + 1)
    )
    rule.position = position
    session.add(rule)
    session.flush()
    _rule_changed(session, rule, actor, "added")
    return _info_by_id(session, rule.id or 0)


def list_rules(session: Session, *, include_inactive: bool = True) -> list[RuleInfo]:
    """Every rule in the order they are tried."""
    rules = session.scalars(
        select(RoutingRule).order_by(col(RoutingRule.position), col(RoutingRule.id))
    )
    rows = list(rules.all())
    names = _names(session, rows)
    infos = []
    caught = False  # an active default rule above catches everything
    for rule in rows:
        default = _is_default(rule)
        infos.append(_info(rule, names, reachable=not caught))
        if rule.active and default:
            caught = True
    if not include_inactive:
        infos = [i for i in infos if i.active]
    return infos


def move_rule(session: Session, *, actor: Actor, rule_id: int, position: int) -> list[RuleInfo]:
    """Move a rule to `position`; the ones in between close up. Returns the new order."""
    actor.require_admin("change routing rules")
    rule = _get_rule(session, rule_id)
    count = _rule_count(session)
    if not 1 <= position <= count:
        raise UsageError(f"position must be 1 to {count}", field="position")
    old = rule.position
    if position == old:
        raise RuleViolation(f"rule {rule_id} is at position {old} already", field="position")
    if position < old:
        shift = (
            update(RoutingRule)
            .where(col(RoutingRule.position) >= position, col(RoutingRule.position) < old)
            .values(position=RoutingRule.position + 1)
        )
    else:
        shift = (
            update(RoutingRule)
            .where(col(RoutingRule.position) > old, col(RoutingRule.position) <= position)
            .values(position=RoutingRule.position - 1)
        )
    session.execute(shift.execution_options(synchronize_session=False))
    session.execute(
        update(RoutingRule)
        .where(col(RoutingRule.id) == rule_id)
        .values(position=position)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    _rule_changed(session, rule, actor, "moved")
    return list_rules(session)


def deactivate_rule(session: Session, *, actor: Actor, rule_id: int) -> RuleInfo:
    return _set_active(session, actor, rule_id, False)


def reactivate_rule(session: Session, *, actor: Actor, rule_id: int) -> RuleInfo:
    return _set_active(session, actor, rule_id, True)


def _set_active(session: Session, actor: Actor, rule_id: int, active: bool) -> RuleInfo:
    actor.require_admin("change routing rules")
    rule = _get_rule(session, rule_id)
    if rule.active == active:
        state = "active" if active else "deactivated"
        raise RuleViolation(f"rule {rule_id} is {state} already")
    rule.active = active
    session.add(rule)
    session.flush()
    _rule_changed(session, rule, actor, "activated" if active else "deactivated")
    return _info_by_id(session, rule_id)


def _rule_changed(session: Session, rule: RoutingRule, actor: Actor, action: str) -> None:
    record_change(
        session,
        entity="routing_rule",
        action=action,
        entity_id=rule.id,
        department_id=rule.department_id,
        agent_id=actor.id,
    )


def _is_default(rule: RoutingRule) -> bool:
    return all(getattr(rule, f) is None for f in MATCH_FIELDS)


@dataclass(frozen=True)
class _Names:
    codes: dict[int, str]
    priorities: dict[int, str]
    departments: dict[int, str]
    agents: dict[int, str]


def _names(session: Session, rules: list[RoutingRule]) -> _Names:
    """The codes, priorities, departments and logins the rules refer to, in four reads."""
    code_ids = {r.reason_code_id for r in rules} | {r.problem_code_id for r in rules}
    code_ids.discard(None)
    prio_ids = {r.priority_id for r in rules if r.priority_id is not None}
    agent_ids = {r.owner_id for r in rules if r.owner_id is not None}

    def pairs(query: Select[int | None, str]) -> dict[int, str]:
        return {key: value for key, value in session.execute(query)}

    codes = pairs(select(col(Code.id), col(Code.path)).where(col(Code.id).in_(code_ids)))
    prios = pairs(
        select(col(Priority.id), col(Priority.code)).where(col(Priority.id).in_(prio_ids))
    )
    depts = pairs(select(col(Department.id), col(Department.code)))
    agents = pairs(select(col(Agent.id), col(Agent.login)).where(col(Agent.id).in_(agent_ids)))
    return _Names(codes, prios, depts, agents)


def _info(rule: RoutingRule, names: _Names, *, reachable: bool = True) -> RuleInfo:
    return RuleInfo(
        id=rule.id or 0,
        position=rule.position,
        name=rule.name,
        unit_type=rule.unit_type,
        reason=names.codes.get(rule.reason_code_id) if rule.reason_code_id else None,
        problem_code=names.codes.get(rule.problem_code_id) if rule.problem_code_id else None,
        region=rule.region,
        priority=names.priorities.get(rule.priority_id) if rule.priority_id else None,
        channel=rule.channel,
        request_type=rule.request_type,
        department=names.departments.get(rule.department_id, str(rule.department_id)),
        owner=names.agents.get(rule.owner_id) if rule.owner_id else None,
        least_loaded=rule.least_loaded,
        skill=rule.skill,
        active=rule.active,
        is_default=_is_default(rule),
        reachable=reachable,
    )


def _info_by_id(session: Session, rule_id: int) -> RuleInfo:
    for info in list_rules(session):
        if info.id == rule_id:
            return info
    raise NotFound(f"no routing rule with id {rule_id}", field="rule")


# --- routing an incident ----------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the rules look at, gathered once per incident."""

    unit_type: str | None
    reason_ids: frozenset[int]
    problem_code_id: int | None
    region: str | None
    priority_id: int | None
    channel: str
    request_type: str


def _facts(session: Session, incident: Incident) -> _Facts:
    unit = session.get(Unit, incident.unit_id) if incident.unit_id else None
    customer = session.get(Customer, incident.customer_id) if incident.customer_id else None
    reasons = (incident.reason_general_id, incident.reason_specific_id)
    return _Facts(
        unit_type=unit.unit_type.strip().lower() if unit and unit.unit_type else None,
        reason_ids=frozenset(r for r in reasons if r is not None),
        problem_code_id=incident.problem_code_id,
        region=customer.region.strip().lower() if customer and customer.region else None,
        priority_id=incident.priority_id,
        channel=incident.channel,
        request_type=incident.request_type,
    )


def _matches(rule: RoutingRule, facts: _Facts) -> bool:
    if rule.unit_type is not None and rule.unit_type.strip().lower() != facts.unit_type:
        return False
    # A general reason code matches the incident's general one; a specific, its specific one.
    if rule.reason_code_id is not None and rule.reason_code_id not in facts.reason_ids:
        return False
    if rule.problem_code_id is not None and rule.problem_code_id != facts.problem_code_id:
        return False
    if rule.region is not None and rule.region.strip().lower() != facts.region:
        return False
    if rule.priority_id is not None and rule.priority_id != facts.priority_id:
        return False
    if rule.channel is not None and rule.channel != facts.channel:
        return False
    return rule.request_type is None or rule.request_type == facts.request_type


def least_loaded_agent(
    session: Session, *, department_id: int, skill: str | None = None
) -> Agent | None:
    """The active agent (role agent) of a department with the fewest open incidents; ties go
    to the lower id so the choice is repeatable. Inside a batch the counts are read at most
    every `LOADS_FRESH_S` seconds and kept up to date by the batch's own choices."""
    if not per_batch.active():
        row = session.execute(_open_counts(department_id, skill).limit(1)).first()
        return row[0] if row else None
    loads: _Loads = per_batch.shared(("agent_loads", department_id, skill), _Loads)
    if loads.read_at is None or time.monotonic() - loads.read_at > LOADS_FRESH_S:
        query = _open_counts(department_id, skill).with_only_columns(
            col(Agent.id), func.count(col(Incident.owner_id))
        )
        loads.counts = {agent_id: count for agent_id, count in session.execute(query)}
        loads.read_at = time.monotonic()
    if not loads.counts:
        return None
    chosen = min(loads.counts, key=lambda agent_id: (loads.counts[agent_id], agent_id))
    # Counted before the commit: a rolled-back filing overcounts until the next reading.
    loads.counts[chosen] += 1
    return per_batch.row(session, Agent, chosen)


# Counting every agent's open incidents on each new incident grows with the open work: in a
# mail fetch of 10,000 messages it became the costliest statement (1.3 ms on average).
# Within a batch, others' assignments and closures count from the next reading.
LOADS_FRESH_S = 5.0


@dataclass
class _Loads:
    """A batch's open-incident counts per agent of one department (and skill)."""

    counts: dict[int, int] = field(default_factory=dict)
    read_at: float | None = None


def _open_counts(department_id: int, skill: str | None) -> Select[Agent, int]:
    """The department's active agents with their open incidents, fewest first."""
    # owner_id (not id): the count is then read from ix_incident_owner_open alone.
    open_count = func.count(col(Incident.owner_id))
    query = (
        select(Agent, open_count)
        .outerjoin(
            Incident,
            and_(
                col(Incident.owner_id) == col(Agent.id),
                # Literals, not bound parameters: SQLite matches a partial index
                # (ix_incident_owner_open) only against constants in the query.
                col(Incident.status).in_([literal_column(f"'{s.value}'") for s in OPEN_STATUSES]),
            ),
        )
        .where(
            col(Agent.department_id) == department_id,
            col(Agent.active).is_(True),
            col(Agent.role) == Role.AGENT,
        )
        .group_by(col(Agent.id))
        .order_by(open_count, col(Agent.id))
    )
    if skill:
        # Skills are stored as "a,b,c": wrap in commas to match whole tags only.
        tags = literal(",").concat(Agent.skills).concat(",")
        query = query.where(tags.like(f"%,{skill},%"))
    return query


def route(session: Session, incident: Incident) -> RoutingDecision | None:
    """Which rule routes this incident and where to; None when no active rule matches.
    Reads only: `apply_routing` acts on the decision."""
    facts = _facts(session, incident)
    for rule in _active_rules(session):
        if _matches(rule, facts):
            return _decide(session, rule)
    return None


def _active_rules(session: Session) -> tuple[RoutingRule, ...]:
    """The active rules of active departments in order (in a batch read once: copies)."""
    query = (
        select(RoutingRule)
        .join(Department, col(Department.id) == col(RoutingRule.department_id))
        .where(col(RoutingRule.active).is_(True), col(Department.active).is_(True))
        .order_by(col(RoutingRule.position), col(RoutingRule.id))
    )
    if not per_batch.active():
        return tuple(session.scalars(query))
    return per_batch.shared(
        "routing_rules",
        lambda: tuple(per_batch.detached(rule) for rule in session.scalars(query)),
    )


def _decide(session: Session, rule: RoutingRule) -> RoutingDecision:
    dept = per_batch.row(session, Department, rule.department_id)
    assert dept is not None and dept.id is not None
    owner: Agent | None = None
    how = "queue"
    note = None
    if rule.owner_id is not None:
        owner = session.get(Agent, rule.owner_id)
        if owner is None or not owner.active:
            note = "the rule's owner is deactivated; left in the queue"
            owner = None
        else:
            how = "owner"
    elif rule.least_loaded:
        owner = least_loaded_agent(session, department_id=dept.id, skill=rule.skill)
        if owner is None:
            skill = f" with skill {rule.skill}" if rule.skill else ""
            note = f"no active agent{skill} in {dept.code}; left in the queue"
        else:
            how = "least_loaded"
    return RoutingDecision(
        rule_id=rule.id or 0,
        position=rule.position,
        rule_name=rule.name,
        department_id=dept.id,
        department=dept.code,
        owner_id=owner.id if owner else None,
        owner=owner.login if owner else None,
        how=how,
        note=note,
    )


def apply_routing(
    session: Session, *, actor: Actor, incident: Incident, now: datetime | None = None
) -> RoutingDecision | None:
    """Route a just-registered incident: set its department (and owner, which makes it
    assigned) and write which rule did it to the timeline. Without any active rule the
    incident keeps the department its classification gave it and nothing is written."""
    decision = route(session, incident)
    if decision is None:
        if session.scalar(
            select(col(RoutingRule.id)).where(col(RoutingRule.active).is_(True)).limit(1)
        ):
            system_event(
                session,
                incident=incident,
                kind=SystemEvent.ROUTING,
                author_id=actor.id,
                text="no routing rule matched",
                data={"rule": None},
            )
        return None
    now = now or clock.now()
    incident.department_id = decision.department_id
    incident.routing_rule_id = decision.rule_id
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.ROUTING,
        author_id=actor.id,
        text=decision.describe(),
        data={
            "rule": decision.rule_id,
            "position": decision.position,
            "department": decision.department,
            "owner": decision.owner,
            "how": decision.how,
        },
    )
    if decision.owner_id is not None:
        incident.owner_id = decision.owner_id
        incident.assigned_at = now
        if incident.status == Status.REGISTERED:
            # Saved with the rest of the intake: one version for the whole registration.
            move(session, incident, Status.ASSIGNED, actor=actor, system=True, now=now, change=None)
    return decision
