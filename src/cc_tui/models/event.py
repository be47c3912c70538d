"""The timeline (M8) and time tracking (M9)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class EventType(SQLModel, table=True):
    __tablename__ = "event_type"
    __table_args__ = (
        CheckConstraint("direction IN ('inbound','outbound','internal')", name="direction"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=100)
    direction: str = Field(default="internal", max_length=10)
    # Counts as a contact with the customer (reports, first response).
    is_contact: bool = False
    # System event kinds are written by the services only and cannot be edited.
    is_system: bool = False
    active: bool = True


class Event(SQLModel, table=True):
    """One entry of an incident's append-only timeline."""

    __table_args__ = (
        CheckConstraint("kind IN ('user','system')", name="kind"),
        Index("ix_event_incident", "incident_id", "id"),
        Index("ix_event_incident_kind", "incident_id", "kind", "id"),
        # Corrections of an event (and the foreign-key check when an event row goes).
        Index(
            "ix_event_corrects",
            "corrects_id",
            sqlite_where=text("corrects_id IS NOT NULL"),
            postgresql_where=text("corrects_id IS NOT NULL"),
        ),
        # Reports (migrations 0018, 0021): who worked on which incident in a period, from
        # the index alone (SQLite reads `kind` from the index's columns, not its WHERE).
        Index(
            "ix_event_user_at",
            "at",
            "author_id",
            "incident_id",
            "kind",
            sqlite_where=text("kind = 'user'"),
            postgresql_where=text("kind = 'user'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    event_type_id: int = Field(foreign_key="event_type.id")
    kind: str = Field(default="user", max_length=10)
    at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    author_id: int = Field(foreign_key="agent.id")
    text: str | None = None
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    duration_minutes: int | None = None
    # A correction is a new event that refers to the one it corrects.
    corrects_id: int | None = Field(default=None, foreign_key="event.id")
    # System events: {"field": ..., "from": ..., "to": ...} and similar.
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # Who wrote it (see Change.acted_by); differs from the author when an admin acts for them.
    acted_by: str | None = Field(default=None, max_length=80)


class TimeEntry(SQLModel, table=True):
    """Time an agent spent on an incident; `ended_at` NULL is a running timer."""

    __tablename__ = "time_entry"
    __table_args__ = (
        # One running timer per agent.
        Index(
            "uq_time_entry_running",
            "agent_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_time_entry_incident", "incident_id"),
        # An agent's entries by start; with what the per-agent report sums (migration 0023),
        # so each agent's minutes booked in a period are one range of this index.
        Index("ix_time_entry_agent", "agent_id", "started_at", "ended_at", "minutes"),
        # Reports (migration 0018): entries started in a period, and the minutes booked on
        # one incident, each read from the index alone.
        Index(
            "ix_time_entry_started", "started_at", "agent_id", "incident_id", "ended_at", "minutes"
        ),
        Index(
            "ix_time_entry_booked",
            "incident_id",
            "minutes",
            sqlite_where=text("ended_at IS NOT NULL"),
            postgresql_where=text("ended_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    agent_id: int = Field(foreign_key="agent.id")
    started_at: datetime = Field(sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    minutes: int = 0
    note: str | None = None
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
