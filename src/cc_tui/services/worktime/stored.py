"""Calendars read from the database as the arithmetic's values (`hours.WorkCalendar`).

Apart from `calendars` (which edits them and recomputes the deadlines they move), so that
deadlines can read calendars without importing the module that recomputes deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui.errors import NotFound
from cc_tui.models import Calendar, CalendarDay, CalendarHours
from cc_tui.services.worktime.hours import WorkCalendar, always, parse_intervals


def find_calendar(session: Session, name: str) -> Calendar | None:
    return session.scalars(
        select(Calendar).where(func.lower(Calendar.name) == name.strip().lower())
    ).first()


def load_calendar(session: Session, calendar_id: int) -> WorkCalendar:
    """A stored calendar as the arithmetic's value object."""
    row = session.get(Calendar, calendar_id)
    if row is None:
        raise NotFound(f"no calendar with id {calendar_id}", field="calendar")
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for hours in session.scalars(
        select(CalendarHours).where(col(CalendarHours.calendar_id) == calendar_id)
    ):
        week[hours.weekday].append((hours.start_minute, hours.end_minute))
    days = {
        d.day: parse_intervals(d.hours) if d.hours.strip() else ()
        for d in session.scalars(
            select(CalendarDay).where(col(CalendarDay.calendar_id) == calendar_id)
        )
    }
    return WorkCalendar(
        tz=row.tz, weekly=tuple(tuple(day) for day in week), days=days, name=row.name
    )


# Calendars shared by every `CalendarCache` made inside `calendars_per_batch()`.
_BATCH: ContextVar[dict[int, WorkCalendar] | None] = ContextVar("cc_tui_calendars", default=None)


@contextmanager
def calendars_per_batch() -> Iterator[None]:
    """A batch of many short transactions (a mail fetch files each message in its own)
    reads each calendar once: inside, every `CalendarCache` shares what was loaded. A
    calendar edited meanwhile counts from the next batch."""
    token = _BATCH.set({})
    try:
        yield
    finally:
        _BATCH.reset(token)


class CalendarCache:
    """Calendars loaded once per batch (a recompute over many incidents, a screen)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        shared = _BATCH.get()
        self._loaded: dict[int, WorkCalendar] = shared if shared is not None else {}
        self._always = always()

    def get(self, calendar_id: int | None) -> WorkCalendar:
        """The calendar, or the 24/7 one for None."""
        if calendar_id is None:
            return self._always
        found = self._loaded.get(calendar_id)
        if found is None:
            found = load_calendar(self.session, calendar_id)
            self._loaded[calendar_id] = found
        return found
