"""The leaf under every incident service: references (INC-1042 / 1042), the request
vocabularies, loading and locking an incident, and marking it changed.

It imports no other service module, so routing, deadlines, time tracking and the lifecycle
can all build on it without importing each other in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import event, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import Conflict, NotFound, UsageError, stale_version
from cc_tui.models import Agent, Incident
from cc_tui.models.enums import Channel, RequestType
from cc_tui.services.context import Actor

_REF = re.compile(r"^\s*(?:INC-?)?(\d{1,18})\s*$", re.IGNORECASE)
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def parse_ref(ref: str | int) -> int:
    """`INC-1042`, `inc1042` or `1042` -> 1042."""
    if isinstance(ref, int):
        return ref
    match = _REF.match(ref)
    if not match:
        raise UsageError(f"not an incident number: {ref!r} (expected INC-1042 or 1042)")
    incident_id = int(match.group(1))
    if incident_id > MAX_ID:
        # No incident has it (PostgreSQL would refuse the query as out of range).
        raise NotFound(f"no incident {number(incident_id)}")
    return incident_id


def number(incident_id: int) -> str:
    return f"INC-{incident_id}"


def parse_channel(value: str) -> Channel:
    try:
        return Channel(value.strip().lower())
    except ValueError:
        raise UsageError(
            f"unknown channel {value!r}; one of: {', '.join(c.value for c in Channel)}",
            field="channel",
        ) from None


def parse_request_type(value: str) -> RequestType:
    try:
        return RequestType(value.strip().lower())
    except ValueError:
        raise UsageError(
            f"unknown request type {value!r}; one of: {', '.join(t.value for t in RequestType)}",
            field="type",
        ) from None


@contextmanager
def keep_loaded(session: Session) -> Iterator[None]:
    """Keep every row loaded inside alive until the end of the block.

    The session forgets an unchanged row as soon as nothing refers to it, so a second
    `session.get` of it (the customer found by the sender, the priority, the department)
    reads it again. A save that touches a dozen rows keeps them for its duration instead:
    one read each.
    """
    held: list[object] = []

    def hold(_session: Session, instance: object) -> None:
        held.append(instance)

    event.listen(session, "loaded_as_persistent", hold)
    try:
        yield
    finally:
        event.remove(session, "loaded_as_persistent", hold)
        held.clear()


def get_incident(session: Session, ref: str | int) -> Incident:
    incident_id = parse_ref(ref)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {number(incident_id)}")
    return incident


def lock_incident(session: Session, ref: str | int, expected_version: int | None) -> Incident:
    """Load an incident for change, locked against concurrent writers, and check the version
    the caller read. SQLite sessions hold the write lock already (BEGIN IMMEDIATE)."""
    incident_id = parse_ref(ref)
    incident = session.scalars(
        select(Incident).where(col(Incident.id) == incident_id).with_for_update()
    ).first()
    if incident is None:
        return get_incident(session, incident_id)  # raises NotFound with the number
    if expected_version is not None and incident.version != expected_version:
        raise stale(session, incident, expected_version)
    return incident


def stale(session: Session, incident: Incident, expected_version: int) -> Conflict:
    who = session.get(Agent, incident.updated_by_id) if incident.updated_by_id else None
    return stale_version(
        number(incident.id or 0),
        by=who.login if who else None,
        at=incident.updated_at,
        version=incident.version,
        expected=expected_version,
    )


def touch(incident: Incident, actor: Actor, now: datetime | None = None) -> None:
    """Mark a change: bump the version other editors compare against."""
    incident.version += 1
    incident.updated_at = now or clock.now()
    incident.updated_by_id = actor.id


def announce(session: Session, incident: Incident, actor: Actor, action: str) -> None:
    """The change-feed row for an incident, so open consoles refresh it."""
    record_change(
        session,
        entity="incident",
        action=action,
        entity_id=incident.id,
        incident_id=incident.id,
        department_id=incident.department_id,
        agent_id=actor.id,
    )


def incident_changed(
    session: Session,
    incident: Incident,
    actor: Actor,
    action: str,
    *,
    now: datetime | None = None,
) -> None:
    """The one way to mark an incident changed: a new version, who and when, and the
    change-feed row."""
    touch(incident, actor, now)
    announce(session, incident, actor, action)
