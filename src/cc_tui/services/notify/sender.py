"""The sender: claims due e-mail rows of the outbox, sends them over SMTP, marks them.

One pass (`send_due`):

1. claim: in a short write transaction, take up to `limit` queued rows that are due
   (FOR UPDATE SKIP LOCKED on PostgreSQL, so two senders never take the same row; SQLite
   has one writer at a time), count the attempt, push `next_attempt_at` to the back-off
   of that attempt (which doubles as a lease while it is being sent) and fix its
   Message-ID; render each message;
2. send each one with no transaction open;
3. mark them, `MARK_EVERY` to a short transaction: sent, or the error kept and, after
   `MAX_ATTEMPTS` tries or a permanent refusal, failed; an address the server refused
   for good goes on the suppression list (`services.notify.suppression`).

Rows to a suppressed address or to one of our own (the sender's, a mailbox's) fail at
once without a try.

A crash between 2 and 3 leaves the row queued: it is sent again once its back-off has
passed, with the same Message-ID, so the receiver can tell it is the same message.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import Select, or_, select, text, update
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Contact, Customer, Incident, Mailbox, MailMessage, Notification
from cc_tui.models.base import stored_id
from cc_tui.models.enums import NotificationChannel, NotificationStatus
from cc_tui.services.incidents.base import number
from cc_tui.services.loopback import is_loopback
from cc_tui.services.mail.outgoing import record_outgoing
from cc_tui.services.notify import outbox, suppression, templates

if TYPE_CHECKING:
    from cc_tui.config import SmtpSettings
    from cc_tui.db.engine import Database
    from cc_tui.services.context import Actor

MAX_ATTEMPTS = 5
# The wait after the n-th failed try: 4, 8, 16, 32 minutes, the fifth try about an hour
# after the first.
FIRST_DELAY = timedelta(minutes=4)
BATCH = 100
# Outcomes marked per transaction.
MARK_EVERY = 20


def backoff(attempt: int) -> timedelta:
    return FIRST_DELAY * (1 << (max(attempt, 1) - 1))


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # starttls | tls | none
    sender: str
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def smtp_target(settings: SmtpSettings) -> SmtpTarget:
    """The server from `[smtp]`: smtp://host:587 speaks STARTTLS when the server offers it
    (smtp+plain:// never), smtps:// TLS from the start; user:password@ in the URL work too."""
    if not settings.url or not settings.sender:
        raise UsageError("set [smtp] url and from in the config file", field="smtp")
    parts = urlsplit(settings.url)
    schemes = {"smtp": ("starttls", 587), "smtps": ("tls", 465), "smtp+plain": ("none", 25)}
    if parts.scheme not in schemes or not parts.hostname:
        raise UsageError(
            f"[smtp] url must be smtp://host:port or smtps://host:port, not {settings.url!r}",
            field="smtp",
        )
    security, port = schemes[parts.scheme]
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or port,
        security=security,
        sender=settings.sender,
        username=unquote(parts.username) if parts.username else settings.username,
        password=unquote(parts.password) if parts.password else settings.password(),
        timeout=settings.timeout,
    )


class Transport(Protocol):
    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened on the first message and kept for the pass."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if t.security == "tls":
            smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
            smtp.ehlo()
            if t.security == "starttls" and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif t.username and not is_loopback(t.host):
                smtp.close()
                # An SMTPException: the outbox keeps the message and says why.
                raise smtplib.SMTPNotSupportedError(
                    f"{t.host} offers no STARTTLS: the password is not sent in clear "
                    "(use smtps://; plain only on loopback)"
                )
        if t.username:
            smtp.login(t.username, t.password or "")
        return smtp

    def send(self, message: Message) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = None
            raise

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    message: Message


def _domain(sender: str) -> str:
    return sender.rpartition("@")[2].strip("> ") or "cc-tui.invalid"


def message_id(row_id: int, incident_id: int | None, sender: str) -> str:
    return f"<cc-tui.n{row_id}.i{incident_id or 0}@{_domain(sender)}>"


def thread_root(incident_id: int, sender: str) -> str:
    """The incident's thread: every automatic message refers to it."""
    return f"<cc-tui.incident.{incident_id}@{_domain(sender)}>"


REPLY = "reply"
# Our outgoing mail carries this header, so the e-mail intake knows it if it comes back.
OWN_HEADER = "X-CC-TUI"


