"""One entry point for a face that lets the agent pick a report, a period and a grouping."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from sqlmodel import Session

from cc_tui import clock
from cc_tui.errors import UsageError
from cc_tui.services.context import Actor
from cc_tui.services.reports import figures, times
from cc_tui.services.reports.common import GROUPS

REPORTS = ("volume", "times", "agents", "conversion", "sla", "backlog", "kb")
# The groupings each report takes (none: the report has its own rows).
GROUPINGS: dict[str, tuple[str, ...]] = {
    "volume": tuple(g for g in GROUPS if g != "problem"),
    "times": times.TIME_GROUPS,
    "conversion": ("reason", "problem", "priority", "department", "agent", "channel"),
}
# The figure a chart of each report shows.
CHART_FIGURE = {
    "volume": "count",
    "times": "count",
    "agents": "registered",
    "conversion": "requests",
    "sla": "count",
    "backlog": "open",
    "kb": "answered",
}
PRESETS = ("this week", "last week", "this month", "last month", "custom")


def preset_period(name: str, zone: tzinfo | None) -> tuple[date, date]:
    """[first, end) local days of a named period around today in the display zone."""
    today = clock.now().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    previous_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    spans = {
        "this week": (monday, monday + timedelta(days=7)),
        "last week": (monday - timedelta(days=7), monday),
        "this month": (month, next_month),
        "last month": (previous_month, month),
    }
    if name not in spans:
        raise UsageError(f"no period named {name!r}", field="period")
    return spans[name]


def run_report(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    first: str,
    end: str,
    zone: tzinfo | None,
    by: str | None = None,
) -> figures.Report:
    """The report `kind` for the agent: a supervisor sees everything, an agent their own."""
    if kind not in REPORTS:
        raise UsageError(f"no report named {kind!r}", field="report")
    common = {"first": first, "end": end, "zone": zone, "actor": actor}
    if kind == "times":
        return times.times(session, by=by or "priority", **common)  # type: ignore[arg-type]
    if kind in ("volume", "conversion"):
        unit = "day" if kind == "volume" else "month"
        fn = figures.volume if kind == "volume" else figures.conversion
        return fn(session, by=by or GROUPINGS[kind][0], unit=unit, **common)  # type: ignore[arg-type]
    fn_plain = {
        "agents": figures.agents,
        "sla": figures.sla,
        "backlog": figures.backlog,
        "kb": figures.kb,
    }[kind]
    return fn_plain(session, **common)  # type: ignore[arg-type]
