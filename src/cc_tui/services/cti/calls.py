"""The call log: newCall, answer and hangup events recorded once each, the caller
identified by E.164 number, and a change-feed row per agent the call rings for (their
consoles pop).

Everything the telephone system sends is untrusted text: control characters are dropped
and lengths cut before anything is stored or shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from cc_tui import clock, untrusted
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Contact, Customer, Incident, PhoneCall
from cc_tui.models.base import stored_id
from cc_tui.models.enums import OPEN_STATUSES, Channel
from cc_tui.normalize import normalize_phone
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import number as incident_number
from cc_tui.services.incidents.intake import ContactDraft, open_contact

EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = ("in", "out")


def clean(value: object, limit: int) -> str:
    """One line of untrusted text (`cc_tui.untrusted.clean`, the project's rule), without
    direction or zero-width marks, at most `limit` characters."""
    if value is None:
        return ""
    # Zero-width and direction marks are invisible: they could make a number read as another.
    line = untrusted.ZERO_WIDTH.sub("", untrusted.clean(str(value), multiline=False))
    return " ".join(line.split())[:limit]


def e164(raw: str, default_country: str = "DE") -> str | None:
    """A number as telephone systems send it: '+49...' or '0049...' international, '030...'
    national, '49301234567' international without its '+' (as Zammad's connectors send
    it); a short internal extension has none."""
    digits = "".join(c for c in raw if c.isdigit())
    text = raw.strip()
    if not digits:
        return None
    if text.startswith("+"):
        candidate = "+" + digits
    elif digits.startswith("00"):
        candidate = "+" + digits[2:]
    elif digits.startswith("0"):
        candidate = digits
    elif len(digits) >= 8:
        candidate = "+" + digits
    else:
        return None
    return normalize_phone(candidate, default_country, strict=False)


@dataclass(frozen=True)
class CallEvent:
    """One event as the telephone system reported it (already parsed, not yet trusted)."""

    event: str
    call_id: str
    from_number: str = ""
    to_number: str = ""
    direction: str = "in"
    users: list[str] = field(default_factory=list)
    queue: str | None = None
    answering_number: str | None = None
    cause: str | None = None
    # Extensions the call rings on (the Asterisk bridge names phones, not logins).
    extensions: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, data: dict[str, Any]) -> CallEvent:
        """From the webhook's fields (Zammad's generic CTI names); UsageError when unusable."""
        event = clean(data.get("event"), 20)
        if event not in EVENTS:
            raise UsageError(f"event must be one of {', '.join(EVENTS)}", field="event")
        call_id = clean(data.get("callId") or data.get("call_id"), 200)
        if not call_id:
            raise UsageError("a callId is required", field="callId")
        direction = clean(data.get("direction") or "in", 3)
        if direction not in DIRECTIONS:
            raise UsageError("direction must be in or out", field="direction")
        raw_users = data.get("user[]", data.get("user", []))
        if isinstance(raw_users, str):
            raw_users = [raw_users]
        if not isinstance(raw_users, list):
            raise UsageError("user must be a list of logins", field="user")
        users = [u for u in (clean(u, 80) for u in raw_users[:50]) if u]
        return cls(
            event=event,
            call_id=call_id,
            from_number=clean(data.get("from"), 100),
            to_number=clean(data.get("to"), 100),
            direction=direction,
            users=users,
            queue=clean(data.get("queue"), 100) or None,
            answering_number=clean(data.get("answeringNumber"), 40) or None,
            cause=clean(data.get("cause"), 100) or None,
        )


@dataclass(frozen=True)
class CallCustomer:
    id: int
    name: str


@dataclass(frozen=True)
class CallInfo:
    id: int
    call_id: str
    from_number: str
    to_number: str
    direction: str
    state: str
    agent: str | None
    customer: CallCustomer | None
    incident: str | None
    rang_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    queue: str | None = None
    cause: str | None = None
    incident_id: int | None = None
    ringing: tuple[str, ...] = ()

    def contract(self) -> dict[str, Any]:
        """The `cti calls --json` shape."""
        return {
            "call_id": self.call_id,
            "from": self.from_number,
            "to": self.to_number,
            "direction": self.direction,
            "state": self.state,
            "agent": self.agent,
            "customer": None
            if self.customer is None
            else {"id": self.customer.id, "name": self.customer.name},
            "incident": self.incident,
            "rang_at": self.rang_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


@dataclass(frozen=True)
class EventResult:
    call: CallInfo
    changed: bool  # False: a replayed (or late) event that changed nothing


def callers_by_number(session: Session, number_e164: str) -> dict[int, int | None]:
    """Customer id -> contact id of everyone whose phone, fax or mobile is this number
    (the columns intake matches a caller's number against)."""
    found: dict[int, int | None] = {}
    for cid in session.scalars(
        select(col(Customer.id)).where(
            or_(col(Customer.phone_e164) == number_e164, col(Customer.fax_e164) == number_e164)
        )
    ):
        if cid is not None:
            found.setdefault(cid, None)
    for contact in session.scalars(
        select(Contact).where(
            or_(col(Contact.phone_e164) == number_e164, col(Contact.mobile_e164) == number_e164)
        )
    ):
        found[contact.customer_id] = contact.id
    return found


def record_event(
    session: Session, *, actor: Actor, event: CallEvent, default_country: str = "DE"
) -> EventResult:
    """Record one event of a call; an event already recorded changes nothing."""
    if event.event == "newCall":
        return _new_call(session, event, default_country)
    call = session.scalars(
        select(PhoneCall).where(col(PhoneCall.call_id) == event.call_id).with_for_update()
    ).first()
    if call is None:
        raise NotFound(f"no call {event.call_id!r} (newCall first)", field="callId")
    now = clock.now()
    if event.event == "answer":
        if call.state != "ringing":
            return EventResult(call_info(session, call), False)
        # Look-ups first: a query after a change would flush it as an UPDATE of its own.
        answering = _agent_by_extension(session, event.answering_number)
        if answering is None and event.users:
            answering = _agent_by_login(session, event.users[0])
        call.state = "answered"
        call.answered_at = now
        if answering is not None:
            call.agent_id = answering.id
        call.extension = event.answering_number or call.extension
        action = "answered"
    else:
        if call.ended_at is not None:
            return EventResult(call_info(session, call), False)
        call.ended_at = now
        call.cause = event.cause
        call.state = "ended" if call.answered_at is not None else "missed"
        action = call.state
    session.add(call)
    session.flush()
    _announce(session, call, action)
    return EventResult(call_info(session, call), True)


def _new_call(session: Session, event: CallEvent, default_country: str) -> EventResult:
    agents = [a for a in (_agent_by_login(session, u) for u in event.users) if a is not None]
    for extension in event.extensions:
        found = _agent_by_extension(session, extension)
        if found is not None and found not in agents:
            agents.append(found)
    if not agents and event.direction == "in":
        by_extension = _agent_by_extension(session, event.to_number)
        agents = [by_extension] if by_extension else []
    caller = event.from_number if event.direction == "in" else event.to_number
    number_e164 = e164(caller, default_country) if caller else None
    customer_id = contact_id = None
    if number_e164:
        owners = callers_by_number(session, number_e164)
        if len(owners) == 1:  # more than one: the agent chooses, as at intake
            customer_id, contact_id = next(iter(owners.items()))
    values = {
        "call_id": event.call_id,
        "direction": event.direction,
        "from_number": event.from_number,
        "from_e164": number_e164,
        "to_number": event.to_number,
        "queue": event.queue,
        "ringing": [a.login for a in agents],
        "agent_id": agents[0].id if len(agents) == 1 else None,
        "state": "ringing",
        "rang_at": clock.now(),
        "customer_id": customer_id,
        "contact_id": contact_id,
    }
    # INSERT .. ON CONFLICT DO NOTHING: a newCall replayed (even concurrently) stores nothing.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    call = session.scalars(
        insert(PhoneCall)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["call_id"])
        .returning(PhoneCall),
        execution_options={"populate_existing": True},
    ).first()
    if call is None:
        # Logged already: a replay, or the call now rings for more agents.
        existing = session.scalars(
            select(PhoneCall).where(col(PhoneCall.call_id) == event.call_id).with_for_update()
        ).one()
        return _ring_more(session, existing, agents, event.queue)
    # An outgoing call does not pop: the agent dialled it.
    action = "ringing" if event.direction == "in" else "dialing"
    _announce(session, call, action, [stored_id(a) for a in agents])
    return EventResult(call_info(session, call), True)


