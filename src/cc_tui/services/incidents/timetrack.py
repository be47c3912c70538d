"""Time tracking (M9): one running timer per agent, and time entries booked by hand.

A running timer is a `time_entry` row without `ended_at`, so it survives the program
exiting; a unique partial index keeps it to one per agent. Every start, stop and booking
writes a Note on the incident's timeline (readable by whoever opens it) and a change row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Incident, TimeEntry
from cc_tui.models.enums import CONTACT_ONLY_STATUSES, FROZEN_STATUSES
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import get_incident, number
from cc_tui.services.incidents.event_log import append_event

MAX_ENTRY_MINUTES = 24 * 60
TIME_NOTE_TYPE = "Note"


@dataclass(frozen=True)
class TimeEntryInfo:
    id: int
    incident: str
    agent: str
    started_at: datetime
    ended_at: datetime | None
    minutes: int
    note: str | None


@dataclass(frozen=True)
class TimerStatus:
    """The agent's running timer (or none)."""

    running: bool
    incident: str | None = None
    incident_id: int | None = None
    title: str | None = None
    started_at: datetime | None = None
    elapsed_minutes: int = 0


@dataclass(frozen=True)
class TimerStarted:
    timer: TimerStatus
    # The timer that was running on another incident, now stopped and booked.
    stopped: TimeEntryInfo | None


@dataclass(frozen=True)
class TimeTotal:
    key: str
    minutes: int
    entries: int


@dataclass(frozen=True)
class TimeSummary:
    """Booked minutes on an incident (by agent) or of an agent (by incident)."""

    scope: str
    total_minutes: int
    entries: int
    by: list[TimeTotal]


def _info(session: Session, entry: TimeEntry) -> TimeEntryInfo:
    agent = session.get(Agent, entry.agent_id)
    return TimeEntryInfo(
        id=entry.id or 0,
        incident=number(entry.incident_id),
        agent=agent.login if agent else str(entry.agent_id),
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        minutes=entry.minutes,
        note=entry.note,
    )


def _running(session: Session, agent_id: int) -> TimeEntry | None:
    return session.scalars(
        select(TimeEntry).where(
            col(TimeEntry.agent_id) == agent_id, col(TimeEntry.ended_at).is_(None)
        )
    ).first()


# The first key of the advisory locks that serialise one agent's timer changes.
_TIMER_LOCK = 0x7C71


def _lock_agent(session: Session, agent_id: int) -> None:
    # Serialises one agent's timer changes on PostgreSQL (SQLite writers hold the lock).
    # An advisory lock, not SELECT ... FOR UPDATE on the agent row: a row lock needs UPDATE
    # privilege on `agent`, which an agent's database role does not have.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key, :agent)"),
            {"key": _TIMER_LOCK, "agent": agent_id},
        )


def _clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    cleaned = note.strip()
    if len(cleaned) > 2000:
        raise UsageError("a time note is at most 2000 characters", field="note")
    return cleaned or None


