"""Telephony (M15): the call log, one row per call the telephone system reported."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class PhoneCall(SQLModel, table=True):
    __tablename__ = "phone_call"
    __table_args__ = (
        CheckConstraint("direction IN ('in','out')", name="direction"),
        CheckConstraint("state IN ('ringing','answered','ended','missed')", name="state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The telephone system's own id; unique, so a replayed newCall is stored once.
    call_id: str = Field(max_length=200, unique=True)
    direction: str = Field(default="in", max_length=3)
    from_number: str = Field(default="", max_length=100)
    from_e164: str | None = Field(default=None, max_length=20, index=True)
    to_number: str = Field(default="", max_length=100)
    queue: str | None = Field(default=None, max_length=100)
    # Logins of the agents the call rang for (as the telephone system named them).
    ringing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    agent_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    extension: str | None = Field(default=None, max_length=40)
    state: str = Field(default="ringing", max_length=10)
    rang_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime, index=True)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cause: str | None = Field(default=None, max_length=100)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
