"""The demo's recent activity: calls, e-mail and customer notifications of the last days,
made by the product's own services, so the caller log (F8), the outbox (F9), the mail
quarantine (F10) and the incidents' e-mail threads have something to show.

A short story is replayed at the moments it happens (minutes before the load), each step
in its own transaction, as the telephone bridge, the mail reader, the notification sender
and the agents at their consoles would make it:

- calls logged by `services/cti/calls.py` (ringing for the service desk's queue, answered
  or missed, the caller identified by number; two are taken into intake: one added to the
  caller's open incident, one saved as an answered question);
- a mailbox `support` (a loopback IMAP URL, no password: nothing is ever fetched) and its
  messages filed by `services/mail/intake.receive`, as `cc-tui mail import` and
  `mail fetch` file them: requests from known contacts (one with an attachment), one from
  an unknown sender, an auto-reply and a customer's answer that thread onto their
  incidents, and two messages that end in the quarantine with their reason;
- the outbox rows those registrations and an agent's replies queue
  (`services/notify/outbox.py`, `replies.py`), sent by `services/notify/sender.send_due`
  through `PostOffice`, the demo's stand-in for an SMTP server (nothing leaves the
  machine): most are sent, one is refused for good (failed, with the server's answer),
  one is greylisted (waiting for its next try) and the newest wait for the next pass.

While the story runs the program's clock (`cc_tui.clock`) reads the story's moment; it is
put back afterwards. Everything is chosen by a seeded `random.Random` from the base set's
customers, so the same database and moment give the same rows. The layer is loaded once,
marked by the demo's change-feed row `activity`, before any scale layer (so the totals
`--incidents N` asks for still hold).
"""

from __future__ import annotations

import random
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr, parseaddr

from sqlalchemy import func
from sqlmodel import Session, col, select

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.db.engine import Database
from cc_tui.demo import data as D
from cc_tui.models import Agent, Contact, Customer, Department, Event, Incident, Notification
from cc_tui.models.enums import OPEN_STATUSES
from cc_tui.services.context import Actor, resolve_actor

MARKER_ENTITY = "demo"
MARKER = "activity"
MAILBOX = "support"
ADDRESS = f"support@{D.COMPANY_DOMAIN}"
# Loopback, no password and deactivated: a demo mailbox `mail fetch` reads only once an
# admin activates it and an IMAP server on this machine serves it (with
# CC_TUI_MAIL_PASSWORD_SUPPORT set).
MAILBOX_URL = f"imap://{ADDRESS.replace('@', '%40')}@localhost:1143/INBOX"
SENDER = formataddr((f"{D.COMPANY} Service Desk", ADDRESS))
DEPARTMENT = "SD"
MAIL_REASON = "SVC"

Say = Callable[[str], None]


class PostOffice:
    """The demo's SMTP server: it accepts every message but those to the addresses it was
    told to refuse (with that SMTP answer), and keeps what it accepted in `delivered`."""

    def __init__(self, refuse: dict[str, tuple[int, str]] | None = None) -> None:
        self.refuse = {k.lower(): v for k, v in (refuse or {}).items()}
        self.delivered: list[Message] = []

    def send(self, message: Message) -> None:
        address = parseaddr(str(message["To"] or ""))[1].lower()
        if address in self.refuse:
            code, text = self.refuse[address]
            raise smtplib.SMTPRecipientsRefused({address: (code, text.encode())})
        self.delivered.append(message)

    def close(self) -> None:
        pass


