"""Missed calls and calling back: the callback list shows every number whose calls ended
unanswered and that nobody has reached since (who, when, how often they tried); calling
one back logs the outgoing call and records a CallOut event on the caller's open incident,
or on a new contact when there is none.

A number leaves the list when someone reaches it: an answered call from it, or any call
to it (a call-back) after its last missed call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, UsageError
from cc_tui.models import Agent, Customer, Department, Incident, PhoneCall
from cc_tui.models.base import stored_id
from cc_tui.models.enums import OPEN_STATUSES, Channel
from cc_tui.services.context import Actor
from cc_tui.services.cti.calls import CallInfo, call_info, callers_by_number, clean, e164
from cc_tui.services.incidents.base import number as incident_number
from cc_tui.services.incidents.event_log import append_event
from cc_tui.services.incidents.intake import ContactDraft, open_contact
from cc_tui.services.incidents.timeline import add_event_to_incident

# How far back a missed call still waits for its call-back.
CALLBACK_DAYS = 7


@dataclass(frozen=True)
class Callback:
    """One number to call back."""

    number: str  # E.164 when the number is one, else as the telephone system sent it
    customer_id: int | None
    customer: str | None
    tries: int
    first_at: datetime
    last_at: datetime
    queue: str | None
    ringing: list[str]
    call: int  # the last missed call

    def contract(self) -> dict[str, object]:
        return {
            "number": self.number,
            "customer": None
            if self.customer_id is None
            else {"id": self.customer_id, "name": self.customer},
            "tries": self.tries,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "queue": self.queue,
            "ringing": self.ringing,
        }


def _key(call: PhoneCall) -> str:
    raw = call.from_number if call.direction == "in" else call.to_number
    return call.from_e164 or raw


def _my_queues(session: Session, actor: Actor) -> set[str]:
    """The PBX queue names that are this agent's: their department's code and name."""
    if actor.department_id is None:
        return set()
    dept = session.get(Department, actor.department_id)
    return {dept.code.lower(), dept.name.lower()} if dept is not None else set()


def callback_list(
    session: Session, *, actor: Actor, days: int = CALLBACK_DAYS, limit: int = 200
) -> list[Callback]:
    """Numbers to call back, the one waiting longest first. Supervisors see every one;
    an agent sees the calls that rang for them or came through their department's queue."""
    since = clock.now() - timedelta(days=days)
    rows = session.scalars(
        select(PhoneCall)
        .where(col(PhoneCall.rang_at) >= since)
        .where(
            or_(
                col(PhoneCall.state) == "missed",
                col(PhoneCall.direction) == "out",
                col(PhoneCall.answered_at).is_not(None),
            )
        )
        .order_by(col(PhoneCall.rang_at), col(PhoneCall.id))
    ).all()
    waiting: dict[str, list[PhoneCall]] = {}
    for call in rows:
        key = _key(call)
        if not key:
            continue
        if call.state == "missed" and call.direction == "in":
            waiting.setdefault(key, []).append(call)
        else:
            waiting.pop(key, None)  # reached: earlier missed calls are answered
    queues = _my_queues(session, actor)
    found: list[Callback] = []
    for key, missed in waiting.items():
        if not actor.is_supervisor and not any(
            actor.login in (c.ringing or [])
            or c.agent_id == actor.id
            or (c.queue or "").lower() in queues
            for c in missed
        ):
            continue
        last = missed[-1]
        customer = session.get(Customer, last.customer_id) if last.customer_id else None
        ringing: list[str] = []
        for c in missed:
            ringing.extend(r for r in (c.ringing or []) if r not in ringing)
        found.append(
            Callback(
                number=key,
                customer_id=customer.id if customer else None,
                customer=customer.name if customer else None,
                tries=len(missed),
                first_at=missed[0].rang_at,
                last_at=last.rang_at,
                queue=next((c.queue for c in reversed(missed) if c.queue), None),
                ringing=ringing,
                call=stored_id(last),
            )
        )
    found.sort(key=lambda c: (c.first_at, c.number))
    return found[:limit]


