"""Mail we sent, kept beside the mail we read: a customer's answer names our Message-ID in
In-Reply-To or References, and intake finds its incident by it as it finds an answer to
the customer's own earlier message. The raw message is kept as it went out, for the
history of what was written to the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import parseaddr

from sqlmodel import Session, col, select

from cc_tui import clock
from cc_tui.models import MailMessage, Notification
from cc_tui.models.enums import MailStatus
from cc_tui.services.mail.parse import sha256

SENT_MAILBOX = "sent"


def _text(value: object) -> str:
    """A header as text (RFC 2047 words decoded)."""
    return str(make_header(decode_header(str(value or ""))))


def _body(message: Message) -> str | None:
    if isinstance(message, EmailMessage):
        part = message.get_body(("plain",))
        return part.get_content() if isinstance(part, EmailMessage) else None
    data = message.get_payload(decode=True)
    if not isinstance(data, bytes):
        return None
    return data.decode(message.get_content_charset() or "utf-8", "replace")


def record_outgoing(session: Session, sent: Sequence[tuple[int, Message]]) -> int:
    """Store messages the outbox sent, given as (outbox row id, message); a message stored
    before (sent again after a crash, same Message-ID) is not stored twice. Returns how
    many were stored."""
    by_id = {str(message["Message-ID"]): (row, message) for row, message in sent}
    if not by_id:
        return 0
    known = set(
        session.exec(
            select(MailMessage.message_id).where(col(MailMessage.message_id).in_(list(by_id)))
        ).all()
    )
    rows = {row for row, _message in by_id.values()}
    incidents = dict(
        session.exec(
            select(Notification.id, Notification.incident_id).where(col(Notification.id).in_(rows))
        ).all()
    )
    stored = 0
    for message_id, (row, message) in by_id.items():
        if message_id in known:
            continue
        raw = message.as_bytes()
        session.add(
            MailMessage(
                mailbox=SENT_MAILBOX,
                message_id=message_id[:500],
                in_reply_to=(str(message["In-Reply-To"] or "")[:500] or None),
                references=str(message["References"] or "") or None,
                from_addr=parseaddr(str(message["From"] or ""))[1][:500],
                to_addr=str(message["To"] or "")[:2000] or None,
                subject=_text(message["Subject"])[:1000] or None,
                body_text=_body(message),
                received_at=clock.now(),
                status=MailStatus.PROCESSED,
                incident_id=incidents.get(row),
                sha256=sha256(raw),
                raw=raw,
                direction="out",
            )
        )
        stored += 1
    session.flush()
    return stored
