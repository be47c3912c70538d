"""One entry point for a face that lets the agent pick a report, a period and a grouping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any

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
# The figure a chart of each report shows (times: a measure's median).
CHART_FIGURE = {
    "volume": "count",
    "times": "to_solution",
    "agents": "registered",
    "conversion": "requests",
    "sla": "count",
    "backlog": "open",
    "kb": "answered",
}
# A line chart shows this many groups as lines; the rest are summed as "other".
LINE_GROUPS = 5
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


@dataclass(frozen=True)
class Chart:
    """What a face draws above a report's table: bars (one value per label) or lines (one
    series per group over the periods, in order)."""

    kind: str  # "bar" or "line"
    title: str
    labels: list[str]
    series: dict[str, list[float]] = field(default_factory=dict)


def _figure(row: dict[str, Any], figure: str) -> float:
    value = row.get(figure)
    if isinstance(value, dict):  # a span of the time analysis: its median
        value = value.get("median_minutes")
    return float(value) if isinstance(value, int | float) else 0.0


def chart(report: figures.Report) -> Chart:
    """Lines for what runs over time (the backlog's days, volume and conversion over more
    than one period), bars for the rest (per group, per agent, per article)."""
    figure = CHART_FIGURE[report.kind]
    name = f"{figure.replace('_', ' ')}" + (" (median minutes)" if report.kind == "times" else "")
    rows = report.rows
    if report.kind == "backlog":
        return Chart("line", "open at the end of the day", [r["group"] for r in rows],
                     {"open": [_figure(r, figure) for r in rows]})  # fmt: skip
    periods = sorted({r["period"] for r in rows if "period" in r})
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["group"]] = totals.get(r["group"], 0.0) + _figure(r, figure)
    if len(periods) > 1:
        ranked = sorted(totals, key=lambda g: (-totals[g], g))
        shown, rest = ranked[:LINE_GROUPS], set(ranked[LINE_GROUPS:])
        at = {p: i for i, p in enumerate(periods)}
        series = {g: [0.0] * len(periods) for g in sorted(shown)}
        if rest:
            series["other"] = [0.0] * len(periods)
        for r in rows:
            line = "other" if r["group"] in rest else r["group"]
            series[line][at[r["period"]]] += _figure(r, figure)
        return Chart("line", f"{name} per {report.extra.get('period', 'period')}", periods, series)
    labels = sorted(totals)
    return Chart("bar", name, labels, {name: [totals[g] for g in labels]})
