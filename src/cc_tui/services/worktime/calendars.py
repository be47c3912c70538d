"""Business calendars as master data (M6): add, holidays, exceptional days, look-up, and
loading a stored calendar into the value object the arithmetic in `calendar.py` uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Calendar, CalendarDay, CalendarHours
from cc_tui.models.base import stored_id
from cc_tui.services.context import Actor
from cc_tui.services.directory.agents import resolve_calendar
from cc_tui.services.worktime.hours import (
    ALWAYS_WEEK,
    MAX_DURATION_MINUTES,
    add_working_minutes,
    format_week,
    parse_hours,
    parse_intervals,
    zone_of,
)
from cc_tui.services.worktime.stored import find_calendar, load_calendar

# Holidays of a region are loaded for last year (incidents registered before New Year)
# and the next few; `calendar add-holiday` adds more days by hand.
HOLIDAY_YEARS_BACK = 1
HOLIDAY_YEARS_AHEAD = 5


@dataclass(frozen=True)
class CalendarDayInfo:
    day: date
    name: str | None
    # Empty for a holiday, else the exceptional day's own hours.
    hours: str
    holiday: bool


@dataclass(frozen=True)
class CalendarInfo:
    id: int
    name: str
    tz: str
    hours: list[str]
    always: bool
    holiday_region: str | None
    holidays: int
    exceptions: int
    # Only `show` lists the dated days.
    days: list[CalendarDayInfo] | None = None


@dataclass(frozen=True)
class HolidaysResult:
    calendar: str
    added: list[date]
    existing: list[date]
    recomputed: int


@dataclass(frozen=True)
class DayResult:
    calendar: str
    day: CalendarDayInfo
    recomputed: int


@dataclass(frozen=True)
class RemovedDays:
    calendar: str
    removed: list[date]
    recomputed: int


@dataclass(frozen=True)
class DueResult:
    calendar: str
    start: datetime
    minutes: int
    due: datetime
    # The same instant in the calendar's zone, for people.
    due_local: str


# --- reading ---------------------------------------------------------------------------


def calendar_info(session: Session, row: Calendar, *, with_days: bool = False) -> CalendarInfo:
    cal = load_calendar(session, row.id or 0)
    day_rows = session.scalars(
        select(CalendarDay)
        .where(col(CalendarDay.calendar_id) == row.id)
        .order_by(col(CalendarDay.day))
    ).all()
    days = [_day_info(d) for d in day_rows]
    return CalendarInfo(
        id=row.id or 0,
        name=row.name,
        tz=row.tz,
        hours=format_week(cal.weekly),
        always=cal.weekly == ALWAYS_WEEK,
        holiday_region=row.holiday_region,
        holidays=sum(1 for d in days if d.holiday),
        exceptions=sum(1 for d in days if not d.holiday),
        days=days if with_days else None,
    )


def list_calendars(session: Session) -> list[CalendarInfo]:
    rows = session.scalars(select(Calendar).order_by(Calendar.name)).all()
    return [calendar_info(session, row) for row in rows]


def show_calendar(session: Session, *, name: str) -> CalendarInfo:
    return calendar_info(session, resolve_calendar(session, name), with_days=True)


def calendar_due(
    session: Session, *, calendar: str, start: str | datetime, minutes: int
) -> DueResult:
    """When `minutes` working minutes after `start` have passed on a calendar.

    A start without a UTC offset is read in the calendar's own zone.
    """
    row = resolve_calendar(session, calendar)
    cal = load_calendar(session, row.id or 0)
    begin = parse_instant(start, default_tz=row.tz, field="start")
    if minutes < 0:
        raise UsageError("minutes must not be negative", field="minutes")
    if minutes > MAX_DURATION_MINUTES:
        raise UsageError(
            f"minutes must be 0 to {MAX_DURATION_MINUTES} (ten years)", field="minutes"
        )
    due = add_working_minutes(cal, begin, minutes)
    return DueResult(
        calendar=row.name,
        start=begin,
        minutes=minutes,
        due=due,
        due_local=due.astimezone(cal.zone).isoformat(),
    )


# The instants cc-tui accepts: far enough from year 1 and year 9999 that adding or
# subtracting any deadline offset stays a valid date.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def parse_instant(
    value: str | datetime, *, default_tz: str | None = "UTC", field: str = "at"
) -> datetime:
    """ISO 8601 with any offset ('Z' too) -> aware UTC; no offset -> `default_tz` (None:
    the system's zone)."""
    if isinstance(value, datetime):
        instant = value
    else:
        try:
            instant = datetime.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(
                f"not a date and time: {value!r} (ISO 8601, e.g. 2026-03-02T09:30+01:00)",
                field=field,
            ) from None
    try:
        if instant.tzinfo is None:
            instant = (
                instant.replace(tzinfo=zone_of(default_tz)) if default_tz else instant.astimezone()
            )
        instant = instant.astimezone(UTC)
    except (OverflowError, ValueError):
        instant = datetime.min.replace(tzinfo=UTC)  # beyond the first year: refused below
    if not EARLIEST <= instant <= LATEST:
        # Working-time arithmetic (offsets up to ten years) must never leave the calendar.
        raise UsageError(
            f"{field} must lie between {EARLIEST.year} and {LATEST.year}, not {value!s:.40}",
            field=field,
        )
    return instant


# --- writing ---------------------------------------------------------------------------


def add_calendar(
    session: Session,
    *,
    actor: Actor,
    name: str,
    tz: str = "UTC",
    hours: Iterable[str],
    holidays: str | None = None,
    years: Iterable[int] | None = None,
) -> CalendarInfo:
    """A new calendar: its zone, weekly hours and (optionally) a region's public holidays."""
    actor.require_admin("add calendars")
    text = (name or "").strip()
    if not text:
        raise UsageError("a calendar needs a name", field="name")
    if len(text) > 80:
        raise UsageError("a calendar name is at most 80 characters", field="name")
    zone_of(tz.strip())
    week = parse_hours(list(hours))
    region_days: dict[date, str] = {}
    region = None
    if holidays and holidays.strip():
        region = holidays.strip().upper()
        region_days = region_holidays(region, years)
    if find_calendar(session, text) is not None:
        raise RuleViolation(f"calendar {text} exists already", field="name")
    row = Calendar(name=text, tz=tz.strip(), holiday_region=region)
    session.add(row)
    session.flush()
    for weekday, intervals in enumerate(week):
        for start, end in intervals:
            session.add(
                CalendarHours(
                    calendar_id=stored_id(row), weekday=weekday, start_minute=start, end_minute=end
                )
            )
    for day, day_name in sorted(region_days.items()):
        session.add(CalendarDay(calendar_id=stored_id(row), day=day, name=day_name[:200], hours=""))
    session.flush()
    _changed(session, row, actor, "added")
    return calendar_info(session, row)


def region_holidays(region: str, years: Iterable[int] | None = None) -> dict[date, str]:
    """Public holidays of 'DE' or 'DE-BE' (country, subdivision) from the holidays package."""
    # Imported here: the package is large and only calendar set-up needs it.
    import holidays as holidays_pkg

    country, _, subdiv = region.strip().upper().partition("-")
    supported = holidays_pkg.list_supported_countries()
    if country not in supported:
        raise UsageError(
            f"unknown holiday country {country!r}; use an ISO code such as DE, NL, PL, US",
            field="holidays",
        )
    subdivision = None
    if subdiv:
        matches = [s for s in supported[country] if s.upper() == subdiv]
        if not matches:
            known = ", ".join(s for s in supported[country] if len(s) <= 3) or "none"
            raise UsageError(
                f"unknown subdivision {subdiv!r} of {country}; known: {known}", field="holidays"
            )
        subdivision = matches[0]
    if years is None:
        this_year = clock.now().year
        years = range(this_year - HOLIDAY_YEARS_BACK, this_year + HOLIDAY_YEARS_AHEAD + 1)
    found = holidays_pkg.country_holidays(country, subdiv=subdivision, years=list(years))
    return {day: str(day_name) for day, day_name in found.items()}


def add_holidays(
    session: Session,
    *,
    actor: Actor,
    calendar: str,
    days: Iterable[str | date],
    name: str | None = None,
) -> HolidaysResult:
    """Mark days as holidays (an exceptional day on one of them becomes a holiday)."""
    actor.require_admin("change calendars")
    wanted = sorted({_day(d) for d in days})
    if not wanted:
        raise UsageError("give at least one day (YYYY-MM-DD)", field="day")
    row = resolve_calendar(session, calendar)
    existing_rows = {
        d.day: d
        for d in session.scalars(
            select(CalendarDay).where(
                col(CalendarDay.calendar_id) == row.id, col(CalendarDay.day).in_(wanted)
            )
        )
    }
    added, existing = [], []
    for day in wanted:
        found = existing_rows.get(day)
        if found is None:
            session.add(
                CalendarDay(calendar_id=stored_id(row), day=day, name=_name(name), hours="")
            )
            added.append(day)
        elif found.hours.strip():
            found.hours = ""
            found.name = _name(name) or found.name
            added.append(day)
        else:
            existing.append(day)
    session.flush()
    recomputed = _after_change(session, row, actor) if added else 0
    return HolidaysResult(row.name, added, existing, recomputed)


def set_day(
    session: Session,
    *,
    actor: Actor,
    calendar: str,
    day: str | date,
    hours: str,
    name: str | None = None,
) -> DayResult:
    """Give one date its own hours ("09:00-12:00"); empty hours make it a holiday."""
    actor.require_admin("change calendars")
    when = _day(day)
    intervals = parse_intervals(hours) if hours and hours.strip() else ()
    row = resolve_calendar(session, calendar)
    text = " ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in intervals)
    found = session.scalars(
        select(CalendarDay).where(
            col(CalendarDay.calendar_id) == row.id, col(CalendarDay.day) == when
        )
    ).first()
    if found is None:
        found = CalendarDay(calendar_id=stored_id(row), day=when, name=_name(name), hours=text)
        session.add(found)
    else:
        found.hours = text
        found.name = _name(name) or found.name
    session.flush()
    recomputed = _after_change(session, row, actor)
    return DayResult(row.name, _day_info(found), recomputed)


def remove_days(
    session: Session, *, actor: Actor, calendar: str, days: Iterable[str | date]
) -> RemovedDays:
    """Take holidays or exceptional days out again (the weekday's hours apply)."""
    actor.require_admin("change calendars")
    wanted = sorted({_day(d) for d in days})
    if not wanted:
        raise UsageError("give at least one day (YYYY-MM-DD)", field="day")
    row = resolve_calendar(session, calendar)
    present = session.scalars(
        select(col(CalendarDay.day)).where(
            col(CalendarDay.calendar_id) == row.id, col(CalendarDay.day).in_(wanted)
        )
    ).all()
    if not present:
        raise NotFound(
            f"calendar {row.name} has none of those days as a holiday or exception", field="day"
        )
    session.execute(
        delete(CalendarDay).where(
            col(CalendarDay.calendar_id) == row.id, col(CalendarDay.day).in_(present)
        )
    )
    session.flush()
    recomputed = _after_change(session, row, actor)
    return RemovedDays(row.name, sorted(present), recomputed)


# --- pieces ----------------------------------------------------------------------------


def _day(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"not a date: {value!r} (expected YYYY-MM-DD)", field="day") from None


def _name(name: str | None) -> str | None:
    text = (name or "").strip()
    return text[:200] or None


def _day_info(row: CalendarDay) -> CalendarDayInfo:
    return CalendarDayInfo(row.day, row.name, row.hours, not row.hours.strip())


def _after_change(session: Session, row: Calendar, actor: Actor) -> int:
    """Record the change and recompute the open incidents whose clocks use the calendar."""
    from cc_tui.services.sla.deadlines import recompute_open

    _changed(session, row, actor, "changed")
    return recompute_open(session, calendar_id=row.id, author_id=actor.id)


def _changed(session: Session, row: Calendar, actor: Actor, action: str) -> None:
    record_change(session, entity="calendar", action=action, entity_id=row.id, agent_id=actor.id)