class _Replay:
    """What `clock.now()` reads while the story runs: the story's current moment."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def _replaying(start: datetime) -> Iterator[_Replay]:
    replay = _Replay(start)
    before = clock.source
    clock.source = replay
    try:
        yield replay
    finally:
        clock.source = before


@dataclass
class _Story:
    """The steps, each at its moment; run in time order (a stable sort keeps the order
    of steps given for one moment)."""

    steps: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        self.steps.append((when, len(self.steps), step))

    def run(self, replay: _Replay) -> None:
        for when, _n, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            replay.at = when
            step()


@dataclass(frozen=True)
class _Caller:
    customer_id: int
    contact_id: int
    name: str
    email: str | None
    phone: str | None
    country: str


def loaded(session: Session) -> bool:
    from cc_tui.models import Change

    return bool(
        session.scalar(
            select(func.count())
            .select_from(Change)
            .where(col(Change.entity) == MARKER_ENTITY, col(Change.action) == MARKER)
        )
    )


def load_activity(db: Database, *, login: str, moment: datetime, seed: int, say: Say) -> bool:
    """Replay the story once (False: this database has it already)."""
    with db.session() as session:
        if loaded(session):
            return False
        admin = resolve_actor(session, login)
        # The telephone bridge and the mail reader run as whoever loads the demo (an admin,
        # as `cti serve` and `mail fetch` run as the login a cron job signs in with).
        system = admin
        desk = _desk_agents(session)
        callers = _callers(session)
        blocked = _blocked_caller(session)
        first_add = max(m for m, _r, _t, _w, what in D.CALLS if what == "add")
        quiet = _quiet_open_incidents(session, moment - timedelta(minutes=first_add))
    if len(desk) < 3 or not callers or blocked is None or not quiet:
        return False  # not the demo's organisation: nothing to tell a story with
    rng = random.Random(seed * 31 + 7)
    story = _Story()
    with _replaying(moment - timedelta(days=4)) as replay:
        _mailbox(db, admin)
        _calls(db, story, rng, moment, system, desk, callers, quiet)
        _mail(db, story, rng, moment, system, desk[0], callers, blocked)
        story.run(replay)
    with db.session() as session:
        record_change(session, entity=MARKER_ENTITY, action=MARKER, entity_id=len(story.steps))
    say("calls, e-mail and notifications ready")
    return True


# --- who ------------------------------------------------------------------------------------


def _desk_agents(session: Session) -> list[Actor]:
    """The service desk's agents (its queue rings for them), by login."""
    logins = session.scalars(
        select(col(Agent.login))
        .join(Department, col(Department.id) == col(Agent.department_id))
        .where(
            col(Department.code) == DEPARTMENT,
            col(Agent.role) == "agent",
            col(Agent.active).is_(True),
        )
        .order_by(col(Agent.login))
    ).all()
    return [resolve_actor(session, login) for login in logins]


def _callers(session: Session) -> list[_Caller]:
    """Contact persons of customers that are not flagged, with a phone and an address."""
    rows = session.execute(
        select(Contact, col(Customer.country))
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .where(
            col(Customer.block_level) == "none",
            col(Contact.email).is_not(None),
            col(Contact.phone_e164).is_not(None),
        )
        .order_by(col(Contact.id))
    ).all()
    return [
        _Caller(c.customer_id, c.id or 0, c.name, c.email, c.phone_e164, country or "DE")
        for c, country in rows
    ]


def _blocked_caller(session: Session) -> _Caller | None:
    row = session.execute(
        select(Contact, col(Customer.country))
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .where(col(Customer.block_level) == "block", col(Contact.email).is_not(None))
        .order_by(col(Contact.id))
    ).first()
    if row is None:
        return None
    c, country = row
    return _Caller(c.customer_id, c.id or 0, c.name, c.email, c.phone_e164, country or "DE")


def _mailbox(db: Database, admin: Actor) -> None:
    from cc_tui.models import Mailbox
    from cc_tui.services.mail.mailboxes import add_mailbox, set_mailbox_active

    with db.session() as session:
        if session.scalar(select(Mailbox).where(col(Mailbox.name) == MAILBOX)) is None:
            add_mailbox(
                session,
                actor=admin,
                name=MAILBOX,
                url=MAILBOX_URL,
                department=DEPARTMENT,
                reason=MAIL_REASON,
            )
            # Nothing serves it: `mail fetch` passes it by until an admin activates it.
            set_mailbox_active(session, actor=admin, name=MAILBOX, active=False)


# --- calls ----------------------------------------------------------------------------------