def _ring_more(
    session: Session, call: PhoneCall, agents: list[Agent], queue: str | None = None
) -> EventResult:
    """A newCall for a call already logged: it rings for more agents now (a ring group, a
    queue trying the next member); a replay naming the same agents changes nothing."""
    known = set(call.ringing or [])
    more = [a for a in agents if a.login not in known]
    if call.queue is None and queue:
        call.queue = queue  # the caller joined a queue after the call was logged
        session.add(call)
        session.flush()
        if not more:
            return EventResult(call_info(session, call), True)
    if call.state != "ringing" or call.direction != "in" or not more:
        return EventResult(call_info(session, call), False)
    call.ringing = [*(call.ringing or []), *(a.login for a in more)]
    if call.agent_id is None and not known and len(more) == 1:
        call.agent_id = more[0].id
    session.add(call)
    session.flush()
    _announce(session, call, "ringing", [stored_id(a) for a in more])
    return EventResult(call_info(session, call), True)


def _announce(
    session: Session, call: PhoneCall, action: str, agent_ids: list[int] | None = None
) -> None:
    """One change row per agent the call concerns, so exactly their consoles react."""
    if agent_ids is None:
        logins = list(call.ringing or [])
        agent_ids = (
            [
                i
                for i in session.scalars(
                    select(col(Agent.id)).where(col(Agent.login).in_(logins))
                ).all()
                if i is not None
            ]
            if logins
            else []
        )
        if call.agent_id is not None and call.agent_id not in agent_ids:
            agent_ids.append(call.agent_id)
    targets: list[int | None] = list(agent_ids) or [None]
    for agent_id in targets:
        record_change(session, entity="call", action=action, entity_id=call.id, agent_id=agent_id)


