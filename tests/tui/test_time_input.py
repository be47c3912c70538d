"""Times typed by an agent in their display zone (`tui_support.parse_local_time`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cc_tui.console.local_time import parse_local_time, zone_name
from cc_tui.errors import UsageError

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05 14:00", datetime(2026, 12, 5, 13, 0, tzinfo=UTC)),  # CET: UTC+1
        ("2026-07-05 14:00", datetime(2026, 7, 5, 12, 0, tzinfo=UTC)),  # CEST: UTC+2
        ("  2026-12-05T9:05 ", datetime(2026, 12, 5, 8, 5, tzinfo=UTC)),
        ("2026-12-05", datetime(2026, 12, 4, 23, 0, tzinfo=UTC)),  # the start of the day
        # The clocks go back: 02:30 happens twice; the first one is meant.
        ("2026-10-25 02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ],
)
def test_a_local_time_is_read_in_the_agents_zone(text, expected):
    assert parse_local_time(text, BERLIN) == expected


def test_empty_means_no_time():
    assert parse_local_time("", BERLIN) is None
    assert parse_local_time("   ", BERLIN) is None


def test_utc_zone():
    assert parse_local_time("2026-12-05 14:00", UTC) == datetime(2026, 12, 5, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tomorrow", "not a time: 'tomorrow' (write it as 2026-12-05 14:00)"),
        ("05.12.2026 14:00", "not a time"),
        ("2026-12-05 14", "not a time"),
        ("2026-02-30 10:00", "day is out of range"),
        ("2026-12-05 25:00", "hour must be in"),
        # The clocks go forward: 02:30 never happens.
        ("2026-03-29 02:30", "does not exist in Europe/Berlin"),
    ],
)
def test_what_cannot_be_read_is_refused_with_the_reason(text, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_local_time(text, BERLIN)


def test_zone_names():
    assert zone_name(BERLIN) == "Europe/Berlin"
    assert zone_name(None)  # the system's abbreviation
