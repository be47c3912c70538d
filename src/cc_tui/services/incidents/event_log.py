"""The append-only timeline (M8): event types and the one way events are written.

There is no function that updates or deletes an event: a correction is a new event that
refers to the one it corrects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.db.changes import acted_by
from cc_tui.errors import NotFound
from cc_tui.models import Event, EventType, Incident
from cc_tui.models.base import stored_id
from cc_tui.models.enums import Direction, EventKind, SystemEvent

# The event types every database has. System kinds are written by the services only.
DEFAULT_USER_TYPES: tuple[tuple[str, str, str, bool], ...] = (
    ("CallIn", "Call in", Direction.INBOUND, True),
    ("CallOut", "Call out", Direction.OUTBOUND, True),
    ("EmailIn", "E-mail in", Direction.INBOUND, True),
    ("EmailOut", "E-mail out", Direction.OUTBOUND, True),
    ("Dispatch", "Dispatch", Direction.INTERNAL, False),
    ("Note", "Note", Direction.INTERNAL, False),
)
SYSTEM_TYPE_NAMES: dict[SystemEvent, str] = {
    SystemEvent.CONTACT: "Contact",
    SystemEvent.STATUS: "Status change",
    SystemEvent.ASSIGNMENT: "Assignment",
    SystemEvent.PRIORITY: "Priority change",
    SystemEvent.FIELD: "Field change",
    SystemEvent.LINK: "Link",
    SystemEvent.KB_SEARCH: "KB search",
    SystemEvent.ESCALATION: "Escalation",
    SystemEvent.ROUTING: "Routing",
    SystemEvent.WORK_ORDER: "Work order",
    SystemEvent.NOTIFICATION: "Notification",
    SystemEvent.IMPORTED: "Imported",
}


def seed_event_types(session: Session) -> None:
    """Create the default and system event types that are missing (idempotent)."""
    forget_event_types(session)
    existing = set(session.scalars(select(col(EventType.code))).all())
    for code, name, direction, is_contact in DEFAULT_USER_TYPES:
        if code not in existing:
            session.add(EventType(code=code, name=name, direction=direction, is_contact=is_contact))
    for kind, name in SYSTEM_TYPE_NAMES.items():
        if kind.value not in existing:
            session.add(EventType(code=kind.value, name=name, is_system=True))
    session.flush()


# session.info key: the event types, read once per transaction (a save writes several
# events; one read instead of one per event saves round trips on a shared server).
_TYPES_KEY = "cc_tui.event_types"
# The event types shared by the transactions inside `event_types_per_batch()`.
_BATCH: ContextVar[dict[str, EventType] | None] = ContextVar("cc_tui_event_types", default=None)


@contextmanager
def event_types_per_batch() -> Iterator[None]:
    """A batch of many short transactions (a mail fetch files each message in its own)
    reads the event types once: inside, every transaction shares what the first read. An
    event type added or edited meanwhile counts from the next batch (in the transaction
    that changes it, at once)."""
    token = _BATCH.set({})
    try:
        yield
    finally:
        _BATCH.reset(token)


def _copy(row: EventType) -> EventType:
    """A copy belonging to no session: another transaction's rollback cannot expire it."""
    return EventType(
        id=row.id,
        code=row.code,
        name=row.name,
        direction=row.direction,
        is_contact=row.is_contact,
        is_system=row.is_system,
        active=row.active,
    )


def event_type(session: Session, code: str) -> EventType:
    types: dict[str, EventType] | None = session.info.get(_TYPES_KEY)
    if types is None:
        shared = _BATCH.get()
        if shared:
            types = shared
        else:
            types = {row.code: row for row in session.scalars(select(EventType))}
            if shared is not None:
                shared.update((code, _copy(row)) for code, row in types.items())
        session.info[_TYPES_KEY] = types
    found = types.get(code)
    if found is None:
        # Look-ups ignore case so `--type callin` works in scripts.
        for candidate in types.values():
            if candidate.code.lower() == code.lower():
                return candidate
        raise NotFound(f"no event type {code!r}", field="type")
    return found


def forget_event_types(session: Session) -> None:
    """After adding an event type: the next look-up reads them again."""
    session.info.pop(_TYPES_KEY, None)
    shared = _BATCH.get()
    if shared is not None:
        shared.clear()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def append_event(
    session: Session,
    *,
    incident: Incident,
    type_code: str,
    author_id: int,
    text: str | None = None,
    kind: EventKind = EventKind.USER,
    contact_id: int | None = None,
    duration_minutes: int | None = None,
    corrects_id: int | None = None,
    data: dict[str, Any] | None = None,
    flush: bool = True,
) -> Event:
    """Add one event; `flush=False` leaves the INSERT to the transaction's next flush, so
    the events of one operation go to the database in one statement."""
    etype = event_type(session, type_code)
    event = Event(
        incident_id=stored_id(incident),
        event_type_id=stored_id(etype),
        kind=kind,
        author_id=author_id,
        text=text,
        contact_id=contact_id,
        duration_minutes=duration_minutes,
        corrects_id=corrects_id,
        data=data,
        acted_by=acted_by(session),
    )
    session.add(event)
    if flush:
        session.flush()
    return event


def system_event(
    session: Session,
    *,
    incident: Incident,
    kind: SystemEvent,
    author_id: int,
    text: str,
    data: dict[str, Any] | None = None,
) -> Event:
    """Record a change made by a service (status, owner, priority, field, link, ...).

    Written at the transaction's next flush (a query or the commit), with its siblings.
    """
    return append_event(
        session,
        incident=incident,
        type_code=kind.value,
        author_id=author_id,
        text=text,
        kind=EventKind.SYSTEM,
        data=data,
        flush=False,
    )


def add_user_event(
    session: Session,
    *,
    actor_id: int,
    incident: Incident,
    type_code: str,
    text: str,
    contact_id: int | None = None,
    duration_minutes: int | None = None,
    corrects_id: int | None = None,
) -> Event:
    """An event an agent writes. System kinds are refused: only the services write those."""
    from cc_tui.errors import RuleViolation, UsageError

    etype = event_type(session, type_code)
    if etype.is_system:
        raise RuleViolation(f"{etype.code} events are written by cc-tui itself", field="type")
    if not etype.active:
        raise RuleViolation(f"event type {etype.code} is retired", field="type")
    if not text or not text.strip():
        raise UsageError("an event needs its text", field="text")
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        raise UsageError("duration must be 0 to 1440 minutes", field="minutes")
    return append_event(
        session,
        incident=incident,
        type_code=etype.code,
        author_id=actor_id,
        text=text.strip(),
        contact_id=contact_id,
        duration_minutes=duration_minutes,
        corrects_id=corrects_id,
    )
