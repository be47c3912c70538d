"""Outbox of notifications (M6 alerts, M13 customer e-mail/SMS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class Notification(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("channel IN ('email','sms','alert')", name="channel"),
        CheckConstraint("status IN ('queued','sent','failed','read')", name="status"),
        Index("ix_notification_agent", "agent_id", "status"),
        Index("ix_notification_status", "status", "id"),
        # The sender's scan: queued rows by when they are due.
        Index(
            "ix_notification_due",
            "next_attempt_at",
            "id",
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=10)
    # What triggered it: accepted, transferred, closed, escalation:<state>, ...
    reason: str = Field(max_length=40)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    recipient: str | None = Field(default=None, max_length=254)
    subject: str | None = Field(default=None, max_length=500)
    body: str = ""
    status: str = Field(default="queued", max_length=10)
    # Customer messages: one row per incident, event, channel and recipient (escalation
    # rows leave it NULL).
    idempotency_key: str | None = Field(default=None, max_length=400, unique=True)
    attempts: int = 0
    # Queued rows: not before this time (a retry's back-off, or a send in progress).
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None
    # Chosen before the first try and kept, so a resend carries the same one.
    message_id: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class NotifySuppression(SQLModel, table=True):
    """An address nothing is sent to until `until`: it bounced for good (a 5xx answer, a
    delivery report), or an admin put it here."""

    __tablename__ = "notify_suppression"

    id: int | None = Field(default=None, primary_key=True)
    # Lower-case.
    address: str = Field(max_length=254, unique=True)
    reason: str = Field(max_length=500)
    until: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class NotifyPolicy(SQLModel, table=True):
    """Whether an event of an incident of a request type notifies its customer by a
    channel (the customer's preference: email or sms). One row per request type, event and
    channel; admins switch them (`notify policy set`), everybody's queuing reads them."""

    __tablename__ = "notify_policy"
    __table_args__ = (CheckConstraint("channel IN ('email','sms')", name="channel"),)

    request_type: str = Field(primary_key=True, max_length=20)
    event: str = Field(primary_key=True, max_length=20)
    channel: str = Field(primary_key=True, max_length=10)
    enabled: bool = False