def elapsed_minutes(started_at: datetime, now: datetime) -> int:
    """To the nearest minute; a timer that ran at all books at least one."""
    seconds = (now - started_at).total_seconds()
    return max(1, int((seconds + 30) // 60))


def _write(
    session: Session,
    *,
    actor: Actor,
    incident: Incident,
    entry: TimeEntry,
    action: str,
    text: str,
) -> None:
    append_event(
        session,
        incident=incident,
        type_code=TIME_NOTE_TYPE,
        author_id=actor.id,
        text=text,
        duration_minutes=entry.minutes or None,
        data={"time_entry": entry.id, "action": action, "minutes": entry.minutes},
    )
    record_change(
        session,
        entity="time_entry",
        action=action,
        entity_id=entry.id,
        incident_id=incident.id,
        department_id=incident.department_id,
        agent_id=actor.id,
    )


def _stop(
    session: Session, actor: Actor, entry: TimeEntry, note: str | None, now: datetime
) -> TimeEntryInfo:
    entry.ended_at = max(now, entry.started_at)
    entry.minutes = elapsed_minutes(entry.started_at, now)
    entry.note = note
    session.flush()
    incident = get_incident(session, entry.incident_id)
    text = f"Timer stopped: {entry.minutes} min booked" + (f". {note}" if note else "")
    _write(session, actor=actor, incident=incident, entry=entry, action="stopped", text=text)
    return _info(session, entry)


def start_timer(
    session: Session, *, actor: Actor, ref: str | int, now: datetime | None = None
) -> TimerStarted:
    """Start the agent's timer on an incident; a timer running elsewhere is stopped and
    booked first."""
    now = now or clock.now()
    incident = get_incident(session, ref)
    label = number(incident.id or 0)
    if incident.status in FROZEN_STATUSES:  # timers run on incidents still worked on
        raise RuleViolation(f"{label} is {incident.status}: no timer runs on it", field="timer")
    _lock_agent(session, actor.id)
    stopped = None
    running = _running(session, actor.id)
    if running is not None:
        if running.incident_id == incident.id:
            raise RuleViolation(
                f"your timer runs on {label} already (since "
                f"{running.started_at:%Y-%m-%d %H:%M} UTC)",
                field="timer",
            )
        stopped = _stop(session, actor, running, f"switched to {label}", now)
    entry = TimeEntry(incident_id=incident.id or 0, agent_id=actor.id, started_at=now)
    session.add(entry)
    session.flush()
    _write(
        session,
        actor=actor,
        incident=incident,
        entry=entry,
        action="started",
        text="Timer started",
    )
    return TimerStarted(
        timer=TimerStatus(True, label, incident.id, incident.title, now, 0), stopped=stopped
    )


def stop_timer(
    session: Session, *, actor: Actor, note: str | None = None, now: datetime | None = None
) -> TimeEntryInfo:
    """Stop the agent's running timer and book its minutes (at least one)."""
    _lock_agent(session, actor.id)
    running = _running(session, actor.id)
    if running is None:
        raise RuleViolation("no timer is running (start one with `cc-tui timer start INC-...`)")
    return _stop(session, actor, running, _clean_note(note), now or clock.now())


def timer_status(session: Session, *, actor: Actor, now: datetime | None = None) -> TimerStatus:
    running = _running(session, actor.id)
    if running is None:
        return TimerStatus(False)
    incident = session.get(Incident, running.incident_id)
    seconds = ((now or clock.now()) - running.started_at).total_seconds()
    return TimerStatus(
        running=True,
        incident=number(running.incident_id),
        incident_id=running.incident_id,
        title=incident.title if incident else None,
        started_at=running.started_at,
        elapsed_minutes=max(0, int(seconds // 60)),
    )


def book_time(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    minutes: int,
    note: str | None = None,
    now: datetime | None = None,
) -> TimeEntryInfo:
    """Book time worked without a timer (ended now, started `minutes` earlier)."""
    if not 0 < minutes <= MAX_ENTRY_MINUTES:
        raise UsageError(
            f"minutes must be 1 to {MAX_ENTRY_MINUTES}, not {minutes}", field="minutes"
        )
    now = now or clock.now()
    incident = get_incident(session, ref)
    label = number(incident.id or 0)
    if incident.status in CONTACT_ONLY_STATUSES:
        raise RuleViolation(f"{label} is {incident.status}: no time can be booked on it")
    note = _clean_note(note)
    entry = TimeEntry(
        incident_id=incident.id or 0,
        agent_id=actor.id,
        started_at=now - timedelta(minutes=minutes),
        ended_at=now,
        minutes=minutes,
        note=note,
    )
    session.add(entry)
    session.flush()
    text = f"Time booked: {minutes} min" + (f". {note}" if note else "")
    _write(session, actor=actor, incident=incident, entry=entry, action="booked", text=text)
    return _info(session, entry)


def minutes_on_incident(session: Session, incident_id: int) -> int:
    """Booked minutes (running timers count once they are stopped)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(col(TimeEntry.minutes)), 0)).where(
                col(TimeEntry.incident_id) == incident_id, col(TimeEntry.ended_at).is_not(None)
            )
        )
        or 0
    )


def running_on_incident(session: Session, incident_id: int) -> list[tuple[str, datetime]]:
    query = (
        select(col(Agent.login), col(TimeEntry.started_at))
        .join(Agent, col(Agent.id) == col(TimeEntry.agent_id))
        .where(col(TimeEntry.incident_id) == incident_id, col(TimeEntry.ended_at).is_(None))
        .order_by(col(TimeEntry.started_at))
    )
    return [(login, started) for login, started in session.execute(query)]


def incident_time(session: Session, *, ref: str | int) -> TimeSummary:
    incident = get_incident(session, ref)
    query = (
        select(col(Agent.login), func.sum(col(TimeEntry.minutes)), func.count())
        .join(Agent, col(Agent.id) == col(TimeEntry.agent_id))
        .where(col(TimeEntry.incident_id) == incident.id, col(TimeEntry.ended_at).is_not(None))
        .group_by(Agent.login)
        .order_by(Agent.login)
    )
    return _summary(number(incident.id or 0), session.execute(query))


def agent_time(
    session: Session,
    *,
    login: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> TimeSummary:
    """An agent's booked minutes per incident, optionally for entries started in a period."""
    agent_id = session.scalar(select(col(Agent.id)).where(col(Agent.login) == login))
    if agent_id is None:
        raise NotFound(f"no agent {login!r}", field="agent")
    query = select(
        col(TimeEntry.incident_id), func.sum(col(TimeEntry.minutes)), func.count()
    ).where(col(TimeEntry.agent_id) == agent_id, col(TimeEntry.ended_at).is_not(None))
    if since is not None:
        query = query.where(col(TimeEntry.started_at) >= since)
    if until is not None:
        query = query.where(col(TimeEntry.started_at) < until)
    query = query.group_by(col(TimeEntry.incident_id)).order_by(col(TimeEntry.incident_id))
    rows = [(number(incident_id), n, c) for incident_id, n, c in session.execute(query)]
    return _summary(login, rows)


def _summary(scope: str, rows: Iterable[Any]) -> TimeSummary:
    by = [TimeTotal(key, int(minutes or 0), int(count)) for key, minutes, count in rows]
    return TimeSummary(
        scope=scope,
        total_minutes=sum(t.minutes for t in by),
        entries=sum(t.entries for t in by),
        by=by,
    )
