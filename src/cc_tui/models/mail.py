"""E-mail intake (M12): messages read from a mailbox and their attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, LargeBinary
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class MailMessage(SQLModel, table=True):
    __tablename__ = "mail_message"
    __table_args__ = (
        CheckConstraint("status IN ('new','processed','failed')", name="status"),
        Index("ix_mail_message_uid", "mailbox", "uidvalidity", "uid", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=200)
    # RFC 5322 Message-ID; unique so a message read twice is stored once.
    message_id: str = Field(max_length=500, unique=True)
    in_reply_to: str | None = Field(default=None, max_length=500, index=True)
    references: str | None = None
    from_addr: str = Field(max_length=500)
    to_addr: str | None = Field(default=None, max_length=2000)
    subject: str | None = Field(default=None, max_length=1000)
    body_text: str | None = None
    received_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(default="new", max_length=10, index=True)
    error: str | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    # SHA-256 of the raw bytes: the same message read twice is found without a Message-ID.
    sha256: str | None = Field(default=None, max_length=64, unique=True)
    raw: bytes | None = Field(default=None, sa_type=LargeBinary)
    direction: str = Field(default="in", max_length=3)  # 'in' read, 'out' sent by us
    # incident | event | ignored | quarantined; `status` failed = quarantined.
    outcome: str | None = Field(default=None, max_length=12)
    kind: str | None = Field(default=None, max_length=12)  # customer, bounce, auto-reply, own
    uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    uid: int | None = Field(default=None, sa_type=BigInteger)
    source: str | None = Field(default=None, max_length=1000)  # file or folder it came from


class MailAttachment(SQLModel, table=True):
    __tablename__ = "mail_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="mail_message.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=500)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = 0
    sha256: str = Field(max_length=64, index=True)
    # None when an earlier attachment with the same hash holds the bytes.
    content: bytes | None = Field(default=None, sa_type=LargeBinary)


class Mailbox(SQLModel, table=True):
    """An IMAP folder read by `mail fetch`; the password is never stored, only where it is."""

    __tablename__ = "mailbox"
    __table_args__ = (
        CheckConstraint("request_type IN ('action','information')", name="request_type"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    url: str = Field(max_length=1000)  # imaps://user@host:993/INBOX, without a password
    department_id: int | None = Field(default=None, foreign_key="department.id")
    request_type: str = Field(default="action", max_length=12)
    reason: str | None = Field(default=None, max_length=200)
    priority: str | None = Field(default=None, max_length=50)
    password_file: str | None = Field(default=None, max_length=1000)
    # Where filed messages go on the server; None flags them \Seen instead.
    done_folder: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class MailCursor(SQLModel, table=True):
    """How far `mail fetch` has read a mailbox: every UID up to `last_uid` under
    `uidvalidity` was handled (filed, ignored as read before, or gone from the server), so a
    pass never reads one of them again. Apart from the mailbox row, which only an admin may
    change (its URL decides where the password goes), because whoever runs the fetch writes
    it."""

    __tablename__ = "mail_cursor"

    mailbox_id: int = Field(foreign_key="mailbox.id", primary_key=True, ondelete="CASCADE")
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(sa_type=BigInteger)