@dataclass(frozen=True)
class Facts:
    """What the messages of one incident need, read once for a batch."""

    incident: Incident
    customer: str | None
    contact: str | None
    language: str | None
    # The Message-IDs of the customer's mail on the incident, oldest first.
    thread: tuple[str, ...]


def incident_facts(session: Session, incident_ids: Iterable[int]) -> dict[int, Facts]:
    """Facts of many incidents in two reads (not five per message)."""
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    threads: dict[int, list[str]] = {}
    for incident_id, mid in session.execute(
        select(col(MailMessage.incident_id), col(MailMessage.message_id))
        .where(col(MailMessage.incident_id).in_(ids), col(MailMessage.direction) == "in")
        .order_by(col(MailMessage.id))
    ):
        threads.setdefault(incident_id, []).append(mid)
    found = session.execute(
        select(Incident, col(Customer.name), col(Customer.language), col(Contact.name))
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .outerjoin(Contact, col(Contact.id) == col(Incident.contact_id))
        .where(col(Incident.id).in_(ids))
    ).all()
    return {
        stored_id(incident): Facts(
            incident, customer, contact, language, tuple(threads.get(stored_id(incident), ()))
        )
        for incident, customer, language, contact in found
    }


def build_message(
    session: Session,
    outgoing: Notification,
    sender: str,
    folder: Path | None,
    facts: Facts | None = None,
) -> Message:
    """The e-mail of one outbox row: rendered from its event's template unless the row
    carries its own text (an agent's reply), threaded to the incident. `facts`: its
    incident's, when the caller read them for a batch."""
    if facts is None and outgoing.incident_id is not None:
        facts = incident_facts(session, [outgoing.incident_id]).get(outgoing.incident_id)
    incident = facts.incident if facts is not None else None
    if outgoing.reason.startswith("escalation:") and facts is not None:
        alert = {
            "subject": outgoing.subject or "",
            "body": outgoing.body,
            "state": outgoing.reason.partition(":")[2],
        }
        shown = templates.values(
            facts.incident, customer=facts.customer, contact=facts.contact, alert=alert
        )
        rendered = templates.render("escalation", shown, folder)
        subject, body = rendered.subject, rendered.body
    elif outgoing.body or facts is None:
        subject, body = outgoing.subject or outgoing.reason, outgoing.body
    else:
        shown = templates.values(
            facts.incident,
            customer=facts.customer,
            contact=facts.contact,
            work_order=outbox.detail_of(outgoing),
        )
        rendered = templates.render(outgoing.reason, shown, folder, facts.language)
        subject, body = rendered.subject, rendered.body
    headers: list[tuple[str, str]] = [("From", sender), ("To", outgoing.recipient or "")]
    if facts is not None and incident is not None and incident.id is not None:
        tag = f"[{number(incident.id)}]"
        root = thread_root(incident.id, sender)
        inbound = facts.thread
        headers += [
            ("Subject", subject if tag in subject else f"{tag} {subject}"),
            ("In-Reply-To", inbound[-1] if inbound else root),
            ("References", " ".join([root, *inbound[-10:]])),
            (OWN_HEADER, number(incident.id)),
        ]
    else:
        headers += [("Subject", subject), (OWN_HEADER, "notification")]
    headers += [
        (
            "Message-ID",
            outgoing.message_id or message_id(stored_id(outgoing), outgoing.incident_id, sender),
        ),
        ("Date", format_datetime(outgoing.created_at)),
    ]
    if outgoing.reason != REPLY:
        # An agent's reply is a person's mail; everything else is automatic.
        headers += [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]
    return compose(headers, body)


# Bodies in UTF-8, quoted-printable (readable as it stands, safe through any server).
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def compose(headers: list[tuple[str, str]], body: str) -> Message:
    """A plain-text message. Built as a classic `Message` (the modern `EmailMessage`
    parses every header it is given, which cost more than the rest of a send); a subject in
    another script is encoded as RFC 2047 words. An address that is not ASCII needs the
    modern class (SMTPUTF8), so such a message is built with it."""
    addresses = [v for k, v in headers if k in ("From", "To")]
    if not all(v.isascii() for v in addresses):
        modern = EmailMessage()
        for name, value in headers:
            modern[name] = value
        modern.set_content(body)
        return modern
    msg = Message()
    for name, value in headers:
        msg[name] = value if value.isascii() else Header(value, "utf-8").encode()
    msg["MIME-Version"] = "1.0"
    msg.set_payload(body, _UTF8)
    return msg


