"""Filing a message: stored raw first, then an incident, an event, ignored or quarantined.

The raw message is flushed before anything is done with it, and the filing runs in a
savepoint: when it fails, only the filing is undone and the message stays, quarantined
with the reason, to be processed again later (`retry`). One message never stops a batch.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import CcError, DuplicateRow, NotFound, UsageError
from cc_tui.models import (
    Contact,
    Customer,
    Department,
    Incident,
    MailAttachment,
    MailMessage,
    Notification,
)
from cc_tui.models.base import stored_id
from cc_tui.models.enums import OPEN_STATUSES, Channel, MailStatus, RequestType, Status
from cc_tui.normalize import email_key
from cc_tui.services.context import Actor
from cc_tui.services.files import write_file_atomically
from cc_tui.services.incidents.base import keep_loaded, lock_incident, number, touch
from cc_tui.services.incidents.event_log import append_event
from cc_tui.services.incidents.intake import IntakeForm, open_contact, save_call
from cc_tui.services.mail.classify import Kind, bare_subject, classify, subject_number
from cc_tui.services.mail.parse import (
    MAX_ATTACHMENT,
    MAX_MESSAGE,
    ParsedMail,
    Unparseable,
    parse,
    sha256,
    subject_of,
    untrusted,
)
from cc_tui.services.mail.quotes import strip_quoted
from cc_tui.services.notify import suppression

EMAIL_IN = "EmailIn"
# The Message-ID the notification sender gives outbox row n: <cc-tui.n{n}.i{incident}@domain>.
_OUTBOX_ID = re.compile(r"^<cc-tui\.n(\d{1,18})\.i\d+@")


@dataclass(frozen=True)
class MailDefaults:
    """How a mailbox files new incidents, and which senders are ourselves."""

    mailbox: str = "import"
    reason: str | None = None
    priority: str | None = None
    request_type: str = RequestType.ACTION
    department: str | None = None  # department code for new incidents routing leaves open
    own_addresses: frozenset[str] = frozenset()
    max_attachment: int = MAX_ATTACHMENT
    max_message: int = MAX_MESSAGE


def check_filing_codes(
    session: Session, *, reason: str | None = None, priority: str | None = None
) -> None:
    """The reason code and priority given for new incidents (a mailbox's, `mail import`'s,
    `quarantine retry`'s) exist: checked before any message is read, so a typing error is
    refused once (NotFound, exit 3) instead of quarantining every message."""
    from cc_tui.models.enums import CodeKind
    from cc_tui.services.directory.codes import resolve_pair
    from cc_tui.services.sla.priorities import resolve_priority

    if reason is not None:
        if not reason.strip():
            raise UsageError("empty reason code", field="reason")
        resolve_pair(session, CodeKind.REASON, reason)
    if priority is not None:
        resolve_priority(session, priority)


@dataclass(frozen=True)
class Outcome:
    file: str | None
    outcome: str  # incident | event | ignored | quarantined
    incident: str | None
    reason: str | None
    message: int | None = None


@dataclass
class _Filed:
    outcome: str
    incident: Incident | None
    reason: str | None
    event_id: int | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


def receive(
    session: Session,
    *,
    actor: Actor,
    raw: bytes,
    defaults: MailDefaults,
    source: str | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> Outcome:
    """File one raw message (the caller commits)."""
    digest = sha256(raw)
    stored = MailMessage(
        mailbox=defaults.mailbox[:200],
        message_id=f"<{digest}@unfiled.invalid>",
        from_addr="",
        received_at=clock.now(),
        sha256=digest,
        raw=raw,
        uidvalidity=uidvalidity,
        uid=uid,
        source=(source or "")[:1000] or None,
    )
    try:
        parsed = parse(
            raw, max_attachment=defaults.max_attachment, max_message=defaults.max_message
        )
    except Unparseable as exc:
        seen = session.exec(select(MailMessage).where(col(MailMessage.sha256) == digest)).first()
        if seen is not None:
            return _seen(seen, source, "the same message (SHA-256) was read before")
        stored.subject = subject_of(raw)  # so the quarantine list can say which one it is
        return _quarantine(session, stored, source, str(exc))
    # Read before? By its bytes or by its Message-ID, in one look-up.
    seen_rows = session.exec(
        select(MailMessage).where(
            or_(
                col(MailMessage.sha256) == digest,
                col(MailMessage.message_id) == parsed.message_id,
            )
        )
    ).all()
    for seen in seen_rows:
        if seen.sha256 == digest:
            return _seen(seen, source, "the same message (SHA-256) was read before")
    if seen_rows:
        return _seen(seen_rows[0], source, f"Message-ID {parsed.message_id} was read before")
    _describe(stored, parsed)
    # Known before filing: written with the row instead of by an UPDATE of its own.
    stored.kind = classify(parsed, defaults.own_addresses).value
    session.add(stored)
    session.flush()
    return _process(session, actor, stored, parsed, defaults, source)


def receive_raced(attempt: Callable[[], Outcome]) -> Outcome:
    """`attempt()` (a `receive` in a transaction of its own), once more if the stored
    message's unique key refused it: another reader stored the same message between this
    one's look-up and its insert, and read again it is "read before". A second refusal is
    no such race: `DuplicateRow` goes to the caller."""
    try:
        return attempt()
    except DuplicateRow:
        return attempt()


def _seen(stored: MailMessage, source: str | None, why: str) -> Outcome:
    incident = number(stored.incident_id) if stored.incident_id else None
    if stored.status == MailStatus.FAILED:
        why += f"; it is in quarantine as {stored.id}"
    return Outcome(source, "ignored", incident, why, stored.id)


def _describe(stored: MailMessage, parsed: ParsedMail) -> None:
    stored.message_id = parsed.message_id
    stored.in_reply_to = parsed.in_reply_to[:500] if parsed.in_reply_to else None
    stored.references = " ".join(parsed.references) or None
    stored.from_addr = parsed.sender
    stored.to_addr = parsed.to or None
    stored.subject = parsed.subject or None
    stored.body_text = parsed.text


def _quarantine(session: Session, stored: MailMessage, source: str | None, reason: str) -> Outcome:
    stored.status = MailStatus.FAILED
    stored.outcome = "quarantined"
    stored.error = untrusted(reason, limit=2000)
    if stored.id is None:
        session.add(stored)
    session.flush()
    return Outcome(source, "quarantined", None, stored.error, stored_id(stored))


def _process(
    session: Session,
    actor: Actor,
    stored: MailMessage,
    parsed: ParsedMail,
    defaults: MailDefaults,
    source: str | None,
) -> Outcome:
    try:
        # Rows read while filing stay loaded: the sender's contact, the new incident.
        with session.begin_nested(), keep_loaded(session):
            filed = _file(session, actor, stored, parsed, defaults)
    except CcError as exc:
        return _quarantine(session, stored, source, f"cannot be filed: {exc}")
    except IntegrityError as exc:
        # A key the filing collided with (rolled back to the savepoint): left to a person,
        # never refused again and again by every pass.
        said = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "refused"
        reason = f"cannot be filed: refused by the database: {said}"
        return _quarantine(session, stored, source, reason)
    stored.status = MailStatus.PROCESSED
    stored.outcome = filed.outcome
    stored.error = filed.reason if filed.outcome == "ignored" else None
    stored.incident_id = filed.incident.id if filed.incident else None
    stored.event_id = filed.event_id
    session.flush()
    ref = number(stored_id(filed.incident)) if filed.incident else None
    return Outcome(source, filed.outcome, ref, filed.reason, stored_id(stored))


def _file(
    session: Session, actor: Actor, stored: MailMessage, parsed: ParsedMail, defaults: MailDefaults
) -> _Filed:
    kind = classify(parsed, defaults.own_addresses)
    stored.kind = kind.value
    if kind == Kind.OWN:
        return _Filed("ignored", None, "our own outgoing mail came back")
    target_id = thread_of(session, parsed, kind, stored_id(stored))
    target = None
    if target_id is not None:
        with contextlib.suppress(NotFound):  # [INC-n] naming no incident
            target = lock_incident(session, target_id, None)
    own_text, quoted = strip_quoted(parsed.text)
    if kind == Kind.BOUNCE:
        # A permanent failure of one of our messages: its address is not written to again.
        suppression.bounced(session, parsed.bounced_id, parsed.text)
    if kind in (Kind.BOUNCE, Kind.AUTO_REPLY):
        if target is None:
            return _Filed("ignored", None, f"{kind.value} that belongs to no incident")
        return _event(session, actor, stored, parsed, kind, target, own_text, quoted)
    if target is not None and (target.status in OPEN_STATUSES or target.status == Status.SOLVED):
        return _event(session, actor, stored, parsed, kind, target, own_text, quoted)
    follow_up = number(stored_id(target)) if target is not None else None
    return _new_incident(session, actor, stored, parsed, defaults, own_text, quoted, follow_up)


def thread_of(session: Session, parsed: ParsedMail, kind: Kind, row_id: int) -> int | None:
    """The id of the incident a message answers: In-Reply-To, References newest first (for a
    bounce, the bounced message's Message-ID first), then `[INC-n]` in the subject (for a
    bounce, else in the returned message's subject; an id that may name no incident: the
    caller loads it, and locks it, once)."""
    ids: list[str] = []
    if kind == Kind.BOUNCE and parsed.bounced_id:
        ids.append(parsed.bounced_id)
    if parsed.in_reply_to:
        ids.append(parsed.in_reply_to)
    ids.extend(reversed(parsed.references))
    ids = [i[:500] for i in dict.fromkeys(ids)]
    if ids:
        rows = session.exec(
            select(MailMessage.message_id, MailMessage.incident_id).where(
                col(MailMessage.message_id).in_(ids),
                col(MailMessage.incident_id).is_not(None),
                col(MailMessage.id) != row_id,
            )
        ).all()
        found = {mid: iid for mid, iid in rows}
        # Notifications sent before sent mail was kept as mail_message rows are found by
        # the outbox row their Message-ID names (looked up by primary key).
        outbox = {
            int(m.group(1)): mid
            for mid in ids
            if mid not in found and (m := _OUTBOX_ID.match(mid)) is not None
        }
        if outbox:
            sent = session.exec(
                select(Notification.message_id, Notification.incident_id).where(
                    col(Notification.id).in_(list(outbox)),
                    col(Notification.incident_id).is_not(None),
                )
            ).all()
            for mid, iid in sent:
                if mid is not None and mid in ids:
                    found.setdefault(mid, iid)
        for mid in ids:
            if found.get(mid) is not None:
                return found[mid]
    ref = subject_number(parsed.subject)
    if ref is None and kind == Kind.BOUNCE and parsed.bounced_subject:
        ref = subject_number(parsed.bounced_subject)  # the returned message's subject
    if ref is not None and 0 < (wanted := int(ref.split("-", 1)[1])) < 2**31:
        return wanted
    return None


def _store_attachments(
    session: Session, stored: MailMessage, parsed: ParsedMail
) -> list[dict[str, Any]]:
    """Each attachment's bytes once: a copy already stored is pointed at by its hash."""
    files: list[dict[str, Any]] = []
    for attachment in parsed.attachments:
        digest = attachment.sha256
        have = session.exec(
            select(MailAttachment.id).where(
                col(MailAttachment.sha256) == digest, col(MailAttachment.content).is_not(None)
            )
        ).first()
        item = MailAttachment(
            message_id=stored_id(stored),
            filename=attachment.filename[:500],
            content_type=attachment.content_type[:200],
            size=len(attachment.content),
            sha256=digest,
            content=None if have is not None else attachment.content,
        )
        session.add(item)
        session.flush()
        files.append(
            {
                "id": stored_id(item),
                "filename": item.filename,
                "size": item.size,
                "type": item.content_type,
            }
        )
    return files


def _data(
    stored: MailMessage, parsed: ParsedMail, kind: Kind, quoted: bool, files: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "mail": stored_id(stored),
        "kind": kind.value,
        "from": parsed.sender,
        "name": parsed.sender_name or None,
        "subject": parsed.subject,
        "message_id": parsed.message_id,
        "attachments": files,
        "skipped": parsed.skipped,
        "quoted": quoted,
    }


def _event(
    session: Session,
    actor: Actor,
    stored: MailMessage,
    parsed: ParsedMail,
    kind: Kind,
    target: Incident,
    own_text: str,
    quoted: bool,
) -> _Filed:
    files = _store_attachments(session, stored, parsed)
    label = {Kind.BOUNCE: "bounce: ", Kind.AUTO_REPLY: "auto-reply: "}.get(kind, "")
    text = f"{label}{parsed.subject}".strip() if kind != Kind.CUSTOMER else own_text
    event = append_event(
        session,
        incident=target,
        type_code=EMAIL_IN,
        author_id=actor.id,
        text=text or parsed.subject or "(empty message)",
        contact_id=target.contact_id,
        data=_data(stored, parsed, kind, quoted, files),
    )
    touch(target, actor)
    record_change(
        session,
        entity="incident",
        action="event",
        entity_id=target.id,
        incident_id=target.id,
        department_id=target.department_id,
        agent_id=actor.id,
    )
    return _Filed("event", target, None, event.id, files)


def _caller(session: Session, address: str) -> tuple[int | None, int | None]:
    """(customer id, contact id) of the sender: a contact person first, then a customer."""
    key = email_key(address)
    if key is None:
        return None, None
    # The contact's customer comes with it (the registration reads it next): one statement.
    found = session.exec(
        select(Contact, Customer)
        .join(Customer, col(Customer.id) == col(Contact.customer_id))
        .where(col(Contact.email_key) == key)
    ).first()
    if found is not None:
        contact, _customer = found
        return contact.customer_id, contact.id
    customer = session.exec(select(Customer).where(col(Customer.email_key) == key)).first()
    return (customer.id if customer else None), None


def _new_incident(
    session: Session,
    actor: Actor,
    stored: MailMessage,
    parsed: ParsedMail,
    defaults: MailDefaults,
    own_text: str,
    quoted: bool,
    follow_up: str | None,
) -> _Filed:
    files = _store_attachments(session, stored, parsed)
    customer_id, contact_id = _caller(session, parsed.sender)
    data = _data(stored, parsed, Kind.CUSTOMER, quoted, files)
    data["known_sender"] = customer_id is not None
    if follow_up:
        data["follow_up_of"] = follow_up
    description = own_text or parsed.subject or "(empty message)"
    if follow_up:
        description = f"(follow-up to {follow_up}, which is closed)\n{description}"
    if defaults.request_type == RequestType.INFORMATION:
        # A question by e-mail waits, as a contact in progress, for the agent's answer.
        draft = open_contact(
            session,
            actor=actor,
            channel=Channel.EMAIL,
            request_type=RequestType.INFORMATION,
            caller_email=parsed.sender[:254],
            caller_name=parsed.sender_name or parsed.sender,
        )
        contact = lock_incident(session, draft.id, None)
        contact.customer_id, contact.contact_id = customer_id, contact_id
        contact.title = bare_subject(parsed.subject)[:200] or None
        contact.question = description
        event = append_event(
            session,
            incident=contact,
            type_code=EMAIL_IN,
            author_id=actor.id,
            text=description,
            contact_id=contact_id,
            data=data,
        )
        return _Filed("incident", contact, _unknown(parsed, customer_id), event.id, files)
    form = IntakeForm(
        request_type=RequestType.ACTION,
        customer_id=customer_id,
        contact_id=contact_id,
        caller_name=parsed.sender_name or parsed.sender,
        caller_email=parsed.sender[:254],
        title=bare_subject(parsed.subject)[:200] or None,
        description=description,
        reason=defaults.reason,
        priority=defaults.priority,
        event_data=data,
    )
    result = save_call(session, actor=actor, channel=Channel.EMAIL, form=form)
    incident = session.get_one(Incident, result.id)
    if defaults.department and incident.department_id is None:
        incident.department_id = session.exec(
            select(Department.id).where(col(Department.code) == defaults.department)
        ).first()
    return _Filed("incident", incident, _unknown(parsed, customer_id), result.event_id, files)


def _unknown(parsed: ParsedMail, customer_id: int | None) -> str | None:
    return None if customer_id is not None else f"unknown sender {parsed.sender}"


# --- reading files ---------------------------------------------------------------------


def message_files(paths: list[Path]) -> list[Path]:
    """The message files named: files as given, a folder's files by name, a Maildir's new/
    and cur/ together in delivery order (its subfolders only when named themselves: a
    whole tree would bring in Sent, Junk and Trash)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
        elif (path / "cur").is_dir():
            # cur/ holds the older, already seen mail: by name, not box by box, so a reply
            # in new/ is filed after the message in cur/ it answers.
            boxes = [path / "new", path / "cur"]
            files = [p for box in boxes if box.is_dir() for p in box.iterdir() if p.is_file()]
            found.extend(sorted(files, key=_delivery_order))
        else:
            found.extend(sorted(p for p in path.iterdir() if p.is_file()))
    return found


def _delivery_order(path: Path) -> tuple[int, str]:
    """A Maildir file's name begins with its delivery time in seconds ("1733400000.M1...")."""
    seconds = path.name.split(".", 1)[0]
    return (int(seconds) if seconds.isdigit() else 0, path.name)


# --- quarantine ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    received_at: object
    mailbox: str
    sender: str
    subject: str | None
    reason: str | None
    source: str | None
    size: int


def _quarantined(stored: MailMessage) -> QuarantineRow:
    return QuarantineRow(
        stored_id(stored),
        stored.received_at,
        stored.mailbox,
        stored.from_addr,
        stored.subject,
        stored.error,
        stored.source,
        len(stored.raw or b""),
    )


def quarantine_list(session: Session) -> list[QuarantineRow]:
    rows = session.exec(
        select(MailMessage)
        .where(col(MailMessage.status) == MailStatus.FAILED)
        .order_by(col(MailMessage.id))
    ).all()
    return [_quarantined(r) for r in rows]


def _quarantine_row(session: Session, message_id: int) -> MailMessage:
    stored = session.get(MailMessage, message_id)
    if stored is None or stored.status != MailStatus.FAILED:
        raise NotFound(f"no quarantined message {message_id} (see `cc-tui mail quarantine list`)")
    return stored


def quarantine_show(session: Session, message_id: int) -> dict[str, Any]:
    stored = _quarantine_row(session, message_id)
    shown = _quarantined(stored).__dict__.copy()
    # The start of the raw message, as text that is safe to print (binary data as such).
    head = (stored.raw or b"")[:4000]
    shown["raw"] = (
        f"({len(stored.raw or b'')} bytes of binary data)"
        if sum(b < 9 or 13 < b < 32 for b in head) * 10 > len(head)
        else untrusted(head.decode("latin-1"))
    )
    return shown


def retry(session: Session, *, actor: Actor, message_id: int, defaults: MailDefaults) -> Outcome:
    """Process a quarantined message again (after the cause was fixed)."""
    stored = _quarantine_row(session, message_id)
    raw = stored.raw or b""
    try:
        parsed = parse(
            raw, max_attachment=defaults.max_attachment, max_message=defaults.max_message
        )
    except Unparseable as exc:
        return _quarantine(session, stored, stored.source, str(exc))
    same_id = session.exec(
        select(MailMessage).where(
            col(MailMessage.message_id) == parsed.message_id, col(MailMessage.id) != stored.id
        )
    ).first()
    if same_id is not None:
        return _seen(same_id, stored.source, f"Message-ID {parsed.message_id} was read before")
    _describe(stored, parsed)
    session.flush()
    return _process(session, actor, stored, parsed, defaults, stored.source)


# --- attachments -----------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    message: int
    sender: str
    received_at: object


def attachments(session: Session, incident_id: int) -> list[AttachmentRow]:
    rows = session.exec(
        select(MailAttachment, MailMessage)
        .join(MailMessage, col(MailMessage.id) == col(MailAttachment.message_id))
        .where(col(MailMessage.incident_id) == incident_id)
        .order_by(col(MailAttachment.id))
    ).all()
    return [
        AttachmentRow(
            stored_id(a),
            a.filename,
            a.content_type,
            a.size,
            a.sha256,
            stored_id(m),
            m.from_addr,
            m.received_at,
        )
        for a, m in rows
    ]


def attachment_content(session: Session, incident_id: int, attachment_id: int) -> tuple[str, bytes]:
    """(file name, bytes) of one of the incident's attachments."""
    for item in attachments(session, incident_id):
        if item.id == attachment_id:
            stored = session.get_one(MailAttachment, attachment_id)
            content = stored.content
            if content is None:
                content = session.exec(
                    select(MailAttachment.content).where(
                        col(MailAttachment.sha256) == stored.sha256,
                        col(MailAttachment.content).is_not(None),
                    )
                ).first()
            return item.filename, content or b""
    raise NotFound(f"{number(incident_id)} has no attachment {attachment_id}")


@dataclass(frozen=True)
class SavedFile:
    path: str
    size: int


def save_attachment(
    session: Session, *, incident_id: int, attachment_id: int, path: str, overwrite: bool = False
) -> SavedFile:
    """Write one of the incident's attachments, byte for byte, to a file: an existing file is
    replaced only with `overwrite`. Written to a temporary file in the same folder and
    renamed into place, so a failure leaves no half-written file (readable by its owner only,
    as customer data)."""
    if not path.strip():
        raise UsageError("say where to save the file", field="path")
    _name, content = attachment_content(session, incident_id, attachment_id)
    target = Path(path.strip()).expanduser()
    write_file_atomically(target, content, overwrite=overwrite)
    return SavedFile(str(target), len(content))
