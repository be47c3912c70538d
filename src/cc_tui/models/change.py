"""The change feed: one row per committed change, read by open consoles to refresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class Change(SQLModel, table=True):
    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
    )
    at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    # What changed: "incident", "event", "customer", "queue", "kb", ...
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    action: str = Field(max_length=40)
    incident_id: int | None = Field(default=None, index=True)
    department_id: int | None = None
    agent_id: int | None = None
    # Who made it: the database role (PostgreSQL, set by a trigger) or the OS login (SQLite).
    acted_by: str | None = Field(default=None, max_length=80)
