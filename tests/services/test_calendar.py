"""Working-time arithmetic: hand-checked cases and properties (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cc_tui.errors import UsageError
from cc_tui.services.worktime.hours import (
    WorkCalendar,
    add_working_minutes,
    always,
    format_week,
    parse_duration,
    parse_hours,
    parse_intervals,
    working_minutes_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Berlin 2026: summer time from Sun 29 March (02:00 -> 03:00) to Sun 25 October
# (03:00 -> 02:00). New York 2026: Sun 8 March (02:00 -> 03:00), Sun 1 November (02:00 -> 01:00).
OFFICE = ["mon-fri 08:00-12:00 13:00-17:00"]


def berlin_office() -> WorkCalendar:
    return WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(OFFICE), name="office")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def due(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    result = add_working_minutes(cal, start, minutes)
    assert result.tzinfo is UTC
    return result


# --- hand-checked cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # same day, inside one interval
        ((2026, 3, 2, 9, 0), 60, (2026, 3, 2, 10, 0)),
        # over the lunch break (a split day)
        ((2026, 3, 2, 11, 30), 60, (2026, 3, 2, 13, 30)),
        # exactly to the end of an interval: that end, not the next opening
        ((2026, 3, 2, 16, 0), 60, (2026, 3, 2, 17, 0)),
        ((2026, 3, 2, 11, 0), 60, (2026, 3, 2, 12, 0)),
        # overnight
        ((2026, 3, 2, 16, 30), 60, (2026, 3, 3, 8, 30)),
        # over the weekend (Friday -> Monday)
        ((2026, 3, 6, 16, 0), 120, (2026, 3, 9, 9, 0)),
        # start outside hours: Saturday, early morning, lunch, evening
        ((2026, 3, 7, 10, 0), 30, (2026, 3, 9, 8, 30)),
        ((2026, 3, 2, 6, 0), 30, (2026, 3, 2, 8, 30)),
        ((2026, 3, 2, 12, 30), 30, (2026, 3, 2, 13, 30)),
        ((2026, 3, 2, 19, 0), 480, (2026, 3, 3, 17, 0)),
        # several days: 16 working hours from Monday 09:00 is Wednesday 09:00
        ((2026, 3, 2, 9, 0), 960, (2026, 3, 4, 9, 0)),
    ],
)
def test_office_hours(start, minutes, expected):
    cal = berlin_office()
    assert due(cal, local(BERLIN, *start), minutes) == local(BERLIN, *expected)
    # and counting back gives the same minutes
    assert working_minutes_between(cal, local(BERLIN, *start), local(BERLIN, *expected)) == minutes


def test_zero_minutes_is_the_start_itself():
    cal = berlin_office()
    saturday = local(BERLIN, 2026, 3, 7, 10, 0)
    assert due(cal, saturday, 0) == saturday


def test_holidays_are_skipped_also_when_starting_on_one():
    easter = {date(2026, 4, 3): (), date(2026, 4, 6): ()}  # Good Friday, Easter Monday
    cal = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(OFFICE), days=easter)
    # Thursday 16:30 + 60 minutes: 30 on Thursday, then Tuesday 08:00 + 30
    assert due(cal, local(BERLIN, 2026, 4, 2, 16, 30), 60) == local(BERLIN, 2026, 4, 7, 8, 30)
    # starting on the holiday itself
    assert due(cal, local(BERLIN, 2026, 4, 3, 9, 0), 30) == local(BERLIN, 2026, 4, 7, 8, 30)
    assert cal.is_holiday(date(2026, 4, 3))
    assert (
        working_minutes_between(
            cal, local(BERLIN, 2026, 4, 2, 0, 0), local(BERLIN, 2026, 4, 8, 0, 0)
        )
        == 2 * 8 * 60
    )  # Thursday and Tuesday; Friday to Monday count nothing


def test_an_exceptional_day_has_its_own_hours():
    cal = WorkCalendar(
        tz="Europe/Berlin",
        weekly=parse_hours(OFFICE),
        days={date(2026, 12, 24): parse_intervals("09:00-12:00")},
    )
    # Christmas Eve (Thursday): only 09:00-12:00
    assert due(cal, local(BERLIN, 2026, 12, 24, 11, 0), 120) == local(BERLIN, 2026, 12, 25, 9, 0)


def test_berlin_spring_forward():
    cal = berlin_office()
    # Friday 16:00 CET + 2 h: one hour on Friday, the other on Monday (already CEST)
    got = due(cal, local(BERLIN, 2026, 3, 27, 16, 0), 120)
    assert got == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert got.astimezone(BERLIN).hour == 9
    # a whole Sunday lasts 23 hours
    sunday = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 00:00-24:00"]))
    start = local(BERLIN, 2026, 3, 29, 0, 0)
    assert working_minutes_between(sunday, start, start + timedelta(days=2)) == 23 * 60
    assert due(sunday, start, 23 * 60) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    # a night interval over the jump: 01:00 CET to 04:00 CEST is two real hours
    night = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 01:00-04:00"]))
    assert working_minutes_between(night, start, start + timedelta(days=1)) == 120
    # an interval starting in the skipped hour starts when the clock jumps (03:00 CEST)
    gap = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 02:30-05:00"]))
    assert due(gap, start, 1) == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)
    assert working_minutes_between(gap, start, start + timedelta(days=1)) == 120


def test_berlin_fall_back():
    sunday = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 00:00-24:00"]))
    start = local(BERLIN, 2026, 10, 25, 0, 0)
    assert working_minutes_between(sunday, start, start + timedelta(days=2)) == 25 * 60
    assert due(sunday, start, 25 * 60) == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    night = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 01:00-04:00"]))
    assert working_minutes_between(night, start, start + timedelta(days=1)) == 240
    # office hours on the Monday after are in CET again: 09:00 CET = 08:00 UTC
    office = berlin_office()
    assert due(office, local(BERLIN, 2026, 10, 23, 16, 0), 120) == datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )


def test_new_york_spring_forward_and_fall_back():
    sunday = WorkCalendar(tz="America/New_York", weekly=parse_hours(["sun 00:00-24:00"]))
    spring = local(NEW_YORK, 2026, 3, 8, 0, 0)
    fall = local(NEW_YORK, 2026, 11, 1, 0, 0)
    assert working_minutes_between(sunday, spring, spring + timedelta(days=1)) == 23 * 60
    assert working_minutes_between(sunday, fall, fall + timedelta(days=1)) == 25 * 60
    assert due(sunday, spring, 23 * 60) == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    office = WorkCalendar(tz="America/New_York", weekly=parse_hours(["mon-fri 09:00-17:00"]))
    # Friday 16:00 EST (21:00 UTC) + 2 h -> Monday 10:00 EDT (14:00 UTC)
    assert due(office, local(NEW_YORK, 2026, 3, 6, 16, 0), 120) == datetime(
        2026, 3, 9, 14, 0, tzinfo=UTC
    )
    # Friday 16:00 EDT + 2 h -> Monday 10:00 EST (15:00 UTC)
    assert due(office, local(NEW_YORK, 2026, 10, 30, 16, 0), 120) == datetime(
        2026, 11, 2, 15, 0, tzinfo=UTC
    )


def test_all_hours_is_elapsed_time_also_over_dst():
    cal = WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["mon-sun 00:00-24:00"]))
    assert cal.always
    start = local(BERLIN, 2026, 3, 29, 0, 0)  # the 23-hour day
    assert due(cal, start, 24 * 60) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert due(always(), start, 24 * 60) == due(cal, start, 24 * 60)
    # (aware datetime + timedelta is wall-clock arithmetic in Python: add in UTC)
    end = start.astimezone(UTC) + timedelta(hours=30, seconds=59)
    assert working_minutes_between(cal, start, end) == 1800


def test_instants_with_any_offset_are_accepted():
    cal = berlin_office()
    # 03:00 at UTC-5 is 09:00 in Berlin
    start = datetime.fromisoformat("2026-03-02T03:00:00-05:00")
    assert due(cal, start, 60) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert due(cal, start.astimezone(ZoneInfo("Asia/Tokyo")), 60) == due(cal, start, 60)
    with pytest.raises(ValueError):
        add_working_minutes(cal, datetime(2026, 3, 2, 9, 0), 60)


def test_counting_backwards_is_negative():
    cal = berlin_office()
    monday, friday = local(BERLIN, 2026, 3, 9, 9, 0), local(BERLIN, 2026, 3, 6, 16, 0)
    assert working_minutes_between(cal, friday, monday) == 120
    assert working_minutes_between(cal, monday, friday) == -120
    assert working_minutes_between(cal, monday, monday) == 0


def test_a_calendar_without_any_hours_is_refused_not_looped():
    cal = WorkCalendar(tz="UTC", weekly=((),) * 7)
    with pytest.raises(UsageError, match="no working time"):
        add_working_minutes(cal, datetime(2026, 1, 1, tzinfo=UTC), 1)


# --- hours and durations --------------------------------------------------------------


def test_hours_specs():
    week = parse_hours(["mon-fri 08:00-12:00 13:00-17:00", "sat 09:00-12:00"])
    assert week[0] == ((480, 720), (780, 1020))
    assert week[5] == ((540, 720),)
    assert week[6] == ()
    assert format_week(week) == ["mon-fri 08:00-12:00 13:00-17:00", "sat 09:00-12:00"]
    assert parse_hours(["fri-mon 10:00-11:00"])[6] == ((600, 660),)
    assert format_week(parse_hours(["mon-sun 00:00-24:00"])) == ["mon-sun 00:00-24:00"]
    # touching intervals are one
    assert parse_hours(["mon 08:00-12:00", "mon 12:00-13:00"])[0] == ((480, 780),)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["mon-fri 08:00-12:00", "fri 11:00-13:00"], "overlap"),
        (["xyz 08:00-12:00"], "not a weekday"),
        (["mon 24:00-24:00"], "out of range"),
        (["mon 17:00-08:00"], "split a night shift"),
        (["mon 8-12"], "not a time"),
        (["mon"], "need days and intervals"),
        ([], "needs working hours"),
        (["mon 08:00-12:60"], "out of range"),
    ],
)
def test_bad_hours_are_refused_clearly(specs, message):
    with pytest.raises(UsageError, match=message):
        parse_hours(specs)


def test_durations():
    assert parse_duration("45m") == 45
    assert parse_duration("2h") == 120
    assert parse_duration("3d") == 3 * 1440
    assert parse_duration("1h30m") == 90
    assert parse_duration(" 90 ") == 90
    for bad in ("", "h", "1.5h", "2x", "30m1h", "-5m"):
        with pytest.raises(UsageError):
            parse_duration(bad)


# --- properties -----------------------------------------------------------------------

CALENDARS = [
    berlin_office(),
    WorkCalendar(
        tz="Europe/Berlin",
        weekly=parse_hours([*OFFICE, "sat 09:00-12:00"]),
        days={date(2026, 4, 3): (), date(2026, 10, 26): parse_intervals("10:00-11:30")},
    ),
    WorkCalendar(tz="America/New_York", weekly=parse_hours(["mon-fri 09:00-17:00"])),
    WorkCalendar(tz="Europe/Berlin", weekly=parse_hours(["sun 01:00-04:00 22:00-24:00"])),
    WorkCalendar(tz="America/New_York", weekly=parse_hours(["mon-sun 00:30-02:30"])),
    always(),
]
instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
)
offsets = st.sampled_from([UTC, BERLIN, NEW_YORK, ZoneInfo("Asia/Kolkata")])


@settings(max_examples=300, deadline=None)
@given(
    cal=st.sampled_from(CALENDARS),
    start=instants,
    zone=offsets,
    minutes=st.integers(0, 12_000),
)
def test_adding_then_counting_gives_the_minutes_back(cal, start, zone, minutes):
    start = start.astimezone(zone)
    end = add_working_minutes(cal, start, minutes)
    assert end >= start
    assert working_minutes_between(cal, start, end) == minutes


@settings(max_examples=200, deadline=None)
@given(
    cal=st.sampled_from(CALENDARS), start=instants, a=st.integers(0, 5000), b=st.integers(0, 5000)
)
def test_adding_in_two_steps_is_adding_once(cal, start, a, b):
    step = add_working_minutes(cal, start, a)
    assert add_working_minutes(cal, step, b) == add_working_minutes(cal, start, a + b)


@settings(max_examples=200, deadline=None)
@given(cal=st.sampled_from(CALENDARS), start=instants, end=instants)
def test_counting_then_adding_never_passes_the_end(cal, start, end):
    minutes = working_minutes_between(cal, start, end)
    if minutes > 0:
        assert add_working_minutes(cal, start, minutes) <= end
        assert add_working_minutes(cal, start, minutes + 1) > end