def _calls(
    db: Database,
    story: _Story,
    rng: random.Random,
    moment: datetime,
    system: Actor,
    desk: list[Actor],
    callers: list[_Caller],
    quiet: list[tuple[_Caller, int]],
) -> None:
    """The calls of `data_files/activity.yaml`: the queue rings for three desk agents, one
    answers (or nobody: missed), the call ends; two are taken into intake."""
    chosen = rng.sample(callers, len(D.CALLS))
    for n, (minutes, ringing, talking, who, what) in enumerate(D.CALLS):
        start = moment - timedelta(minutes=minutes)
        agents = rng.sample(desk, 3)
        caller, target = chosen[n], 0
        if what == "add":
            caller, target = rng.choice(quiet)
        if who == "contact":
            number = caller.phone or ""
        elif who == "unknown":
            number = f"+49 151 {rng.randrange(10**7, 10**8)}"
        else:
            number = "anonymous"
        call_id = f"demo-{moment:%Y%m%d%H%M}-{n + 1:02d}"
        base = {"callId": call_id, "from": number, "to": "+49 40 5550 100", "direction": "in"}
        logins = [a.login for a in agents]
        ring = {**base, "event": "newCall", "user[]": logins, "queue": DEPARTMENT}
        story.at(start, _event(db, system, ring))
        answered = start + timedelta(seconds=ringing)
        if talking:
            story.at(
                answered, _event(db, system, {**base, "event": "answer", "user[]": [logins[0]]})
            )
            end = answered + timedelta(minutes=talking)
            cause = "normalClearing"
        else:
            end = answered
            cause = "cancel"
        story.at(end, _event(db, system, {**base, "event": "hangup", "cause": cause}))
        if what in ("add", "info"):
            taken: dict = {}
            story.at(answered + timedelta(seconds=5), _take(db, agents[0], call_id, taken))
            if what == "add":
                finish = _add_to_open(db, agents[0], taken, target)
            else:
                finish = _answer(db, agents[0], taken)
            story.at(end + timedelta(seconds=40), finish)


def _event(db: Database, system: Actor, fields: dict) -> Callable[[], None]:
    from cc_tui.services.cti.calls import CallEvent, record_event

    def step() -> None:
        with db.session() as session:
            record_event(session, actor=system, event=CallEvent.parse(fields))

    return step


def _take(db: Database, agent: Actor, call_id: str, taken: dict) -> Callable[[], None]:
    """The agent takes the ringing call into intake (a contact on channel CTI)."""
    from cc_tui.models import PhoneCall
    from cc_tui.services.cti.calls import take_call

    def step() -> None:
        with db.session() as session:
            call = session.scalars(select(PhoneCall).where(col(PhoneCall.call_id) == call_id)).one()
            taken["call"] = take_call(session, actor=agent, call=call.id or 0)

    return step


def _add_to_open(db: Database, agent: Actor, taken: dict, target: int) -> Callable[[], None]:
    """At the call's end the agent adds it to the caller's open incident."""
    from cc_tui.services.incidents.intake import add_to_existing

    def step() -> None:
        call = taken["call"]
        with db.session() as session:
            add_to_existing(
                session,
                actor=agent,
                target_ref=target,
                text=D.CALL_NOTES["add"],
                contact_id=call.contact.id,
                caller_contact_id=call.contact_id,
            )

    return step


def _quiet_open_incidents(session: Session, before: datetime) -> list[tuple[_Caller, int]]:
    """Open incidents of unflagged customers whose contact person has a phone and whose
    timeline is quiet since before `before` (a call added then reads in time order)."""
    last = (
        select(func.max(col(Event.at)))
        .where(col(Event.incident_id) == col(Incident.id))
        .scalar_subquery()
    )
    rows = session.execute(
        select(col(Incident.id), Contact, col(Customer.country))
        .join(Contact, col(Contact.id) == col(Incident.contact_id))
        .join(Customer, col(Customer.id) == col(Incident.customer_id))
        .where(
            col(Incident.status).in_(OPEN_STATUSES),
            col(Customer.block_level) == "none",
            col(Contact.phone_e164).is_not(None),
            last < before,
        )
        .order_by(col(Incident.id))
    ).all()
    return [
        (_Caller(c.customer_id, c.id or 0, c.name, c.email, c.phone_e164, country), iid)
        for iid, c, country in rows
    ]


