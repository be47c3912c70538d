"""Routing rules (M5): ordered, first match wins; NULL match fields match anything."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    name: str | None = Field(default=None, max_length=200)
    # Match fields
    unit_type: str | None = Field(default=None, max_length=80)
    reason_code_id: int | None = Field(default=None, foreign_key="code.id")
    problem_code_id: int | None = Field(default=None, foreign_key="code.id")
    region: str | None = Field(default=None, max_length=40)
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    channel: str | None = Field(default=None, max_length=20)
    request_type: str | None = Field(default=None, max_length=20)
    # Result
    department_id: int = Field(foreign_key="department.id")
    owner_id: int | None = Field(default=None, foreign_key="agent.id")
    least_loaded: bool = False
    skill: str | None = Field(default=None, max_length=80)
    active: bool = True
