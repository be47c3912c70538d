"""Call intake (M1-M4, M16): a contact is recorded the moment it starts, then saved as an
incident, added to an existing incident, or abandoned (never silently deleted).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Contact, Customer, Event, Incident, Unit
from cc_tui.models.base import stored_id
from cc_tui.models.enums import (
    OPEN_STATUSES,
    BlockLevel,
    Channel,
    CodeKind,
    RequestType,
    Status,
    SystemEvent,
)
from cc_tui.normalize import email_key, normalize_phone
from cc_tui.services import per_batch
from cc_tui.services.context import Actor
from cc_tui.services.directory.codes import resolve_code, resolve_pair
from cc_tui.services.incidents.base import (
    announce,
    incident_changed,
    keep_loaded,
    lock_incident,
    number,
    parse_channel,
    parse_request_type,
    touch,
)
from cc_tui.services.incidents.event_log import append_event, system_event
from cc_tui.services.incidents.lifecycle import move
from cc_tui.services.incidents.records import IncidentRow, list_incidents

# The user event that records what the caller said, by the channel it came in on.
INBOUND_EVENT = {
    Channel.PHONE: "CallIn",
    Channel.CTI: "CallIn",
    Channel.WALK_IN: "CallIn",
    Channel.EMAIL: "EmailIn",
    Channel.FAX: "Note",
    Channel.WEB: "Note",
}


@dataclass(frozen=True)
class ContactDraft:
    """A contact in progress: it exists (and counts) before anything else is typed."""

    id: int
    number: str
    channel: str
    request_type: str
    opened_at: object
    version: int


@dataclass
class IntakeForm:
    """What the agent typed; every field optional until the request type asks for it."""

    request_type: str
    customer_id: int | None = None
    contact_id: int | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    caller_email: str | None = None
    serial: str | None = None
    title: str | None = None
    description: str | None = None
    question: str | None = None
    answer: str | None = None
    reason: str | None = None  # GENERAL or GENERAL/SPECIFIC
    request_kind: str | None = None  # request-type dictionary code
    problem_code: str | None = None
    priority: str | None = None
    responsible: str | None = None  # agent login
    expected_close: date | None = None
    # Kept on the inbound event (the mail reader's sender, subject and attachments).
    event_data: dict[str, Any] | None = None


@dataclass(frozen=True)
class CallerSeen:
    """Who the caller was found to be before the call ended unsaved: kept on the contact."""

    customer_id: int | None = None
    contact_id: int | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    id: int
    number: str
    status: str
    version: int
    warnings: list[str] = field(default_factory=list)
    # The event that records what the caller said (saved incidents).
    event_id: int | None = None


# How long a console may hold a call it could not record before it is not believed.
MAX_CONTACT_DELAY = timedelta(days=1)


def open_contact(
    session: Session,
    *,
    actor: Actor,
    channel: str,
    request_type: str = RequestType.ACTION,
    caller_phone: str | None = None,
    caller_email: str | None = None,
    caller_name: str | None = None,
    default_country: str = "DE",
    started_at: datetime | None = None,
) -> ContactDraft:
    """Record that a contact started (the agent has not typed anything yet).

    `started_at`: when the call really began, if that was earlier (the console could not
    record it at once: the database was down). A time in the future, or more than a day
    back, is not believed: the contact starts now.
    """
    chan = parse_channel(channel)
    rtype = parse_request_type(request_type)
    now = clock.now()
    opened = now
    if started_at is not None and now - MAX_CONTACT_DELAY <= started_at <= now:
        opened = started_at
    incident = Incident(
        channel=chan,
        request_type=rtype,
        status=Status.DRAFT,
        created_by_id=actor.id,
        opened_at=opened,
        updated_at=now,
        updated_by_id=actor.id,
        caller_name=_clean(caller_name),
        caller_phone=_clean(caller_phone),
        caller_phone_e164=normalize_phone(caller_phone, default_country, strict=False)
        if caller_phone
        else None,
        caller_email=_clean(caller_email),
    )
    session.add(incident)
    session.flush()
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.CONTACT,
        author_id=actor.id,
        text=f"{chan.value} contact started",
        data={"channel": chan.value, "request_type": rtype.value},
    )
    announce(session, incident, actor, "contact")
    opened_here: tuple[object, dict[int, Incident]] | None = session.info.get(_OPENED_KEY)
    if opened_here is None or opened_here[0] is not session.get_transaction():
        opened_here = session.info[_OPENED_KEY] = (session.get_transaction(), {})
    opened_here[1][stored_id(incident)] = incident
    return ContactDraft(
        incident.id or 0, number(incident.id or 0), chan, rtype, opened, incident.version
    )


def abandon_contact(
    session: Session,
    *,
    actor: Actor,
    contact_id: int,
    note: str | None = None,
    caller: CallerSeen | None = None,
    default_country: str = "DE",
) -> IntakeResult:
    """The contact ended before anything was saved: keep it, marked abandoned, with the
    caller as far as they were identified (`caller`) and why (`note`: a refusal)."""
    incident = _draft(session, contact_id)
    if caller is not None:
        _keep_caller(session, incident, caller, default_country)
    now = clock.now()
    incident.contact_ended_at = now
    seconds = int((now - incident.opened_at).total_seconds())
    # An abandoned contact is told as a Contact event; it carries the status change.
    move(
        session,
        incident,
        Status.ABANDONED,
        actor=actor,
        system=True,
        now=now,
        change="abandoned",
        kind=SystemEvent.CONTACT,
        text=f"contact abandoned after {seconds} s" + (f": {note}" if note else ""),
    )
    return IntakeResult(
        incident.id or 0, number(incident.id or 0), incident.status, incident.version
    )


def save_intake(
    session: Session,
    *,
    actor: Actor,
    contact_id: int,
    form: IntakeForm,
    default_country: str = "DE",
    kb_search_required: bool = False,
) -> IntakeResult:
    """Turn the contact into an incident, enforcing what its request type requires."""
    # The incident's changes and its events are written in one flush at the end, not
    # interleaved with every look-up (a dozen fewer round trips on a shared server).
    with session.no_autoflush, keep_loaded(session):
        result, inbound = _save(
            session, actor, contact_id, form, default_country, kb_search_required
        )
    session.flush()
    return replace(result, event_id=inbound.id)


def _save(
    session: Session,
    actor: Actor,
    contact_id: int,
    form: IntakeForm,
    default_country: str,
    kb_search_required: bool,
) -> tuple[IntakeResult, Event]:
    incident = _draft(session, contact_id)
    rtype = parse_request_type(form.request_type)
    warnings: list[str] = []

    customer, contact, unit = _identify(session, form, default_country)
    if customer is not None:
        warnings.extend(_block_check(customer, rtype))
    _required_fields(form, rtype)
    if kb_search_required and rtype != RequestType.COMMENT and incident.kb_searches == 0:
        raise RuleViolation(
            "search the knowledge base before saving this request (the desk's policy)",
            field="kb",
        )

    incident.request_type = rtype
    incident.caller_name = _clean(form.caller_name) or incident.caller_name
    if form.caller_phone:
        incident.caller_phone = form.caller_phone.strip()
        incident.caller_phone_e164 = normalize_phone(form.caller_phone, default_country)
    if form.caller_email:
        incident.caller_email = form.caller_email.strip()
    incident.customer_id = customer.id if customer else None
    incident.contact_id = contact.id if contact else None
    incident.title = _clean(form.title) or _title_from(form, rtype)
    incident.description = _clean(form.description)
    incident.question = _clean(form.question)
    incident.answer = _clean(form.answer)
    incident.expected_close = form.expected_close
    if unit is not None:
        warnings.extend(_attach_unit(session, incident, unit))
    _classify(session, incident, form, rtype)

    now = clock.now()
    incident.contact_ended_at = now
    incident.registered_at = now
    # Comments need no follow-up; an answered information request is done.
    to = Status.REGISTERED if rtype == RequestType.ACTION else Status.CLOSED
    if to == Status.CLOSED:
        incident.customer_accepted = True if rtype == RequestType.INFORMATION else None
    touch(incident, actor, now)

    words = incident.description or incident.question or incident.title
    inbound = append_event(
        session,
        incident=incident,
        type_code=INBOUND_EVENT[Channel(incident.channel)],
        author_id=actor.id,
        text=words,
        contact_id=incident.contact_id,
        data=form.event_data,
        flush=False,
    )
    if rtype == RequestType.INFORMATION and incident.answer:
        system_event(
            session,
            incident=incident,
            kind=SystemEvent.FIELD,
            author_id=actor.id,
            text=f"answered: {incident.answer}",
            data={"field": "answer", "from": None, "to": incident.answer},
        )
    move(session, incident, to, actor=actor, system=True, now=now, change=None)
    if rtype == RequestType.ACTION:
        from cc_tui.services.routing.rules import apply_routing

        apply_routing(session, actor=actor, incident=incident, now=now)
    from cc_tui.services.sla.deadlines import apply_deadlines

    apply_deadlines(session, incident, now=now, author_id=actor.id)
    announce(session, incident, actor, "registered")
    result = IntakeResult(
        incident.id or 0, number(incident.id or 0), incident.status, incident.version, warnings
    )
    return result, inbound


def add_to_existing(
    session: Session,
    *,
    actor: Actor,
    target_ref: str | int,
    text: str,
    contact_id: int | None = None,
    caller_contact_id: int | None = None,
    event_type: str | None = None,
) -> IntakeResult:
    """Record the call as an event on an open incident instead of a duplicate.

    The contact record (if one was started) stays, closed and linked to the incident, so
    volume reports still count it.
    """
    if not text or not text.strip():
        raise UsageError("say what the caller said (the event text)", field="text")
    target = lock_incident(session, target_ref, None)
    if target.status not in OPEN_STATUSES and target.status != Status.SOLVED:
        raise RuleViolation(
            f"{number(target.id or 0)} is {target.status}; open a new incident instead"
        )
    channel = Channel.PHONE
    if contact_id is not None:
        draft = _draft(session, contact_id)
        channel = Channel(draft.channel)
        now = clock.now()
        draft.contact_ended_at = now
        draft.duplicate_of_id = target.id
        draft.customer_id = target.customer_id
        draft.title = f"Call added to {number(target.id or 0)}"
        system_event(
            session,
            incident=draft,
            kind=SystemEvent.LINK,
            author_id=actor.id,
            text=f"added to {number(target.id or 0)}",
            data={"field": "duplicate_of", "from": None, "to": number(target.id or 0)},
        )
        move(session, draft, Status.CLOSED, actor=actor, system=True, now=now, change="linked")
    event = append_event(
        session,
        incident=target,
        type_code=event_type or INBOUND_EVENT[channel],
        author_id=actor.id,
        text=text.strip(),
        contact_id=caller_contact_id,
        data={"contact": number(contact_id)} if contact_id else None,
    )
    # The owner taking the customer's call is a response (services/events.py decides).
    from cc_tui.models import EventType
    from cc_tui.services.incidents.timeline import stamp_first_response

    etype = session.get_one(EventType, event.event_type_id)
    stamp_first_response(target, etype, author_id=actor.id, at=event.at)
    incident_changed(session, target, actor, "event")
    return IntakeResult(
        target.id or 0,
        number(target.id or 0),
        target.status,
        target.version,
        [f"event {event.id} added"],
    )


def _contact_id(
    session: Session,
    *,
    actor: Actor,
    contact_id: int | None,
    channel: str,
    request_type: str,
    default_country: str,
    caller_phone: str | None = None,
    caller_email: str | None = None,
    caller_name: str | None = None,
    started_at: datetime | None = None,
) -> int:
    """The contact in progress; one is recorded now when there is none yet (the database
    was away when the call was taken, or a script reports the call afterwards), starting
    when the call did."""
    if contact_id is not None:
        return contact_id
    return open_contact(
        session,
        actor=actor,
        channel=channel,
        request_type=request_type,
        caller_phone=caller_phone,
        caller_email=caller_email,
        caller_name=caller_name,
        default_country=default_country,
        started_at=started_at,
    ).id


def save_call(
    session: Session,
    *,
    actor: Actor,
    channel: str,
    form: IntakeForm,
    contact_id: int | None = None,
    default_country: str = "DE",
    kb_search_required: bool = False,
    started_at: datetime | None = None,
) -> IntakeResult:
    """Save the call as an incident (`save_intake`): the call in progress (`contact_id`),
    or contact and incident in one step (scripts, the CTI bridge, the mail reader), its
    contact recorded with the caller's details from the form (`started_at`: when the call
    began)."""
    draft_id = _contact_id(
        session,
        actor=actor,
        contact_id=contact_id,
        channel=channel,
        request_type=form.request_type,
        default_country=default_country,
        started_at=started_at,
        caller_phone=form.caller_phone,
        caller_email=form.caller_email,
        caller_name=form.caller_name,
    )
    return save_intake(
        session,
        actor=actor,
        contact_id=draft_id,
        form=form,
        default_country=default_country,
        kb_search_required=kb_search_required,
    )


def add_call_to_incident(
    session: Session,
    *,
    actor: Actor,
    target_ref: str | int,
    text: str,
    channel: str,
    contact_id: int | None = None,
    request_type: str = RequestType.ACTION,
    caller_contact_id: int | None = None,
    caller_phone: str | None = None,
    caller_email: str | None = None,
    default_country: str = "DE",
    started_at: datetime | None = None,
) -> IntakeResult:
    """Add this call to an open incident (`add_to_existing`): the call's contact, recorded
    now when there is none yet, is closed and linked to the incident."""
    if text and text.strip():
        contact_id = _contact_id(
            session,
            actor=actor,
            contact_id=contact_id,
            channel=channel,
            request_type=request_type,
            default_country=default_country,
            started_at=started_at,
            caller_phone=caller_phone,
            caller_email=caller_email,
        )
    return add_to_existing(
        session,
        actor=actor,
        target_ref=target_ref,
        text=text,
        contact_id=contact_id,
        caller_contact_id=caller_contact_id,
    )


def abandon_call(
    session: Session,
    *,
    actor: Actor,
    contact_id: int | None,
    channel: str,
    request_type: str = RequestType.ACTION,
    default_country: str = "DE",
    started_at: datetime | None = None,
    caller: CallerSeen | None = None,
    note: str | None = None,
) -> IntakeResult:
    """End the call without saving (`abandon_contact`), keeping who called (`caller`) and
    why it ended (`note`, e.g. the refusal of a blocked customer); a contact never
    recorded (the database was away) is recorded now, as abandoned."""
    draft_id = _contact_id(
        session,
        actor=actor,
        contact_id=contact_id,
        channel=channel,
        request_type=request_type,
        default_country=default_country,
        started_at=started_at,
    )
    return abandon_contact(
        session,
        actor=actor,
        contact_id=draft_id,
        note=_clean(note),
        caller=caller,
        default_country=default_country,
    )


def existing_incidents(
    session: Session,
    *,
    customer_id: int | None = None,
    contact_id: int | None = None,
    unit_id: int | None = None,
    limit: int = 20,
) -> list[IncidentRow]:
    """Open incidents of a caller (customer, contact or unit), newest first."""
    conditions: list[ColumnElement[bool]] = []
    if customer_id is not None:
        conditions.append(col(Incident.customer_id) == customer_id)
    if contact_id is not None:
        conditions.append(col(Incident.contact_id) == contact_id)
    if unit_id is not None:
        conditions.append(col(Incident.unit_id) == unit_id)
    if not conditions:
        return []
    ids = session.scalars(
        select(col(Incident.id))
        .where(or_(*conditions), col(Incident.status).in_(OPEN_STATUSES))
        .order_by(col(Incident.id).desc())
        .limit(limit)
    ).all()
    if not ids:
        return []
    return list_incidents(session, ids=[i for i in ids if i is not None], limit=limit)


# --- the pieces -----------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None


def _keep_caller(
    session: Session, incident: Incident, caller: CallerSeen, default_country: str
) -> None:
    """The caller identified so far, on an abandoned contact (what is unknown stays)."""
    if caller.customer_id is not None and session.get(Customer, caller.customer_id) is not None:
        incident.customer_id = caller.customer_id
    if caller.contact_id is not None:
        person = session.get(Contact, caller.contact_id)
        if person is not None and person.customer_id == incident.customer_id:
            incident.contact_id = person.id
    incident.caller_name = _clean(caller.name) or incident.caller_name
    phone = _clean(caller.phone)
    if phone:
        incident.caller_phone = phone
        incident.caller_phone_e164 = normalize_phone(phone, default_country, strict=False)
    incident.caller_email = _clean(caller.email) or incident.caller_email


# session.info key: the contacts opened in this transaction (its root transaction, id ->
# row), so saving one right after needs no read: no other transaction sees, let alone
# locks, a row not yet committed.
_OPENED_KEY = "cc_tui.opened_contacts"


def _draft(session: Session, contact_id: int) -> Incident:
    opened_here = session.info.get(_OPENED_KEY)
    opened: Incident | None = None
    if opened_here is not None and opened_here[0] is session.get_transaction():
        opened = opened_here[1].get(contact_id)
    if opened is not None and inspect(opened).persistent and inspect(opened).session is session:
        incident = opened
    else:
        incident = lock_incident(session, contact_id, None)
    if incident.status != Status.DRAFT:
        raise RuleViolation(
            f"{number(incident.id or 0)} is {incident.status}, not a contact in progress"
        )
    return incident


def _identify(
    session: Session, form: IntakeForm, default_country: str
) -> tuple[Customer | None, Contact | None, Unit | None]:
    """The customer, contact and unit the form names, checked to belong together."""
    customer = None
    if form.customer_id is not None:
        customer = session.get(Customer, form.customer_id)
        if customer is None:
            raise NotFound(f"no customer with id {form.customer_id}", field="customer")
    contact = None
    if form.contact_id is not None:
        contact = session.get(Contact, form.contact_id)
        if contact is None:
            raise NotFound(f"no contact person with id {form.contact_id}", field="contact")
        if customer is None:
            customer = session.get(Customer, contact.customer_id)
        elif contact.customer_id != customer.id:
            raise RuleViolation(
                f"contact {contact.name} belongs to another customer", field="contact"
            )
    unit = None
    if form.serial and form.serial.strip():
        unit = session.scalars(
            select(Unit).where(col(Unit.serial) == form.serial.strip().upper())
        ).first()
        if unit is None:
            raise NotFound(f"no unit with serial number {form.serial.strip()!r}", field="serial")
        if customer is None:
            customer = session.get(Customer, unit.customer_id)
        elif unit.customer_id != customer.id:
            raise RuleViolation(f"unit {unit.serial} belongs to another customer", field="serial")
    if customer is None and (form.caller_phone or form.caller_email):
        customer, found_contact = _customer_by_address(session, form, default_country)
        contact = contact or found_contact
    return customer, contact, unit


def _customer_by_address(
    session: Session, form: IntakeForm, default_country: str
) -> tuple[Customer | None, Contact | None]:
    """The one customer whose phone or e-mail (or a contact's) is exactly the caller's."""
    found: dict[int | None, Contact | None] = {}
    if form.caller_phone:
        e164 = normalize_phone(form.caller_phone, default_country)
        for cid in session.scalars(
            select(col(Customer.id)).where(
                or_(col(Customer.phone_e164) == e164, col(Customer.fax_e164) == e164)
            )
        ):
            found.setdefault(cid, None)
        for contact in session.scalars(
            select(Contact).where(
                or_(col(Contact.phone_e164) == e164, col(Contact.mobile_e164) == e164)
            )
        ):
            found[contact.customer_id] = contact
    if form.caller_email:
        key = email_key(form.caller_email)
        for cid in session.scalars(select(col(Customer.id)).where(col(Customer.email_key) == key)):
            found.setdefault(cid, None)
        for contact in session.scalars(select(Contact).where(col(Contact.email_key) == key)):
            found[contact.customer_id] = contact
    if len(found) > 1:
        raise UsageError(
            f"{len(found)} customers share that phone/e-mail; choose one by --customer",
            field="customer",
        )
    if not found:
        return None, None
    customer_id, caller = next(iter(found.items()))
    return session.get(Customer, customer_id), caller


def _block_check(customer: Customer, rtype: RequestType) -> list[str]:
    if customer.block_level == BlockLevel.BLOCK:
        if rtype == RequestType.ACTION:
            reason = (customer.block_reason or "").rstrip(".")
            raise RuleViolation(
                f"{customer.name} is blocked: {reason}. Tell the customer; "
                "information requests and comments can still be recorded",
                field="customer",
            )
        return [f"customer blocked: {customer.block_reason}"]
    if customer.block_level == BlockLevel.WARN:
        return [f"customer warning: {customer.block_reason}"]
    return []


def _required_fields(form: IntakeForm, rtype: RequestType) -> None:
    if rtype == RequestType.ACTION:
        if not (_clean(form.title) or _clean(form.description)):
            raise UsageError("an action request needs a title or a description", field="title")
        if not _clean(form.reason):
            raise UsageError("an action request needs a reason code", field="reason")
    elif rtype == RequestType.INFORMATION:
        if not _clean(form.question):
            raise UsageError("an information request needs the question asked", field="question")
        if not _clean(form.answer):
            raise UsageError("an information request needs the answer given", field="answer")
    elif not (_clean(form.description) or _clean(form.title)):
        raise UsageError("a comment needs its text", field="description")


def _title_from(form: IntakeForm, rtype: RequestType) -> str | None:
    source = form.description or form.question
    if not source:
        return None
    first = source.strip().splitlines()[0]
    return first[:120]


def _attach_unit(session: Session, incident: Incident, unit: Unit) -> list[str]:
    """Attach the unit with its warranty, contract and subcontract as of today."""
    from cc_tui.services.directory.units import unit_info

    info = unit_info(session, stored_id(unit))
    incident.unit_id = unit.id
    incident.under_warranty = info.under_warranty
    incident.contract_id = info.contract.id if info.contract and info.contract.active_now else None
    incident.subcontract_id = info.subcontract.id if info.subcontract else None
    notes = []
    if info.subcontract is not None:
        notes.append(
            f"unit under subcontract {info.subcontract.code} ({info.subcontract.subcontractor})"
        )
    return notes


def _reason_ids(session: Session, path: str) -> tuple[int | None, int | None]:
    general, specific = resolve_pair(session, CodeKind.REASON, path)
    return general.id, specific.id if specific else None


def _classify(session: Session, incident: Incident, form: IntakeForm, rtype: RequestType) -> None:
    from cc_tui.services.sla.priorities import default_priority_for, resolve_priority

    if form.reason and form.reason.strip():
        incident.reason_general_id, incident.reason_specific_id = per_batch.shared(
            ("reason", form.reason), lambda: _reason_ids(session, form.reason or "")
        )
    if form.request_kind and form.request_kind.strip():
        incident.request_type_code_id = resolve_code(
            session, CodeKind.REQUEST_TYPE, form.request_kind
        ).id
    if form.problem_code and form.problem_code.strip():
        problem = resolve_code(session, CodeKind.PROBLEM, form.problem_code)
        incident.problem_code_id = problem.id
        incident.department_id = incident.department_id or problem.department_id
    if form.responsible and form.responsible.strip():
        agent = session.scalars(
            select(Agent).where(col(Agent.login) == form.responsible.strip())
        ).first()
        if agent is None:
            raise NotFound(f"no agent {form.responsible.strip()!r}", field="responsible")
        incident.responsible_id = agent.id
    priority = None
    if form.priority and form.priority.strip():
        priority = resolve_priority(session, form.priority.strip())
    elif rtype == RequestType.ACTION:
        priority = default_priority_for(
            session, contract_id=incident.contract_id, customer_id=incident.customer_id
        )
        if priority is None:
            raise UsageError(
                "an action request needs a priority (no contract, customer or system default)",
                field="priority",
            )
    if priority is not None:
        incident.priority_id = priority.id
        incident.priority_rank = priority.rank
