"""Working-time arithmetic on business calendars (M6). Pure functions, no I/O.

A calendar is a time zone, working intervals per weekday (minutes from local midnight, end
exclusive, several per day) and dated overrides: a holiday (no hours) or an exceptional day
with its own hours. Working time is elapsed real time: an interval's ends are wall-clock
times turned into instants, so a 00:00-24:00 day on a daylight-saving change lasts 23 or 25
hours. A wall-clock time the clock jumps over (spring forward) means the instant of the
jump; a repeated one (fall back) means its first occurrence.

Every instant going in may carry any UTC offset; every instant coming out is aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cc_tui.errors import UsageError

Interval = tuple[int, int]  # minutes from local midnight, end exclusive
Span = tuple[datetime, datetime]  # one working interval as UTC instants

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# The longest offset or duration anything adds to an instant: ten years.
MAX_DURATION_MINUTES = 10 * 366 * DAY_MINUTES
FULL_DAY: tuple[Interval, ...] = ((0, DAY_MINUTES),)
ALWAYS_WEEK: tuple[tuple[Interval, ...], ...] = (FULL_DAY,) * 7
# How far ahead the arithmetic looks for working time before it gives up (a calendar
# whose hours are all holidays would otherwise loop for ever).
MAX_DAYS = 3 * 366
_ONE_MINUTE = timedelta(minutes=1)
_CACHE_LIMIT = 4096

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """A calendar as the arithmetic sees it (build it once, reuse it: it caches days)."""

    tz: str = "UTC"
    weekly: tuple[tuple[Interval, ...], ...] = ALWAYS_WEEK
    # Dated overrides: () is a holiday, otherwise that day's own hours.
    days: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)
    name: str | None = None
    zone: ZoneInfo = field(init=False, repr=False)
    always: bool = field(init=False, repr=False)
    _spans: dict[date, tuple[Span, ...]] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", zone_of(self.tz))
        if len(self.weekly) != 7:
            raise ValueError("a calendar needs hours for 7 weekdays (Monday first)")
        weekly = tuple(_checked(day) for day in self.weekly)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "days", {d: _checked(h) for d, h in self.days.items()})
        always = all(day == FULL_DAY for day in weekly) and not self.days
        object.__setattr__(self, "always", always)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of a local date (its override, else its weekday's)."""
        found = self.days.get(day)
        return found if found is not None else self.weekly[day.weekday()]

    def is_holiday(self, day: date) -> bool:
        return self.days.get(day) == ()

    def spans(self, day: date) -> tuple[Span, ...]:
        """The working intervals of a local date as UTC instants (cached)."""
        found = self._spans.get(day)
        if found is None:
            if len(self._spans) >= _CACHE_LIMIT:
                self._spans.clear()
            found = _day_spans(day, self.hours_on(day), self.zone)
            self._spans[day] = found
        return found

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def always(tz: str = "UTC", name: str | None = "24/7") -> WorkCalendar:
    """Every minute counts (the all-hours basis)."""
    return WorkCalendar(tz=tz, weekly=ALWAYS_WEEK, name=name)


