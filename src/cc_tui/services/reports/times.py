"""Time analysis: how long incidents took from the contact's start to their first response,
assignment, solution and closing, and the time booked on them, per group.

Wall clock, one pass over the period's incidents. PostgreSQL: one GROUP BY with
`percentile_cont` for the median and p90. SQLite (no percentile function): the count, mean,
min and max in one GROUP BY; the median and p90 from one statement that ranks every
measured value (ROW_NUMBER over the group and span) and returns only the two ranked values
around each percentile, interpolated here as `percentile_cont` does. Groups are the
incident's own column (an id), named afterwards, so no row joins a code table.

Business clock: the working minutes depend on each incident's calendar (holidays, DST), so
SQL selects the timestamps (as numbers) and the calendar; each calendar's working spans over
the period are laid out once with `worktime.hours` and every incident is measured by
bisection in them, then summarised in Python.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Integer as SqlInteger
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui.errors import UsageError
from cc_tui.models import Agent, Code, Department, Incident, Priority, ServiceContract, TimeEntry
from cc_tui.services.context import Actor
from cc_tui.services.reports.common import NONE_LABEL, analytic, in_period, period, scoped
from cc_tui.services.reports.figures import Report
from cc_tui.services.worktime.hours import WorkCalendar
from cc_tui.services.worktime.stored import CalendarCache
from cc_tui.statuses import CONTACT_ONLY_STATUSES

CLOCKS = ("wall", "business")
# The measured spans: name in the report -> the incident's timestamp that ends it.
SPANS: dict[str, Any] = {
    "to_response": Incident.first_response_at,
    "to_assignment": Incident.assigned_at,
    "to_solution": Incident.solved_at,
    "to_close": Incident.closed_at,
}
# Time booked: the minutes of the finished time entries on each incident that has any,
# with the same figures as a span, and their total.
BOOKED = "booked"
MEASURES = (*SPANS, BOOKED)
TIME_GROUPS = ("reason", "priority", "problem", "department", "agent", "channel")
# The incident's column each grouping reads, and the table and column that name its values.
_GROUP_COLUMNS: dict[str, Any] = {
    "reason": Incident.reason_general_id,
    "priority": Incident.priority_id,
    "problem": Incident.problem_code_id,
    "department": Incident.department_id,
    "agent": Incident.owner_id,
    "channel": Incident.channel,
}
_GROUP_NAMES: dict[str, tuple[Any, Any]] = {
    "reason": (Code.id, Code.path),
    "problem": (Code.id, Code.path),
    "priority": (Priority.id, Priority.code),
    "department": (Department.id, Department.code),
    "agent": (Agent.id, Agent.login),
}


# Median and p90 as exact fractions: the ranks are integer arithmetic, in SQL and here.
QUANTILES = {"median_minutes": (1, 2), "p90_minutes": (9, 10)}


def ranks(n: int, num: int, den: int) -> tuple[int, int, float]:
    """0-based ranks around the num/den quantile of n values and the weight of the upper."""
    scaled = num * (n - 1)
    return scaled // den, (scaled + den - 1) // den, (scaled % den) / den


def percentile(ordered: Sequence[float], num: int, den: int) -> float:
    """Linear interpolation between closest ranks (`percentile_cont`)."""
    low, high, weight = ranks(len(ordered), num, den)
    return ordered[low] + (ordered[high] - ordered[low]) * weight


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """The figures of one span from its durations (the business clock's path)."""
    ordered = sorted(values)
    if not ordered:
        return _empty()
    return {
        "count": len(ordered),
        "mean_minutes": _round(statistics.fmean(ordered)),
        "median_minutes": _round(percentile(ordered, 1, 2)),
        "p90_minutes": _round(percentile(ordered, 9, 10)),
        "min_minutes": _round(ordered[0]),
        "max_minutes": _round(ordered[-1]),
    }


def _empty() -> dict[str, Any]:
    return {
        "count": 0,
        "mean_minutes": None,
        "median_minutes": None,
        "p90_minutes": None,
        "min_minutes": None,
        "max_minutes": None,
    }


def _booked_block(figures: dict[str, Any], total: float | None) -> dict[str, Any]:
    return {**figures, "total_minutes": int(total or 0)}


def _booked_minutes() -> Any:
    """The minutes booked on the incident (finished entries), NULL when none: read from
    the covering index on time_entry (incident_id, ended_at, minutes)."""
    return (
        select(func.sum(col(TimeEntry.minutes)))
        .where(col(TimeEntry.incident_id) == col(Incident.id), col(TimeEntry.ended_at).is_not(None))
        .scalar_subquery()
    )


def times(
    session: Session,
    *,
    first: str,
    end: str,
    zone: tzinfo | None,
    by: str = "priority",
    clock: str = "wall",
    actor: Actor | None = None,
) -> Report:
    """Incidents registered (saved) whose contact started in the period, per group."""
    if by not in TIME_GROUPS:
        raise UsageError(f"--by is one of {', '.join(TIME_GROUPS)}, not {by!r}", field="by")
    if clock not in CLOCKS:
        raise UsageError(f"--clock is wall or business, not {clock!r}", field="clock")
    p = period(first, end, zone)
    analytic(session)
    key = col(_GROUP_COLUMNS[by])
    where = scoped(
        select().where(
            in_period(col(Incident.opened_at), p),
            col(Incident.status).not_in([s.value for s in CONTACT_ONLY_STATUSES]),
        ),
        actor,
    ).whereclause
    if clock == "business":
        per_key = _business(session, key, where)
    elif session.get_bind().dialect.name == "postgresql":
        per_key = _wall_postgresql(session, key, where)
    else:
        per_key = _wall_sqlite(session, key, where)
    names = _names(session, by, list(per_key))
    rows: dict[str, dict[str, Any]] = {}
    for k, figures in per_key.items():
        label = names.get(k, NONE_LABEL)
        rows[label] = {"group": label, **figures}
    ordered = [rows[g] for g in sorted(rows)]
    return Report(
        "times", p.first.isoformat(), p.end.isoformat(), ordered, {"by": by, "clock": clock}
    )


def _names(session: Session, by: str, keys: list[Any]) -> dict[Any, str]:
    """Group keys (ids) -> labels; a channel is its own label, no value is '(none)'."""
    if by not in _GROUP_NAMES:
        return {k: k for k in keys if k is not None}
    id_column, name_column = _GROUP_NAMES[by]
    wanted = [k for k in keys if k is not None]
    if not wanted:
        return {}
    query = select(col(id_column), col(name_column)).where(col(id_column).in_(wanted))
    return {k: name for k, name in session.execute(query).all()}


def _row(count: int, stats: dict[str, dict[str, Any]], booked_total: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"count": count}
    for name in SPANS:
        row[name] = stats.get(name, _empty())
    row[BOOKED] = _booked_block(stats.get(BOOKED, _empty()), booked_total)
    return row


def _base(key: Any, where: Any, measures: list[Any]) -> Any:
    """The period's incidents once, as a small table: group key and one value per measure
    (materialized, so the booked-time look-up runs once per incident)."""
    return (
        select(key.label("g"), *(m.label(f"m{i}") for i, m in enumerate(measures)))
        .select_from(Incident)
        .where(where)
        .cte("base")
        .prefix_with("MATERIALIZED")
    )


def _wall_postgresql(session: Session, key: Any, where: Any) -> dict[Any, dict[str, Any]]:
    opened = col(Incident.opened_at)
    measures: list[Any] = [
        func.date_part("epoch", col(column) - opened) / 60.0 for column in SPANS.values()
    ]
    base = _base(key, where, [*measures, _booked_minutes()])
    columns: list[Any] = [base.c.g, func.count()]
    for i in range(len(MEASURES)):
        m = base.c[f"m{i}"]
        columns += [
            func.count(m),
            func.avg(m),
            func.min(m),
            func.max(m),
            func.percentile_cont(postgresql.array([0.5, 0.9])).within_group(m),
        ]
    columns.append(func.sum(base.c[f"m{len(MEASURES) - 1}"]))
    out: dict[Any, dict[str, Any]] = {}
    for k, n, *figures in session.execute(select(*columns).group_by(base.c.g)).all():
        booked_total = figures.pop()
        stats: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(MEASURES):
            cnt, mean, low, high, pct = figures[5 * i : 5 * i + 5]
            if cnt:
                stats[name] = {
                    "count": int(cnt),
                    "mean_minutes": _round(mean),
                    "median_minutes": _round(pct[0]),
                    "p90_minutes": _round(pct[1]),
                    "min_minutes": _round(low),
                    "max_minutes": _round(high),
                }
        out[k] = _row(int(n), stats, booked_total)
    return out


def _wall_sqlite(session: Session, key: Any, where: Any) -> dict[Any, dict[str, Any]]:
    opened = func.julianday(col(Incident.opened_at))
    measures: list[Any] = [
        (func.julianday(col(column)) - opened) * 1440.0 for column in SPANS.values()
    ]
    measures.append(_booked_minutes())
    names = [f"m{i}" for i in range(len(measures))]
    base = _base(key, where, measures)
    figures: list[Any] = [base.c.g, func.count()]
    for n in names:
        c = base.c[n]
        figures += [func.count(c), func.avg(c), func.min(c), func.max(c)]
    figures.append(func.sum(base.c[names[-1]]))
    counts: dict[Any, dict[str, Any]] = {}
    wanted: list[tuple[int, Any, int]] = []
    spans_of: dict[Any, dict[str, dict[str, Any]]] = {}
    totals: dict[Any, Any] = {}
    for g, n, *got in session.execute(select(*figures).group_by(base.c.g)).all():
        totals[g] = got.pop()
        counts[g] = {"count": int(n)}
        stats: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(MEASURES):
            cnt, mean, low, high = got[4 * i : 4 * i + 4]
            if not cnt:
                continue
            stats[name] = {
                "count": int(cnt),
                "mean_minutes": _round(mean),
                "median_minutes": None,
                "p90_minutes": None,
                "min_minutes": _round(low),
                "max_minutes": _round(high),
            }
            for num, den in QUANTILES.values():
                low_rank, high_rank, _ = ranks(int(cnt), num, den)
                wanted += [(i, g, low_rank + 1), (i, g, high_rank + 1)]
        spans_of[g] = stats
    if wanted:
        picked = _ranked_values(session, base, names, wanted)
        for (i, g), at in picked.items():
            measure = spans_of[g][MEASURES[i]]
            for quantile, (num, den) in QUANTILES.items():
                low_rank, high_rank, weight = ranks(measure["count"], num, den)
                low, high = at[low_rank + 1], at[high_rank + 1]
                measure[quantile] = _round(low + (high - low) * weight)
    return {g: _row(counts[g]["count"], spans_of[g], totals[g]) for g in counts}


def _ranked_values(
    session: Session, base: Any, names: list[str], wanted: list[tuple[int, Any, int]]
) -> dict[tuple[int, Any], dict[int, float]]:
    """The values at the wanted 1-based ranks of each (measure, group): every measured value
    ranked in one window, only the wanted ones returned."""
    long = union_all(
        *(
            select(
                literal(i, SqlInteger).label("k"), base.c.g.label("g"), base.c[n].label("m")
            ).where(base.c[n].is_not(None))
            for i, n in enumerate(names)
        )
    ).subquery("long")
    ranked = select(
        long.c.k,
        long.c.g,
        long.c.m,
        func.row_number().over(partition_by=(long.c.k, long.c.g), order_by=long.c.m).label("rn"),
    ).subquery("ranked")
    # A literal IN list is a look-up per row; the exact (measure, group, rank) is checked
    # here on the few rows it lets through.
    query = select(ranked.c.k, ranked.c.g, ranked.c.rn, ranked.c.m).where(
        ranked.c.rn.in_(sorted({rank for _k, _g, rank in wanted}))
    )
    exact = set(wanted)
    out: dict[tuple[int, Any], dict[int, float]] = {}
    for k, g, rn, m in session.execute(query).all():
        if (int(k), g, int(rn)) in exact:
            out.setdefault((int(k), g), {})[int(rn)] = float(m)
    return out


def _epoch(session: Session, column: Any) -> Any:
    """Seconds since 1970 as a plain number: no datetime object per value on the way out."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


class _WorkingClock:
    """Working seconds since the first day of a calendar's range, at any instant of it: the
    working spans of every local day in the range (as `worktime.hours` computes them, DST
    and holidays included) with their running total, found by bisection. The working time
    between two instants is the difference of the two readings, as `working_time` sums it
    day by day."""

    def __init__(self, cal: WorkCalendar | None, first: float, last: float) -> None:
        self.always = cal is None or cal.always
        self.opens: list[float] = []
        self.lengths: list[float] = []
        self.before: list[float] = []
        if cal is None or self.always:
            return
        day = datetime.fromtimestamp(first, UTC).astimezone(cal.zone).date() - timedelta(days=1)
        end = datetime.fromtimestamp(last, UTC).astimezone(cal.zone).date() + timedelta(days=1)
        total = 0.0
        while day <= end:
            for opens, closes in cal.spans(day):
                length = (closes - opens).total_seconds()
                self.opens.append(opens.timestamp())
                self.lengths.append(length)
                self.before.append(total)
                total += length
            day += timedelta(days=1)

    def reading(self, t: float) -> float:
        i = bisect_right(self.opens, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(t - self.opens[i], self.lengths[i])

    def minutes(self, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        if self.always:
            return (end - start) / 60.0
        return (self.reading(end) - self.reading(start)) / 60.0


def _business(session: Session, key: Any, where: Any) -> dict[Any, dict[str, Any]]:
    """Working minutes on the incident's calendar, chosen as the deadlines choose it: none
    (24/7) for an all-hours priority, the contract's for a contract-hours priority, else the
    department's, else the priority's. SQL selects each incident's group, calendar and
    timestamps (as numbers); each calendar's working spans over the period are laid out
    once and every incident is measured by two look-ups per span. Time booked is the same
    on both clocks."""
    prio, dept, contract = aliased(Priority), aliased(Department), aliased(ServiceContract)
    calendar = case(
        (prio.id.is_(None), None),  # type: ignore[union-attr]
        (col(prio.basis) == "all", None),
        (
            (col(prio.basis) == "contract") & col(contract.calendar_id).is_not(None),
            col(contract.calendar_id),
        ),
        else_=func.coalesce(col(dept.calendar_id), col(prio.calendar_id)),
    )
    query = (
        select(
            key,
            calendar,
            _epoch(session, col(Incident.opened_at)),
            _booked_minutes(),
            *(_epoch(session, col(c)) for c in SPANS.values()),
        )
        .select_from(Incident)
        .where(where)
        .outerjoin(prio, col(prio.id) == col(Incident.priority_id))
        .outerjoin(dept, col(dept.id) == col(Incident.department_id))
        .outerjoin(contract, col(contract.id) == col(Incident.contract_id))
    )
    rows = session.execute(query).all()
    # Each calendar's range: its incidents' first start to their last end.
    ranges: dict[Any, list[float]] = {}
    for _g, calendar_id, opened, _booked, *ends in rows:
        latest = max((float(e) for e in ends if e is not None), default=float(opened))
        got = ranges.get(calendar_id)
        if got is None:
            ranges[calendar_id] = [float(opened), latest]
        else:
            got[0], got[1] = min(got[0], float(opened)), max(got[1], latest)
    cache = CalendarCache(session)
    clocks = {
        calendar_id: _WorkingClock(
            cache.get(calendar_id) if calendar_id is not None else None, first, last
        )
        for calendar_id, (first, last) in ranges.items()
    }
    counts: dict[Any, int] = {}
    values_of: dict[Any, dict[str, list[float]]] = {}
    for g, calendar_id, opened, booked, *ends in rows:
        counts[g] = counts.get(g, 0) + 1
        per = values_of.get(g)
        if per is None:
            per = values_of[g] = {name: [] for name in MEASURES}
        clock = clocks[calendar_id]
        start = float(opened)
        for name, ended in zip(SPANS, ends, strict=True):
            if ended is not None:
                per[name].append(clock.minutes(start, float(ended)))
        if booked is not None:
            per[BOOKED].append(float(booked))
    out: dict[Any, dict[str, Any]] = {}
    for g, per in values_of.items():
        stats = {name: summary(v) for name, v in per.items()}
        out[g] = _row(counts[g], stats, sum(per[BOOKED]))
    return out