def _agent_by_login(session: Session, login: str) -> Agent | None:
    return session.scalars(
        select(Agent).where(col(Agent.login) == login, col(Agent.active).is_(True))
    ).first()


def _agent_by_extension(session: Session, extension: str | None) -> Agent | None:
    if not extension:
        return None
    return session.scalars(
        select(Agent).where(col(Agent.extension) == extension, col(Agent.active).is_(True))
    ).first()


def call_info(session: Session, call: PhoneCall) -> CallInfo:
    agent = session.get(Agent, call.agent_id) if call.agent_id is not None else None
    customer = session.get(Customer, call.customer_id) if call.customer_id is not None else None
    return CallInfo(
        id=stored_id(call),
        call_id=call.call_id,
        from_number=call.from_number,
        to_number=call.to_number,
        direction=call.direction,
        state=call.state,
        agent=agent.login if agent else None,
        customer=CallCustomer(stored_id(customer), customer.name) if customer else None,
        incident=incident_number(call.incident_id) if call.incident_id is not None else None,
        rang_at=call.rang_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        queue=call.queue,
        cause=call.cause,
        incident_id=call.incident_id,
        ringing=tuple(call.ringing or ()),
    )


def list_calls(
    session: Session,
    *,
    since: datetime | None = None,
    agent: str | None = None,
    missed: bool = False,
    number: str | None = None,
    limit: int = 500,
    default_country: str = "DE",
) -> list[CallInfo]:
    """Calls newest first: since a time, answered by (or ringing only for) an agent, from
    or to a number (its E.164 form, or a part of the number as sent), or only the ones
    that ended unanswered."""
    stmt = select(PhoneCall)
    wanted = clean(number, 100) if number else ""
    if wanted:
        as_e164 = e164(wanted, default_country)
        digits = "".join(c for c in wanted if c.isdigit() or c in "+*#") or wanted
        pattern = f"%{digits.replace('%', '').replace('_', '')}%"
        matches: list[ColumnElement[bool]] = [
            col(PhoneCall.from_number).like(pattern),
            col(PhoneCall.to_number).like(pattern),
            col(PhoneCall.from_e164).like(pattern),
        ]
        if as_e164:
            matches.append(col(PhoneCall.from_e164) == as_e164)
        stmt = stmt.where(or_(*matches))
    if since is not None:
        stmt = stmt.where(col(PhoneCall.rang_at) >= since)
    login = None
    if agent is not None:
        found = _agent_by_login(session, agent.strip())
        if found is None:
            raise NotFound(f"no agent {agent.strip()!r}", field="agent")
        login = found.login
        # Answered by the agent, or rang for them and nobody answered (checked below: the
        # logins it rang for are a JSON list, read the same way on both databases).
        stmt = stmt.where(
            or_(col(PhoneCall.agent_id) == found.id, col(PhoneCall.agent_id).is_(None))
        )
    if missed:
        stmt = stmt.where(col(PhoneCall.state) == "missed")
    stmt = stmt.order_by(col(PhoneCall.rang_at).desc(), col(PhoneCall.id).desc())
    found_calls: list[CallInfo] = []
    for rows in session.scalars(stmt.execution_options(yield_per=limit)).partitions():
        for row in rows:
            if login is not None and row.agent_id is None and login not in (row.ringing or []):
                continue
            found_calls.append(call_info(session, row))
            if len(found_calls) >= limit:
                return found_calls
    return found_calls