def zone_of(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UsageError(
            f"unknown time zone {tz!r}; use an IANA name such as Europe/Berlin or UTC",
            field="tz",
        ) from None


# --- the arithmetic -------------------------------------------------------------------


def add_working_minutes(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """The earliest instant by which `minutes` of working time have passed since `start`.

    A deadline that uses up an interval exactly is that interval's end (17:00 today), not
    the next opening. Zero minutes is `start` itself.
    """
    if minutes < 0:
        raise ValueError("working minutes to add must not be negative")
    return add_working_time(cal, start, timedelta(minutes=minutes))


def add_working_time(cal: WorkCalendar, start: datetime, amount: timedelta) -> datetime:
    """`add_working_minutes` for any amount of working time (seconds too)."""
    begin = to_utc(start)
    if amount <= timedelta(0):
        return begin
    if cal.always:
        return begin + amount
    remaining = amount
    # Start a day early: the local date of `start` may begin after it in odd zones.
    day = cal.local_date(begin) - timedelta(days=1)
    for _ in range(MAX_DAYS):
        for opens, closes in cal.spans(day):
            if closes <= begin:
                continue
            opens = max(opens, begin)
            available = closes - opens
            if available >= remaining:
                return opens + remaining
            remaining -= available
        day += timedelta(days=1)
    raise UsageError(
        f"calendar {cal.name or cal.tz} has no working time left within {MAX_DAYS} days "
        f"of {begin:%Y-%m-%d}",
        field="calendar",
    )


def working_minutes_between(cal: WorkCalendar, start: datetime, end: datetime) -> int:
    """Whole working minutes from `start` to `end` (negative when `end` comes first)."""
    begin, finish = to_utc(start), to_utc(end)
    if finish < begin:
        return -working_minutes_between(cal, finish, begin)
    if cal.always:
        return (finish - begin) // _ONE_MINUTE
    return working_time(cal, begin, finish) // _ONE_MINUTE


def working_time(cal: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time from `start` to `end` (zero when `end` is not after `start`)."""
    begin, finish = to_utc(start), to_utc(end)
    if finish <= begin:
        return timedelta(0)
    if cal.always:
        return finish - begin
    total = timedelta(0)
    day = cal.local_date(begin) - timedelta(days=1)
    last = cal.local_date(finish)
    while day <= last:
        for opens, closes in cal.spans(day):
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def holidays_between(cal: WorkCalendar, start: datetime, end: datetime) -> list[date]:
    """The holidays (local dates) from `start` to `end`, both included."""
    first, last = cal.local_date(to_utc(start)), cal.local_date(to_utc(end))
    return sorted(d for d, hours in cal.days.items() if hours == () and first <= d <= last)


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no UTC offset")
    return instant.astimezone(UTC)


# --- wall clock to instants -------------------------------------------------------------


def _day_spans(day: date, hours: tuple[Interval, ...], zone: ZoneInfo) -> tuple[Span, ...]:
    spans: list[Span] = []
    for start, end in hours:
        opens, closes = _instant(day, start, zone), _instant(day, end, zone)
        if closes <= opens:
            continue  # the whole interval fell into a skipped hour
        if spans and spans[-1][1] >= opens:
            spans[-1] = (spans[-1][0], max(spans[-1][1], closes))
        else:
            spans.append((opens, closes))
    return tuple(spans)


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant a local wall-clock time names (see the module text for the DST rules)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first occurrence
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # The wall time does not exist: find when the clock jumped over it. fold=1 reads it
    # with the offset after the jump, which places it before the jump; fold=0 after.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = before, instant
    after_offset = instant.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(zone).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    return hi


# --- hours specs ----------------------------------------------------------------------


def parse_time(text: str, *, end: bool = False) -> int:
    """'08:30' -> 510; '24:00' only as an interval's end."""
    match = _TIME.match(text.strip())
    if not match:
        raise UsageError(f"not a time of day: {text!r} (expected HH:MM)", field="hours")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes) or (hours == 24 and not end):
        allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise UsageError(f"time {text!r} out of range ({allowed})", field="hours")
    return hours * 60 + minutes


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """'08:00-12:00 13:00-17:00' -> ((480, 720), (780, 1020)); end exclusive."""
    intervals = []
    for part in text.replace(",", " ").split():
        start, sep, end = part.partition("-")
        if not sep:
            raise UsageError(f"not an interval: {part!r} (expected HH:MM-HH:MM)", field="hours")
        first, last = parse_time(start), parse_time(end, end=True)
        if last <= first:
            raise UsageError(
                f"interval {part} ends before it starts; split a night shift at midnight "
                "(22:00-24:00 on one day, 00:00-06:00 on the next)",
                field="hours",
            )
        intervals.append((first, last))
    return _checked(tuple(intervals), what=text)


def parse_days(text: str) -> list[int]:
    """'mon-fri' -> [0..4]; 'sat' -> [5]; 'mon,wed' -> [0, 2]; 'fri-mon' wraps."""
    result: list[int] = []
    for part in text.lower().split(","):
        first, sep, last = part.strip().partition("-")
        start = _weekday(first)
        if not sep:
            result.append(start)
            continue
        stop = _weekday(last)
        day = start
        while True:
            result.append(day)
            if day == stop:
                break
            day = (day + 1) % 7
    return sorted(set(result))


def _weekday(text: str) -> int:
    key = text.strip().lower()
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if key in _DAY_NAMES:
        return _DAY_NAMES.index(key)
    raise UsageError(f"not a weekday: {text.strip()!r} (mon, tue, ..., sun)", field="hours")


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_hours(specs: Iterable[str]) -> tuple[tuple[Interval, ...], ...]:
    """`--hours` values -> intervals per weekday (Monday first).

    Each spec is DAYS INTERVAL [INTERVAL ...]: "mon-fri 08:00-12:00 13:00-17:00". Specs may
    repeat; the same weekday in two specs must not overlap.
    """
    week: list[list[Interval]] = [[] for _ in range(7)]
    count = 0
    for spec in specs:
        text = spec.strip()
        days, _, rest = text.partition(" ")
        if not rest.strip():
            raise UsageError(
                f"hours {spec!r} need days and intervals, e.g. 'mon-fri 08:00-17:00'",
                field="hours",
            )
        intervals = parse_intervals(rest)
        for day in parse_days(days):
            week[day].extend(intervals)
        count += 1
    if not count:
        raise UsageError(
            "a calendar needs working hours (--hours 'mon-fri 08:00-17:00'; "
            "'mon-sun 00:00-24:00' is 24/7)",
            field="hours",
        )
    result = tuple(_checked(tuple(day), what=WEEKDAYS[i]) for i, day in enumerate(week))
    if not any(result):
        raise UsageError("the hours given hold no working time", field="hours")
    return result


def _checked(intervals: tuple[Interval, ...], what: str | None = None) -> tuple[Interval, ...]:
    """Sorted, valid, non-overlapping intervals; touching ones are joined."""
    ordered = sorted((int(s), int(e)) for s, e in intervals)
    merged: list[Interval] = []
    for start, end in ordered:
        if not 0 <= start < end <= DAY_MINUTES:
            raise UsageError(f"bad working interval {start}-{end} (minutes)", field="hours")
        if merged and start < merged[-1][1]:
            where = f" on {what}" if what else ""
            raise UsageError(
                f"working intervals {format_interval(merged[-1])} and "
                f"{format_interval((start, end))} overlap{where}",
                field="hours",
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def format_interval(interval: Interval) -> str:
    start, end = interval
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def format_intervals(intervals: Iterable[Interval]) -> str:
    return " ".join(format_interval(i) for i in intervals)


def format_week(weekly: tuple[tuple[Interval, ...], ...]) -> list[str]:
    """Intervals per weekday back to specs, runs of equal days joined: ['mon-fri 08:00-17:00']."""
    specs: list[str] = []
    day = 0
    while day < 7:
        hours = weekly[day]
        last = day
        while last + 1 < 7 and weekly[last + 1] == hours:
            last += 1
        if hours:
            days = WEEKDAYS[day] if last == day else f"{WEEKDAYS[day]}-{WEEKDAYS[last]}"
            specs.append(f"{days} {format_intervals(hours)}")
        day = last + 1
    return specs


# --- durations ------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(text: str, *, field: str = "duration") -> int:
    """'45m', '2h', '3d', '1h30m' (or plain minutes '90') -> minutes.

    A day is 24 hours of the basis's working time, so '3d' on business hours is 4320
    working minutes; write business days as hours ('27h') when that is meant.
    """
    value = text.strip().lower().replace(" ", "")
    if len(value) > 12:  # no duration of use is written longer (and int() of 5000 digits is slow)
        raise UsageError(f"{field} is too long: {text[:20]!r}...", field=field)
    if value.isdigit():
        return int(value)
    match = _DURATION.match(value)
    if not value or match is None:
        raise UsageError(f"not a duration: {text!r} (examples: 45m, 2h, 3d, 1h30m)", field=field)
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return days * DAY_MINUTES + hours * 60 + minutes


def format_duration(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    if minutes == 0:
        return "0m"
    parts = []
    days, rest = divmod(minutes, DAY_MINUTES)
    hours, mins = divmod(rest, 60)
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if mins:
        parts.append(f"{mins}m")
    return "".join(parts)