@dataclass(frozen=True)
class CalledBack:
    number: str
    call: CallInfo
    incident: str  # INC-n the CallOut event is on
    incident_id: int
    new_contact: ContactDraft | None  # set when there was no open incident
    customer_id: int | None
    contact_id: int | None


def call_back(
    session: Session, *, actor: Actor, number: str, default_country: str = "DE"
) -> CalledBack:
    """The agent calls a number of the callback list back: the outgoing call is logged (the
    number leaves the list) and a CallOut event is recorded on the caller's most recently
    changed open incident, or on a new contact (channel CTI) when there is none."""
    text = clean(number, 100)
    if not text:
        raise UsageError("a number to call back is required", field="number")
    key = e164(text, default_country) or text
    missed = session.scalars(
        select(PhoneCall)
        .where(
            col(PhoneCall.direction) == "in",
            col(PhoneCall.state) == "missed",
            or_(col(PhoneCall.from_e164) == key, col(PhoneCall.from_number) == text),
        )
        .order_by(col(PhoneCall.rang_at).desc())
    ).all()
    if not missed:
        raise NotFound(f"no missed call from {text}", field="number")
    last = missed[0]
    tries = sum(1 for c in missed if c.rang_at >= clock.now() - timedelta(days=CALLBACK_DAYS))
    customer_id, contact_id = last.customer_id, last.contact_id
    if customer_id is None and last.from_e164:
        owners = callers_by_number(session, last.from_e164)
        if len(owners) == 1:
            customer_id, contact_id = next(iter(owners.items()))
    now = clock.now()
    me = session.get(Agent, actor.id)
    call = PhoneCall(
        call_id=f"callback-{uuid.uuid4().hex}",
        direction="out",
        from_number=(me.extension if me is not None and me.extension else actor.login),
        from_e164=last.from_e164,
        to_number=last.from_number,
        queue=last.queue,
        ringing=[],
        agent_id=actor.id,
        extension=me.extension if me is not None else None,
        state="ended",
        rang_at=now,
        answered_at=now,
        ended_at=now,
        cause="call-back",
        customer_id=customer_id,
        contact_id=contact_id,
    )
    session.add(call)
    session.flush()
    words = (
        f"Called back {last.from_number} ({tries} missed, last {last.rang_at:%Y-%m-%d %H:%M} UTC)"
    )
    draft: ContactDraft | None = None
    open_incident = None
    if customer_id is not None:
        open_incident = session.scalars(
            select(Incident)
            .where(
                col(Incident.customer_id) == customer_id,
                col(Incident.status).in_(OPEN_STATUSES),
            )
            .order_by(col(Incident.updated_at).desc(), col(Incident.id).desc())
            .limit(1)
        ).first()
    if open_incident is not None:
        add_event_to_incident(
            session,
            actor=actor,
            ref=stored_id(open_incident),
            type_code="CallOut",
            text=words,
            contact_id=contact_id,
        )
        incident_id = stored_id(open_incident)
    else:
        draft = open_contact(
            session,
            actor=actor,
            channel=Channel.CTI,
            caller_phone=last.from_e164 or last.from_number,
            default_country=default_country,
        )
        incident = session.get(Incident, draft.id)
        assert incident is not None
        append_event(
            session,
            incident=incident,
            type_code="CallOut",
            author_id=actor.id,
            text=words,
            contact_id=contact_id,
        )
        incident_id = draft.id
    call.incident_id = incident_id
    session.add(call)
    session.flush()
    record_change(session, entity="call", action="called_back", entity_id=call.id)
    return CalledBack(
        number=key,
        call=call_info(session, call),
        incident=incident_number(incident_id),
        incident_id=incident_id,
        new_contact=draft,
        customer_id=customer_id,
        contact_id=contact_id,
    )