def simulate(
    session: Session,
    *,
    actor: Actor,
    from_number: str,
    agent: str | None = None,
    answer: bool = False,
    hangup: bool = False,
    default_country: str = "DE",
) -> CallInfo:
    """A test call (demos, training): rings for the agent named (or the one signed in);
    `hangup` ends it too (unanswered: a missed call, on the callback list)."""
    if not clean(from_number, 100):
        raise UsageError("a caller number is required", field="from")
    login = agent.strip() if agent else actor.login
    if _agent_by_login(session, login) is None:
        raise NotFound(f"no active agent {login!r}", field="agent")
    call_id = f"sim-{uuid.uuid4().hex}"
    base = {"callId": call_id, "from": from_number, "to": "", "direction": "in"}
    result = record_event(
        session,
        actor=actor,
        event=CallEvent.parse({**base, "event": "newCall", "user[]": [login]}),
        default_country=default_country,
    )
    if answer:
        result = record_event(
            session,
            actor=actor,
            event=CallEvent.parse({**base, "event": "answer", "user[]": [login]}),
            default_country=default_country,
        )
    if hangup:
        result = record_event(
            session,
            actor=actor,
            event=CallEvent.parse({**base, "event": "hangup", "cause": "simulated"}),
            default_country=default_country,
        )
    return result.call


@dataclass(frozen=True)
class CallPop:
    """What a ringing call shows on the agent's console."""

    id: int
    call_id: str
    number: str
    state: str
    customer_id: int | None
    contact_id: int | None
    customer_name: str | None
    contact_name: str | None
    open_incidents: int
    block_level: str | None
    block_reason: str | None
    ringing: list[str]
    agent_id: int | None = None  # who answered (or the one agent it rings for)
    incident: str | None = None  # the contact it became, once taken


def call_pop(session: Session, *, call: int) -> CallPop:
    """What the pop shows, in one query (the console waits for it while the phone rings)."""
    open_count = (
        select(func.count())
        .select_from(Incident)
        .where(
            col(Incident.customer_id) == col(PhoneCall.customer_id),
            col(Incident.status).in_(OPEN_STATUSES),
        )
        .scalar_subquery()
    )
    found = session.execute(
        select(PhoneCall, Customer, Contact, open_count)
        .outerjoin(Customer, col(Customer.id) == col(PhoneCall.customer_id))
        .outerjoin(Contact, col(Contact.id) == col(PhoneCall.contact_id))
        .where(col(PhoneCall.id) == call)
    ).first()
    if found is None:
        raise NotFound(f"no call {call}")
    row, customer, contact, counted = found
    blocked = customer is not None and customer.block_level not in (None, "", "none")
    return CallPop(
        id=stored_id(row),
        call_id=row.call_id,
        number=row.from_number if row.direction == "in" else row.to_number,
        state=row.state,
        customer_id=row.customer_id,
        contact_id=row.contact_id,
        customer_name=customer.name if customer else None,
        contact_name=contact.name if contact else None,
        open_incidents=int(counted or 0) if customer is not None else 0,
        block_level=customer.block_level if blocked and customer else None,
        block_reason=customer.block_reason if blocked and customer else None,
        ringing=list(row.ringing or []),
        agent_id=row.agent_id,
        incident=incident_number(row.incident_id) if row.incident_id is not None else None,
    )


@dataclass(frozen=True)
class TakenCall:
    contact: ContactDraft
    number: str
    customer_id: int | None
    contact_id: int | None


def take_call(
    session: Session, *, actor: Actor, call: int, default_country: str = "DE"
) -> TakenCall:
    """The agent takes the call: a contact (channel CTI) is recorded with the caller's
    number, and the call remembers it."""
    row = session.scalars(
        select(PhoneCall).where(col(PhoneCall.id) == call).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no call {call}")
    if row.incident_id is not None:
        raise RuleViolation(f"this call is already {incident_number(row.incident_id)}")
    caller = row.from_number if row.direction == "in" else row.to_number
    draft = open_contact(
        session,
        actor=actor,
        channel=Channel.CTI,
        caller_phone=row.from_e164 or caller or None,
        default_country=default_country,
    )
    row.incident_id = draft.id
    if row.agent_id is None:
        row.agent_id = actor.id
    session.add(row)
    session.flush()
    _announce(session, row, "taken")
    return TakenCall(draft, caller, row.customer_id, row.contact_id)
