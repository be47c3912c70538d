"""Agents adding to an incident's timeline, and reading it back (M8).

Events are append-only: this module (like every other) has no way to update or delete
one, and the database refuses it too (migration 0004). A correction is a new event that
refers to the one it corrects; it is never a customer contact of its own (the contact it
corrects was counted once), and the corrected event is read back with the correction's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Contact, Event, EventType, Incident
from cc_tui.models.enums import Direction, EventKind
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import get_incident, lock_incident, number, touch
from cc_tui.services.incidents.event_log import add_user_event
from cc_tui.services.incidents.records import MAX_PAGE, IncidentDetail, incident_detail

# Inbound contact types that are a response when the incident's owner takes them: the
# customer calls and the owner answers. (An e-mail in is not an answer to anyone.)
ANSWERED_BY_OWNER = frozenset({"callin"})

KINDS = ("all", "user", "system", "contact")


@dataclass(frozen=True)
class TimelineEntry:
    """One event as the timeline shows it, names resolved."""

    id: int
    at: datetime
    type: str
    type_name: str
    kind: str
    direction: str
    is_contact: bool
    author: str
    author_name: str
    text: str | None
    contact_id: int | None
    contact_name: str | None
    duration_minutes: int | None
    corrects_id: int | None
    data: dict[str, Any] | None
    # The newest event that corrects this one (None: never corrected).
    corrected_by: int | None = None


@dataclass(frozen=True)
class AddedEvent(TimelineEntry):
    """The new event, with what it did to the incident."""

    incident: str = ""
    version: int = 0
    first_response: bool = False
    first_response_at: datetime | None = None


@dataclass(frozen=True)
class TimelinePage:
    incident: str
    kind: str
    newest_first: bool
    events: list[TimelineEntry]
    # Pass as `after` to read the next page; None on the last page.
    next_after: int | None

    @property
    def has_more(self) -> bool:
        return self.next_after is not None


@dataclass(frozen=True)
class RunningTimer:
    agent: str
    started_at: datetime


@dataclass(frozen=True)
class IncidentSummary:
    """The top of the incident screen: the incident without its events, plus clocks,
    time and how many events of each kind its timeline holds."""

    detail: IncidentDetail
    deadlines: dict[str, Any]
    time_spent_minutes: int
    running_timers: list[RunningTimer]
    counts: dict[str, int]


def counts_as_first_response(
    etype: EventType, *, author_id: int, owner_id: int | None, correction: bool = False
) -> bool:
    """An outbound customer contact, or a customer's call the owner answered (a correction
    of one is not a contact again)."""
    if etype.is_system or not etype.is_contact or correction:
        return False
    if etype.direction == Direction.OUTBOUND:
        return True
    return (
        etype.direction == Direction.INBOUND
        and etype.code.lower() in ANSWERED_BY_OWNER
        and owner_id is not None
        and author_id == owner_id
    )


def stamp_first_response(
    incident: Incident, etype: EventType, *, author_id: int, at: datetime, correction: bool = False
) -> bool:
    """Set the first-response time once; later contacts never move it."""
    if incident.first_response_at is not None:
        return False
    if not counts_as_first_response(
        etype, author_id=author_id, owner_id=incident.owner_id, correction=correction
    ):
        return False
    incident.first_response_at = at
    return True


def add_event_to_incident(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    type_code: str,
    text: str,
    contact_id: int | None = None,
    duration_minutes: int | None = None,
    corrects_id: int | None = None,
    expected_version: int | None = None,
) -> AddedEvent:
    incident = lock_incident(session, ref, expected_version)
    label = number(incident.id or 0)
    if incident.status == "draft":
        raise RuleViolation("save the contact as an incident before adding events to it")
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"no contact person with id {contact_id}", field="contact")
        if contact.customer_id != incident.customer_id:
            raise RuleViolation(
                f"{contact.name} is not a contact of this incident's customer", field="contact"
            )
    if corrects_id is not None:
        original = session.get(Event, corrects_id)
        if original is None:
            raise NotFound(f"no event {corrects_id} to correct", field="corrects")
        if original.incident_id != incident.id:
            raise RuleViolation(
                f"event {corrects_id} belongs to {number(original.incident_id)}, not {label}",
                field="corrects",
            )
    event = add_user_event(
        session,
        actor_id=actor.id,
        incident=incident,
        type_code=type_code,
        text=text,
        contact_id=contact_id,
        duration_minutes=duration_minutes,
        corrects_id=corrects_id,
    )
    etype = session.get(EventType, event.event_type_id)
    assert etype is not None
    stamped = stamp_first_response(
        incident, etype, author_id=actor.id, at=event.at, correction=corrects_id is not None
    )
    touch(incident, actor)
    record_change(
        session,
        entity="event",
        action="added",
        entity_id=event.id,
        incident_id=incident.id,
        department_id=incident.department_id,
        agent_id=actor.id,
    )
    session.flush()
    entry = _entries(session, _entry_query().where(col(Event.id) == event.id))[0]
    return AddedEvent(
        **vars(entry),
        incident=label,
        version=incident.version,
        first_response=stamped,
        first_response_at=incident.first_response_at,
    )


def _contact() -> ColumnElement[bool]:
    """The event counts as a customer contact: its type says so and it corrects nothing."""
    return and_(col(EventType.is_contact).is_(True), col(Event.corrects_id).is_(None))


def _entry_query() -> Select[*tuple[Any, ...]]:
    author = aliased(Agent)
    correction = aliased(Event)
    corrected_by = (
        select(func.max(col(correction.id)))
        .where(col(correction.corrects_id) == col(Event.id))
        .correlate(Event)
        .scalar_subquery()
    )
    return (
        select(
            col(Event.id),
            col(Event.at),
            col(EventType.code),
            col(EventType.name),
            col(Event.kind),
            col(EventType.direction),
            _contact(),
            col(author.login),
            col(author.name),
            col(Event.text),
            col(Event.contact_id),
            col(Contact.name),
            col(Event.duration_minutes),
            col(Event.corrects_id),
            col(Event.data),
            corrected_by,
        )
        .join(EventType, col(EventType.id) == col(Event.event_type_id))
        .join(author, col(author.id) == col(Event.author_id))
        .outerjoin(Contact, col(Contact.id) == col(Event.contact_id))
    )


def _entries(session: Session, query: Select[*tuple[Any, ...]]) -> list[TimelineEntry]:
    entries = []
    for row in session.execute(query):
        values = list(row)
        values[6] = bool(values[6])  # SQLite answers the AND with 0 or 1
        entries.append(TimelineEntry(*values))
    return entries


def parse_kind(kind: str) -> str:
    value = kind.strip().lower()
    if value not in KINDS:
        raise UsageError(f"unknown event kind {kind!r}; one of: {', '.join(KINDS)}", field="kind")
    return value


def timeline(
    session: Session,
    *,
    ref: str | int,
    kind: str = "all",
    newest_first: bool = False,
    limit: int = 50,
    after: int | None = None,
) -> TimelinePage:
    """One page of an incident's events, keyset-paged on the event id.

    `after` is the last id of the previous page (in the chosen order); `contact` keeps the
    events whose type counts as a customer contact.
    """
    kind = parse_kind(kind)
    if limit < 1:
        raise UsageError("a page holds at least one event", field="limit")
    limit = min(limit, MAX_PAGE)
    incident = get_incident(session, ref)
    query = _entry_query().where(col(Event.incident_id) == incident.id)
    if kind in (EventKind.USER, EventKind.SYSTEM):
        query = query.where(col(Event.kind) == kind)
    elif kind == "contact":
        query = query.where(_contact())
    if after is not None:
        query = query.where(col(Event.id) < after if newest_first else col(Event.id) > after)
    query = query.order_by(col(Event.id).desc() if newest_first else col(Event.id)).limit(limit + 1)
    rows = _entries(session, query)
    more = len(rows) > limit
    rows = rows[:limit]
    return TimelinePage(
        incident=number(incident.id or 0),
        kind=kind,
        newest_first=newest_first,
        events=rows,
        next_after=rows[-1].id if more and rows else None,
    )


def event_counts(session: Session, incident_id: int) -> dict[str, int]:
    """How many events of each kind (one grouped read, no rows loaded); corrections are not
    contacts."""
    counts = {"all": 0, "user": 0, "system": 0, "contact": 0}
    contact = _contact().label("contact")
    query = (
        select(col(Event.kind), contact, func.count())
        .join(EventType, col(EventType.id) == col(Event.event_type_id))
        .where(col(Event.incident_id) == incident_id)
        .group_by(col(Event.kind), contact)
    )
    for kind, is_contact, n in session.execute(query):
        counts["all"] += n
        counts[kind] = counts.get(kind, 0) + n
        if is_contact:
            counts["contact"] += n
    return counts


def incident_summary(session: Session, *, ref: str | int) -> IncidentSummary:
    from cc_tui.services.incidents.timetrack import running_on_incident

    detail = incident_detail(session, ref, events_limit=0)
    incident = get_incident(session, detail.id)
    return IncidentSummary(
        detail=detail,
        deadlines={
            "response_due": incident.response_due,
            "follow_up_at": incident.follow_up_at,
            "warning_at": incident.warning_at,
            "late_at": incident.late_at,
            "resolve_due": incident.resolve_due,
            "expected_close": incident.expected_close,
            "paused_since": incident.paused_since,
        },
        time_spent_minutes=detail.time_spent_minutes,
        running_timers=[
            RunningTimer(agent=login, started_at=started)
            for login, started in running_on_incident(session, detail.id)
        ],
        counts=event_counts(session, detail.id),
    )