def own_addresses(session: Session, sender: str) -> frozenset[str]:
    """Our own addresses: the sender's and the mailboxes' (whose user is an address)."""
    own = {parseaddr(sender)[1].lower()}
    for url in session.scalars(select(col(Mailbox.url))):
        user = unquote(urlsplit(url).username or "")
        if "@" in user:
            own.add(user.lower())
    return frozenset(a for a in own if a)


def _due(now: datetime) -> Select[Notification]:
    return (
        select(Notification)
        .where(
            col(Notification.status) == NotificationStatus.QUEUED,
            col(Notification.channel) == NotificationChannel.EMAIL,
            col(Notification.recipient).is_not(None),
            or_(
                col(Notification.next_attempt_at).is_(None),
                col(Notification.next_attempt_at) <= now,
            ),
        )
        .order_by(col(Notification.id))
    )


def claim(
    session: Session,
    *,
    sender: str,
    folder: Path | None,
    limit: int = BATCH,
    refused: list[str] | None = None,
) -> list[Claimed]:
    """Take up to `limit` due rows for this sender (see the module's step 1). Rows failed
    without a try (a suppressed or own address, a broken template) are told in `refused`."""
    now = clock.now()
    query = _due(now).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    rows = session.scalars(query).all()
    held = suppression.suppressed(session, [r.recipient or "" for r in rows])
    facts = incident_facts(session, [r.incident_id for r in rows if r.incident_id is not None])
    own = own_addresses(session, sender)
    for outgoing in rows:
        address = (outgoing.recipient or "").strip().lower()
        why = None
        if parseaddr(address)[1] in own:
            why = "our own address: never sent to (a mail loop)"
        elif address in held:
            why = f"suppressed until {held[address]:%Y-%m-%d %H:%M} UTC (it bounced)"
        if why is not None:
            outgoing.status, outgoing.last_error, outgoing.next_attempt_at = (
                NotificationStatus.FAILED.value,
                why,
                None,
            )
            if refused is not None:
                refused.append(f"#{outgoing.id}: {why}")
            continue
        outgoing.attempts += 1
        outgoing.next_attempt_at = now + backoff(outgoing.attempts)
        outgoing.message_id = outgoing.message_id or message_id(
            stored_id(outgoing), outgoing.incident_id, sender
        )
        try:
            built = build_message(
                session,
                outgoing,
                sender,
                folder,
                facts.get(outgoing.incident_id) if outgoing.incident_id else None,
            )
        except (UsageError, NotFound) as exc:
            # A broken template is no reason to try again in four minutes.
            outgoing.status, outgoing.last_error, outgoing.next_attempt_at = (
                NotificationStatus.FAILED.value,
                str(exc),
                None,
            )
            if refused is not None:
                refused.append(f"#{outgoing.id}: {exc}")
            continue
        claimed.append(Claimed(stored_id(outgoing), outgoing.attempts, built))
    return claimed


def mark(session: Session, item: Claimed, error: str | None, *, permanent: bool = False) -> str:
    """Record one send's outcome; returns the row's new status."""
    if error is None:
        values = {
            "status": NotificationStatus.SENT.value,
            "sent_at": clock.now(),
            "last_error": None,
            "next_attempt_at": None,
        }
    elif permanent or item.attempts >= MAX_ATTEMPTS:
        values = {
            "status": NotificationStatus.FAILED.value,
            "last_error": error,
            "next_attempt_at": None,
        }
    else:
        values = {"last_error": error}
    session.execute(
        update(Notification)
        .where(
            col(Notification.id) == item.id, col(Notification.status) == NotificationStatus.QUEUED
        )
        .values(**values)
    )
    return str(values.get("status", NotificationStatus.QUEUED.value))


def mark_sent(session: Session, ids: list[int]) -> None:
    """Many sent rows in one statement."""
    session.execute(
        update(Notification)
        .where(
            col(Notification.id).in_(ids),
            col(Notification.status) == NotificationStatus.QUEUED,
        )
        .values(
            status=NotificationStatus.SENT.value,
            sent_at=clock.now(),
            last_error=None,
            next_attempt_at=None,
        )
    )


