"""Changing an incident's fields after it was registered, each change on the timeline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Code, Contact, Priority
from cc_tui.models.enums import FROZEN_STATUSES, CodeKind, SystemEvent
from cc_tui.services.context import Actor
from cc_tui.services.directory.codes import resolve_code, resolve_pair
from cc_tui.services.incidents.base import incident_changed, lock_incident, number
from cc_tui.services.incidents.each import EachOutcome, one_by_one
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.partial import UNSET


def update_incident(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    expected_version: int | None,
    title: str | None = UNSET,
    description: str | None = UNSET,
    reason: str | None = UNSET,
    request_kind: str | None = UNSET,
    problem_code: str | None = UNSET,
    priority: str | None = UNSET,
    contact_id: int | None = UNSET,
    responsible: str | None = UNSET,
    expected_close: date | None = UNSET,
) -> int:
    """Apply the given changes; returns the new version. Nothing is written if one is bad."""
    incident = lock_incident(session, ref, expected_version)
    if incident.status in FROZEN_STATUSES:
        raise RuleViolation(f"{number(incident.id or 0)} is {incident.status}; it cannot change")
    changes: list[tuple[str, Any, Any, Any, Any]] = []  # field, old, new, shown old, shown new

    def stage(field: str, new: Any, show: Callable[[Any], Any] = lambda v: v) -> None:
        old = getattr(incident, field)
        if old != new:
            changes.append((field, old, new, show(old), show(new)))

    if title is not UNSET:
        text = (title or "").strip()
        if not text:
            raise UsageError("the title cannot be empty", field="title")
        stage("title", text)
    if description is not UNSET:
        stage("description", (description or "").strip() or None)
    if reason is not UNSET:
        general, specific = (
            resolve_pair(session, CodeKind.REASON, reason) if reason else (None, None)
        )
        stage("reason_general_id", general.id if general else None, _code_path(session))
        stage("reason_specific_id", specific.id if specific else None, _code_path(session))
    if request_kind is not UNSET:
        code = resolve_code(session, CodeKind.REQUEST_TYPE, request_kind) if request_kind else None
        stage("request_type_code_id", code.id if code else None, _code_path(session))
    if problem_code is not UNSET:
        code = resolve_code(session, CodeKind.PROBLEM, problem_code) if problem_code else None
        stage("problem_code_id", code.id if code else None, _code_path(session))
    if contact_id is not UNSET:
        if contact_id is not None:
            contact = session.get(Contact, contact_id)
            if contact is None or contact.customer_id != incident.customer_id:
                raise NotFound("no such contact person for this customer", field="contact")
        stage("contact_id", contact_id)
    if responsible is not UNSET:
        agent_id = _agent_id(session, responsible) if responsible else None
        stage("responsible_id", agent_id, _login(session))
    if expected_close is not UNSET:
        # The timeline's data is JSON: the day is written as YYYY-MM-DD.
        stage("expected_close", expected_close, lambda day: day.isoformat() if day else None)
    new_priority: Priority | None = None
    if priority is not UNSET:
        from cc_tui.services.sla.priorities import resolve_priority

        if not priority:
            raise UsageError("an incident keeps a priority; choose another code", field="priority")
        new_priority = resolve_priority(session, priority)
        stage("priority_id", new_priority.id, _priority_code(session))

    if not changes:
        return incident.version
    for field, _old, new, shown_old, shown_new in changes:
        setattr(incident, field, new)
        kind = SystemEvent.PRIORITY if field == "priority_id" else SystemEvent.FIELD
        name = field.removesuffix("_id")
        system_event(
            session,
            incident=incident,
            kind=kind,
            author_id=actor.id,
            text=f"{name}: {_text(shown_old)} -> {_text(shown_new)}",
            data={"field": name, "from": shown_old, "to": shown_new},
        )
    if new_priority is not None:
        from cc_tui.services.sla.deadlines import apply_deadlines

        incident.priority_rank = new_priority.rank
        apply_deadlines(session, incident, author_id=actor.id, why="priority changed")
    incident_changed(session, incident, actor, "updated")
    return incident.version


@dataclass(frozen=True)
class PriorityChange:
    id: int
    number: str
    previous: str | None
    priority: str
    version: int


def set_priority_each(
    session: Session,
    *,
    actor: Actor,
    chosen: Sequence[tuple[int, int | None]],
    priority: str,
) -> EachOutcome[PriorityChange]:
    """Give the incidents an agent chose, as (id, version seen or None), one priority,
    each on its own as `update_incident` does it (timeline event, deadlines computed
    again): one changed since it was read, or closed, is refused and named; the others
    change. An unknown priority refuses the whole call."""
    from cc_tui.services.sla.priorities import resolve_priority

    target = resolve_priority(session, priority)
    show = _priority_code(session)

    def apply(incident_id: int, version: int | None) -> PriorityChange | None:
        incident = lock_incident(session, incident_id, version)
        before, seen = incident.priority_id, incident.version
        after = update_incident(
            session, actor=actor, ref=incident_id, expected_version=version, priority=target.code
        )
        if after == seen:
            return None
        return PriorityChange(
            id=incident_id,
            number=number(incident_id),
            previous=show(before),
            priority=target.code,
            version=after,
        )

    return one_by_one(session, chosen, apply)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _code_path(session: Session) -> Callable[[int | None], str | None]:
    def show(code_id: int | None) -> str | None:
        code = session.get(Code, code_id) if code_id else None
        return code.path if code else None

    return show


def _login(session: Session) -> Callable[[int | None], str | None]:
    def show(agent_id: int | None) -> str | None:
        agent = session.get(Agent, agent_id) if agent_id else None
        return agent.login if agent else None

    return show


def _priority_code(session: Session) -> Callable[[int | None], str | None]:
    def show(priority_id: int | None) -> str | None:
        row = session.get(Priority, priority_id) if priority_id else None
        return row.code if row else None

    return show


def _agent_id(session: Session, login: str) -> int:
    agent_id = session.scalars(
        select(col(Agent.id)).where(col(Agent.login) == login.strip())
    ).first()
    if agent_id is None:
        raise NotFound(f"no agent {login.strip()!r}", field="responsible")
    return agent_id
