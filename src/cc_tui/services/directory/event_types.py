"""Event types as data (M8): admins add and adjust the user types; system kinds are fixed.

A user type is never deleted once an event uses it (the timeline must stay readable);
it is retired instead (`active=False`) and can no longer be chosen for new events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Event, EventType
from cc_tui.models.enums import Direction
from cc_tui.services.context import Actor
from cc_tui.services.incidents.event_log import forget_event_types

_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class EventTypeInfo:
    id: int
    code: str
    name: str
    direction: str
    is_contact: bool
    is_system: bool
    active: bool


def _info(row: EventType) -> EventTypeInfo:
    return EventTypeInfo(
        id=row.id or 0,
        code=row.code,
        name=row.name,
        direction=row.direction,
        is_contact=row.is_contact,
        is_system=row.is_system,
        active=row.active,
    )


def parse_direction(value: str) -> Direction:
    try:
        return Direction(value.strip().lower())
    except ValueError:
        raise UsageError(
            f"unknown direction {value!r}; one of: {', '.join(d.value for d in Direction)}",
            field="direction",
        ) from None


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UsageError("an event type needs a name", field="name")
    if len(cleaned) > 100:
        raise UsageError("an event type's name is at most 100 characters", field="name")
    return cleaned


def _find(session: Session, code: str) -> EventType:
    # Codes are matched ignoring case, as everywhere events are written.
    row = session.scalars(
        select(EventType).where(func.lower(EventType.code) == code.strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"no event type {code!r}", field="code")
    return row


def _refuse_system(row: EventType, what: str) -> None:
    if row.is_system:
        raise RuleViolation(
            f"{row.code} is a system event kind: it is fixed and cannot be {what} by anyone",
            field="code",
        )


def list_event_types(
    session: Session, *, include_system: bool = True, active_only: bool = False
) -> list[EventTypeInfo]:
    """User types first (by code), then the system kinds."""
    query = select(EventType).order_by(col(EventType.is_system), col(EventType.code))
    if not include_system:
        query = query.where(col(EventType.is_system).is_(False))
    if active_only:
        query = query.where(col(EventType.active).is_(True))
    return [_info(row) for row in session.scalars(query)]


def add_event_type(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    direction: str = Direction.INTERNAL,
    is_contact: bool = False,
) -> EventTypeInfo:
    actor.require_admin("add event types")
    code = code.strip()
    if not _CODE.match(code):
        raise UsageError(
            f"event type code {code!r}: a letter, then letters, digits, '-' or '_' "
            "(at most 40), e.g. SmsOut",
            field="code",
        )
    clash = session.scalars(
        select(EventType).where(func.lower(EventType.code) == code.lower())
    ).first()
    if clash is not None:
        raise RuleViolation(f"event type {clash.code} exists already", field="code")
    row = EventType(
        code=code,
        name=_clean_name(name),
        direction=parse_direction(direction).value,
        is_contact=is_contact,
    )
    session.add(row)
    session.flush()
    forget_event_types(session)
    record_change(session, entity="event_type", action="added", entity_id=row.id, agent_id=actor.id)
    return _info(row)


def update_event_type(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str | None = None,
    direction: str | None = None,
    is_contact: bool | None = None,
    active: bool | None = None,
) -> EventTypeInfo:
    """Change what was given; the code itself never changes (scripts refer to it)."""
    actor.require_admin("change event types")
    row = _find(session, code)
    _refuse_system(row, "edited")
    if name is None and direction is None and is_contact is None and active is None:
        raise UsageError("nothing to change: give a name, direction, contact or active flag")
    if name is not None:
        row.name = _clean_name(name)
    if direction is not None:
        row.direction = parse_direction(direction).value
    if is_contact is not None:
        row.is_contact = is_contact
    if active is not None:
        row.active = active
    session.flush()
    record_change(
        session, entity="event_type", action="updated", entity_id=row.id, agent_id=actor.id
    )
    return _info(row)


def remove_event_type(session: Session, *, actor: Actor, code: str) -> EventTypeInfo:
    """Delete a user type no event uses yet (a typo); a used one can only be retired."""
    actor.require_admin("remove event types")
    row = _find(session, code)
    _refuse_system(row, "deleted")
    used = session.scalar(
        select(func.count()).select_from(Event).where(col(Event.event_type_id) == row.id)
    )
    if used:
        raise RuleViolation(
            f"{row.code} is used by {used} event(s) and stays in their history; "
            f"retire it instead (event-type set {row.code} --inactive)",
            field="code",
        )
    info = _info(row)
    session.delete(row)
    session.flush()
    record_change(
        session, entity="event_type", action="removed", entity_id=info.id, agent_id=actor.id
    )
    return info