def _permanent(exc: Exception) -> bool:
    """A 5xx refusal: the same message will not pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def send_due(
    db: Database,
    transport: Transport,
    *,
    sender: str,
    folder: Path | None = None,
    limit: int = BATCH,
) -> SendResult:
    """One pass over the due rows (at most `limit`)."""
    result = SendResult()
    refused: list[str] = []
    with db.session() as session:
        claimed = claim(session, sender=sender, folder=folder, limit=limit, refused=refused)
    result.failed += len(refused)
    result.errors.extend(refused)
    # (row, error, permanent, the recipient was refused for good)
    outcomes: list[tuple[Claimed, str | None, bool, bool]] = []

    def record() -> None:
        # Several outcomes a transaction: a crash loses at most these marks, and their
        # messages go again with the same Message-IDs.
        if not outcomes:
            return
        with db.session() as session:
            if not db.is_sqlite:
                # A mark lost with the server's last moments costs a resend with the same
                # Message-ID, no more: the commit need not wait for the disk.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            sent = [item.id for item, error, _, _ in outcomes if error is None]
            if sent:
                mark_sent(session, sent)
                record_outgoing(
                    session, [(i.id, i.message) for i, e, _, _ in outcomes if e is None]
                )
                result.sent += len(sent)
            for item, error, permanent, bounced in outcomes:
                if error is None:
                    continue
                if bounced:
                    suppression.suppress(
                        session, str(item.message["To"]), f"refused: {error}"[:500]
                    )
                if mark(session, item, error, permanent=permanent) == NotificationStatus.FAILED:
                    result.failed += 1
                else:
                    result.retrying += 1
                result.errors.append(f"#{item.id}: {error}")
        outcomes.clear()

    try:
        for item in claimed:
            error: str | None = None
            permanent = bounced = False
            try:
                transport.send(item.message)
            except (smtplib.SMTPException, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                permanent = _permanent(exc)
                # The server refused the address itself (not the message, not us).
                bounced = permanent and isinstance(exc, smtplib.SMTPRecipientsRefused)
            outcomes.append((item, error, permanent, bounced))
            if len(outcomes) >= MARK_EVERY:
                record()
        record()
    finally:
        transport.close()
    return result


def send_all(
    db: Database, transport: Transport, *, sender: str, folder: Path | None = None
) -> SendResult:
    """Passes until nothing is due (`notify send`)."""
    total = SendResult()
    while True:
        one = send_due(db, transport, sender=sender, folder=folder)
        total.sent += one.sent
        total.retrying += one.retrying
        total.failed += one.failed
        total.errors.extend(one.errors)
        if one.claimed < BATCH:
            return total


# --- the console's and the CLI's view of the outbox -----------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    incident: str | None
    event: str
    channel: str
    recipient: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    message_id: str | None
    created_at: datetime


def _row(n: Notification) -> OutboxRow:
    return OutboxRow(
        id=stored_id(n),
        incident=number(n.incident_id) if n.incident_id else None,
        event=n.reason,
        channel=n.channel,
        recipient=n.recipient,
        status=n.status,
        attempts=n.attempts,
        next_attempt_at=n.next_attempt_at,
        last_error=n.last_error,
        sent_at=n.sent_at,
        message_id=n.message_id,
        created_at=n.created_at,
    )


def list_outbox(
    session: Session,
    *,
    status: str | None = None,
    incident_id: int | None = None,
    limit: int = 200,
) -> list[OutboxRow]:
    """E-mail and SMS rows, newest first (console alerts are not the outbox's)."""
    if status is not None and status not in ("queued", "sent", "failed"):
        raise UsageError("status is one of queued, sent, failed", field="status")
    query = select(Notification).where(col(Notification.channel) != NotificationChannel.ALERT)
    if status is not None:
        query = query.where(col(Notification.status) == status)
    if incident_id is not None:
        query = query.where(col(Notification.incident_id) == incident_id)
    rows = session.scalars(query.order_by(col(Notification.id).desc()).limit(limit)).all()
    return [_row(n) for n in rows]


def retry(session: Session, row_id: int, *, actor: Actor | None = None) -> OutboxRow:
    """A failed (or waiting) row queued again, due now, with a fresh count of tries. With
    `actor` (the console, the CLI), only a supervisor or admin may."""
    if actor is not None:
        actor.require_supervisor("send an outbox message again")
    outgoing = session.get(Notification, row_id, with_for_update=True)
    if outgoing is None or outgoing.channel == NotificationChannel.ALERT:
        raise NotFound(f"no outbox message #{row_id}")
    if outgoing.status == NotificationStatus.SENT:
        raise RuleViolation(f"#{row_id} was sent at {outgoing.sent_at}; nothing to retry")
    outgoing.status = NotificationStatus.QUEUED.value
    outgoing.attempts = 0
    outgoing.next_attempt_at = clock.now()
    session.flush()
    outbox.wake(session)
    return _row(outgoing)