def _answer(db: Database, agent: Actor, taken: dict) -> Callable[[], None]:
    """At the call's end the agent saves it as an answered question (closed at once)."""
    from cc_tui.services.incidents.intake import IntakeForm, save_intake

    def step() -> None:
        call = taken["call"]
        with db.session() as session:
            save_intake(
                session,
                actor=agent,
                contact_id=call.contact.id,
                form=IntakeForm(
                    request_type="information",
                    customer_id=call.customer_id,
                    contact_id=call.contact_id,
                    question=D.CALL_NOTES["question"],
                    answer=D.CALL_NOTES["answer"],
                    reason="INFO/HOWTO",
                ),
            )

    return step


# --- e-mail and the outbox ------------------------------------------------------------------


def _message_id(key: str, moment: datetime, domain: str) -> str:
    return f"<{key}.{moment:%Y%m%d%H%M}@{domain}>"


def _raw(
    *,
    sender: str,
    subject: str,
    body: str,
    at: datetime,
    message_id: str,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, str] | None = None,
) -> bytes:
    """A message as a customer's mail program writes it (the boundary fixed: the same
    bytes every time)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SENDER
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body + "\n")
    if attachment is not None:
        filename, text = attachment
        msg.add_attachment(
            (text + "\n").encode("utf-8"), maintype="text", subtype="csv", filename=filename
        )
        msg.set_boundary(f"demo-{message_id.strip('<>').split('@')[0]}")
    return msg.as_bytes()


def _receive(
    db: Database, system: Actor, raw: Callable[[], bytes], filed: dict
) -> Callable[[], None]:
    """The mail reader files one message of the `support` mailbox."""
    from cc_tui.services.mail.intake import receive
    from cc_tui.services.mail.mailboxes import defaults_of

    def step() -> None:
        with db.session() as session:
            outcome = receive(
                session,
                actor=system,
                raw=raw(),
                defaults=defaults_of(session, MAILBOX),
                source=f"{MAILBOX}/INBOX",
            )
        filed["outcome"] = outcome

    return step


def _send_pass(db: Database, office: PostOffice) -> Callable[[], None]:
    """`notify send`: one pass of the sender over the due outbox rows."""
    from cc_tui.services.notify.sender import send_due

    def step() -> None:
        send_due(db, office, sender=SENDER)

    return step


def _sent_id(db: Database, incident: str, reason: str) -> str:
    """The Message-ID the sender gave the incident's latest message of `reason`."""
    from cc_tui.services.incidents.base import get_incident

    with db.session(write=False) as session:
        found = get_incident(session, incident)
        mid = session.scalar(
            select(col(Notification.message_id))
            .where(
                col(Notification.incident_id) == found.id,
                col(Notification.reason) == reason,
                col(Notification.message_id).is_not(None),
            )
            .order_by(col(Notification.id).desc())
            .limit(1)
        )
    if mid is None:
        raise LookupError(f"the demo story expected a sent {reason} message on {incident}")
    return mid


def _reply(db: Database, agent: Actor, filed: dict, body: str) -> Callable[[], None]:
    """The incident's owner (else `agent`) answers the caller by e-mail from the incident
    (R on its screen)."""
    from cc_tui.services.incidents.base import get_incident
    from cc_tui.services.notify.replies import send_reply

    def step() -> None:
        with db.session() as session:
            incident = get_incident(session, filed["outcome"].incident)
            owner = session.get(Agent, incident.owner_id) if incident.owner_id else None
            who = resolve_actor(session, owner.login) if owner is not None else agent
            send_reply(session, actor=who, ref=incident.id or 0, body=body, sender=SENDER)

    return step


