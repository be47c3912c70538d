"""Time as the agent reads and types it: UTC from the database, shown and parsed in the
agent's display zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from cc_tui.errors import UsageError

if TYPE_CHECKING:
    from cc_tui.config import Settings


def display_zone(settings: Settings | None) -> tzinfo | None:
    """The agent's display zone: the configured one, else the system's (None)."""
    return settings.display_zone if settings is not None else None


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """A UTC timestamp as the agent reads it: `2025-03-04 10:42` in their zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


TIME_EXAMPLE = "2026-12-05 14:00"


_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2}))?$")


def parse_local_time(text: str, zone: tzinfo | None = None) -> datetime | None:
    """What an agent typed as a time in their zone (`2026-12-05 14:00`), in UTC.

    Empty means no time (None). A date alone means its start (00:00). A wall time the
    clock change skips does not exist and is refused; one it repeats is the first.
    """
    text = text.strip()
    if not text:
        return None
    match = _LOCAL_TIME.match(text)
    if match is None:
        raise UsageError(f"not a time: {text!r} (write it as {TIME_EXAMPLE})")
    year, month, day, hour, minute = (int(part) if part else 0 for part in match.groups())
    try:
        wall = datetime(year, month, day, hour, minute)
    except ValueError as error:
        raise UsageError(f"not a time: {text!r} ({error})") from None
    # None is the system's zone: astimezone() on a naive time reads it as local.
    moment = wall.replace(tzinfo=zone) if zone is not None else wall.astimezone()
    utc = moment.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise UsageError(f"{text} does not exist in {zone_name(zone)}: the clocks change then")
    return utc


def zone_name(zone: tzinfo | None) -> str:
    """The zone's name as the agent knows it (the system's abbreviation when unset)."""
    if zone is not None:
        return str(getattr(zone, "key", None) or zone)
    return datetime.now().astimezone().tzname() or "local time"
