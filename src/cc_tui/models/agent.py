"""Departments (queues) and the agents who work them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    calendar_id: int | None = Field(default=None, foreign_key="calendar.id")
    # Support engineers work remotely; a service department does on-site work.
    on_site: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class Agent(SQLModel, table=True):
    __table_args__ = (CheckConstraint("role IN ('agent','supervisor','admin')", name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(default="agent", max_length=20)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    # Comma-separated, lower-case skill tags matched by routing ("least loaded with skill").
    skills: str = Field(default="", max_length=500)
    region: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    # The agent's telephone extension: the PBX names the answering phone by it.
    extension: str | None = Field(default=None, max_length=40, unique=True)
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