def _mail(
    db: Database,
    story: _Story,
    rng: random.Random,
    moment: datetime,
    system: Actor,
    agent: Actor,
    callers: list[_Caller],
    blocked: _Caller,
) -> None:
    """The mailbox's day, as described in the module's docstring."""
    mails = D.MAILS
    domain = D.COMPANY_DOMAIN

    def at(minutes: int) -> datetime:
        return moment - timedelta(minutes=minutes)

    def mid(key: str) -> str:
        return _message_id(f"demo-{key}", moment, domain)

    people: dict[str, _Caller] = {}
    for key in ("printer", "vpn", "heating", "access"):
        country = mails[key]["country"]
        pool = [c for c in callers if c.country == country and c not in people.values()]
        people[key] = rng.choice(pool or callers)
    filed: dict[str, dict] = {key: {} for key in mails}
    quote_sender = parseaddr(mails["quote"]["sender"])[1]
    office = PostOffice(
        refuse={
            quote_sender: (550, f"5.2.1 <{quote_sender}>: mailbox disabled"),
            people["access"].email or "": (451, "4.7.1 Greylisted, please try again later"),
        }
    )

    def request(key: str, minutes: int) -> None:
        """A new request from a known contact."""
        who, mail = people[key], mails[key]
        attachment = (mail["attachment"], mail["attachment_text"]) if "attachment" in mail else None
        story.at(
            at(minutes),
            _receive(
                db,
                system,
                lambda: _raw(
                    sender=formataddr((who.name, who.email or "")),
                    subject=mail["subject"],
                    body=mail["body"],
                    at=at(minutes),
                    message_id=mid(key),
                    attachment=attachment,
                ),
                filed[key],
            ),
        )

    def scanner() -> bytes:
        mail = mails["scanner"]
        return (
            f"{mail['header']}\r\nTo: {ADDRESS}\r\nSubject: {mail['subject']}\r\n"
            f"Date: {format_datetime(at(290))}\r\nMessage-ID: {mid('scanner')}\r\n"
            f"\r\n{mail['body']}\r\n"
        ).encode()

    def quote() -> bytes:
        mail = mails["quote"]
        return _raw(
            sender=mail["sender"],
            subject=mail["subject"],
            body=mail["body"],
            at=at(240),
            message_id=mid("quote"),
        )

    def out_of_office() -> bytes:
        number = filed["vpn"]["outcome"].incident
        ack = _sent_id(db, number, "registered")
        mail = mails["out_of_office"]
        who = people["vpn"]
        return _raw(
            sender=formataddr((who.name, who.email or "")),
            subject=mail["subject"].format(number=number, title=mails["vpn"]["subject"]),
            body=mail["body"],
            at=at(215),
            message_id=mid("out-of-office"),
            headers={"In-Reply-To": ack, "References": ack, "Auto-Submitted": "auto-replied"},
        )

    def answer() -> bytes:
        number = filed["printer"]["outcome"].incident
        ours = _sent_id(db, number, "reply")
        mail = mails["printer_answer"]
        who = people["printer"]
        quoted = "\n".join(
            f"> {line}" if line else ">" for line in D.REPLIES["printer"].split("\n")
        )
        return _raw(
            sender=formataddr((who.name, who.email or "")),
            subject=mail["subject"].format(number=number),
            body=f"{mail['body']}\n\n{format_datetime(at(185))} schrieb {SENDER}:\n{quoted}",
            at=at(160),
            message_id=mid("printer-answer"),
            headers={"In-Reply-To": ours, "References": f"{mid('printer')} {ours}"},
        )

    def from_blocked() -> bytes:
        mail = mails["blocked"]
        return _raw(
            sender=formataddr((blocked.name, blocked.email or "")),
            subject=mail["subject"],
            body=mail["body"],
            at=at(130),
            message_id=mid("blocked"),
        )

    story.at(at(290), _receive(db, system, scanner, filed["scanner"]))
    request("printer", 280)
    story.at(at(275), _send_pass(db, office))
    request("vpn", 250)
    story.at(at(240), _receive(db, system, quote, filed["quote"]))
    story.at(at(235), _send_pass(db, office))
    story.at(at(215), _receive(db, system, out_of_office, filed["out_of_office"]))
    story.at(at(190), _reply(db, agent, filed["printer"], D.REPLIES["printer"]))
    story.at(at(185), _send_pass(db, office))
    story.at(at(160), _receive(db, system, answer, filed["printer_answer"]))
    story.at(at(130), _receive(db, system, from_blocked, filed["blocked"]))
    request("heating", 100)
    story.at(at(95), _send_pass(db, office))
    request("access", 20)
    story.at(at(3), _send_pass(db, office))
    story.at(at(2), _reply(db, agent, filed["vpn"], D.REPLIES["vpn"]))
