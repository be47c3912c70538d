"""E-mail intake (M12): messages read from a mailbox and their attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class MailMessage(SQLModel, table=True):
    __tablename__ = "mail_message"
    __table_args__ = (CheckConstraint("status IN ('new','processed','failed')", name="status"),)

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


class MailAttachment(SQLModel, table=True):
    __tablename__ = "mail_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="mail_message.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=500)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    size: int = 0
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=LargeBinary)
