"""Business calendars: a zone, weekly working hours, holidays and exceptional days (M6)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel


class Calendar(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    tz: str = Field(default="UTC", max_length=64)
    # Country/region code for the `holidays` package ("DE-BE"); holidays are also stored.
    holiday_region: str | None = Field(default=None, max_length=20)


class CalendarHours(SQLModel, table=True):
    """One working interval on a weekday, minutes from local midnight, end exclusive."""

    __tablename__ = "calendar_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="range"),
        CheckConstraint("start_minute < end_minute", name="order"),
    )

    id: int | None = Field(default=None, primary_key=True)
    calendar_id: int = Field(foreign_key="calendar.id", index=True, ondelete="CASCADE")
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int


class CalendarDay(SQLModel, table=True):
    """A holiday (no hours) or an exceptional day with its own hours ("09:00-12:00")."""

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_calendar_day"),)

    id: int | None = Field(default=None, primary_key=True)
    calendar_id: int = Field(foreign_key="calendar.id", index=True, ondelete="CASCADE")
    day: date
    name: str | None = Field(default=None, max_length=200)
    # Empty for a holiday; otherwise intervals "HH:MM-HH:MM HH:MM-HH:MM".
    hours: str = Field(default="", max_length=200)
