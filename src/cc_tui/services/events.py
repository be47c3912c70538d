"""Agents adding events to an incident's timeline (calls, e-mails, notes, dispatches)."""

from __future__ import annotations

from sqlmodel import Session

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation
from cc_tui.models import Contact
from cc_tui.services.context import Actor
from cc_tui.services.incidents import EventRow, list_events
from cc_tui.services.lifecycle import lock_incident, touch
from cc_tui.services.timeline import add_user_event


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
) -> EventRow:
    incident = lock_incident(session, ref, expected_version)
    if incident.status == "draft":
        raise RuleViolation("save the contact as an incident before adding events to it")
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"no contact person with id {contact_id}", field="contact")
        if contact.customer_id != incident.customer_id:
            raise RuleViolation(f"{contact.name} is not a contact of this incident's customer")
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
    return next(e for e in list_events(session, incident.id or 0, newest_first=True, limit=1))
