"""An agent's e-mail to the caller, written from the incident.

`draft` gives what the reply dialog starts from: the caller's address, a subject, the
greeting of the `reply` template (in the customer's language) and the incident's thread
quoted below it. `send_reply` writes the e-mail as an EmailOut event on the timeline (the
first one stamps the first response, so the response deadline is met) and queues it in the
outbox in the same transaction; the sender sends it like every notification, threaded to
the incident (In-Reply-To the customer's last message, the incident number in the
subject), but without the automatic-message headers: a person wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from sqlmodel import Session

from cc_tui import clock
from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import Notification
from cc_tui.models.base import stored_id
from cc_tui.models.enums import NotificationChannel, NotificationStatus
from cc_tui.normalize import validate_email
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import get_incident, number
from cc_tui.services.incidents.timeline import add_event_to_incident, timeline
from cc_tui.services.notify import outbox, suppression, templates
from cc_tui.services.notify.sender import REPLY, message_id

EVENT_TYPE = "EmailOut"
# Contact events quoted below the greeting, newest first.
QUOTED = 5
MAX_BODY = 100_000


@dataclass(frozen=True)
class ReplyDraft:
    incident: str
    to: str | None
    subject: str
    greeting: str
    quoted: str

    @property
    def body(self) -> str:
        """The text the agent starts from: the greeting, then the quoted thread."""
        return self.greeting.rstrip("\n") + "\n\n" + self.quoted if self.quoted else self.greeting


@dataclass(frozen=True)
class ReplyResult:
    incident: str
    to: str
    subject: str
    outbox_id: int
    event_id: int
    message_id: str | None
    status: str
    first_response: bool
    first_response_at: datetime | None
    version: int


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def quoted_thread(session: Session, ref: str | int) -> str:
    """The incident's customer contacts, newest first, quoted (its description when it
    has none yet)."""
    incident = get_incident(session, ref)
    page = timeline(
        session, ref=stored_id(incident), kind="contact", newest_first=True, limit=QUOTED
    )
    parts = []
    for entry in page.events:
        if not entry.text:
            continue
        inbound = entry.direction == "inbound"
        who = (
            (entry.contact_name or incident.caller_name or "the customer")
            if inbound
            else (entry.author_name)
        )
        parts.append(
            f"On {entry.at:%Y-%m-%d %H:%M} UTC, {who} ({entry.type_name}):\n{_quote(entry.text)}"
        )
    if not parts:
        first = incident.description or incident.question or incident.title
        if first:
            parts.append(f"Your request {number(stored_id(incident))}:\n{_quote(first)}")
    return "\n\n".join(parts) + ("\n" if parts else "")


def draft(
    session: Session, ref: str | int, *, agent: str | None = None, folder: Path | None = None
) -> ReplyDraft:
    """What the reply dialog starts from (nothing is written)."""
    incident = get_incident(session, ref)
    how = outbox.reach_of(session, incident)
    rendered = templates.render(
        REPLY,
        templates.context(session, incident, agent=agent),
        folder,
        templates.language_of(session, incident),
    )
    return ReplyDraft(
        incident=number(stored_id(incident)),
        to=how.email,
        subject=rendered.subject,
        greeting=rendered.body,
        quoted=quoted_thread(session, stored_id(incident)),
    )


def send_reply(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    body: str,
    to: str | None = None,
    subject: str | None = None,
    sender: str | None = None,
    expected_version: int | None = None,
) -> ReplyResult:
    """Write the reply on the timeline and queue it (one transaction: both or neither).
    `to` defaults to the caller's address; `sender` (the [smtp] from) fixes the
    Message-ID now, else the sender chooses it when it sends."""
    text = (body or "").replace("\r\n", "\n")
    if not text.strip():
        raise UsageError("the reply is empty", field="body")
    if len(text) > MAX_BODY:
        raise UsageError(f"the reply is longer than {MAX_BODY} characters", field="body")
    incident = get_incident(session, ref)
    label = number(stored_id(incident))
    address = to if to is not None else outbox.reach_of(session, incident).email
    if not address or not address.strip():
        raise UsageError(
            f"{label} has no e-mail address for the caller: give one with --to", field="to"
        )
    address = validate_email(address)
    own = {parseaddr(sender)[1].lower()} if sender else set()
    if address.lower() in own:
        raise RuleViolation(f"{address} is our own address", field="to")
    held = suppression.suppressed(session, [address])
    if held:
        until = next(iter(held.values()))
        raise RuleViolation(
            f"{address} is suppressed until {until:%Y-%m-%d %H:%M} UTC (it bounced); "
            "`cc-tui notify unsuppress` lifts it",
            field="to",
        )
    title = (subject or "").strip() or (
        f"Re: {incident.title}" if incident.title else f"Your request {label}"
    )
    if len(title) > 450:
        raise UsageError("the subject is longer than 450 characters", field="subject")
    event = add_event_to_incident(
        session,
        actor=actor,
        ref=stored_id(incident),
        type_code=EVENT_TYPE,
        text=f"To {address}: {title}\n\n{text.strip()}",
        expected_version=expected_version,
    )
    now = clock.now()
    row = Notification(
        channel=NotificationChannel.EMAIL.value,
        reason=REPLY,
        incident_id=incident.id,
        recipient=address,
        subject=title,
        body=text.strip() + "\n",
        status=NotificationStatus.QUEUED.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        idempotency_key=outbox.idempotency_key(
            stored_id(incident), f"{REPLY}:{event.id}", NotificationChannel.EMAIL.value, address
        ),
    )
    session.add(row)
    session.flush()
    if sender:
        row.message_id = message_id(stored_id(row), incident.id, sender)
        session.flush()
    return ReplyResult(
        incident=label,
        to=address,
        subject=title,
        outbox_id=stored_id(row),
        event_id=event.id,
        message_id=row.message_id,
        status=row.status,
        first_response=event.first_response,
        first_response_at=event.first_response_at,
        version=event.version,
    )
