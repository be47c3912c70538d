"""Time analysis: how long incidents took from the contact's start to their first response,
assignment, solution and closing, per group.

Wall clock: count, mean, min and max are SQL aggregates; median and p90 read the two
ranked rows around each percentile (ROW_NUMBER over the group, the same on SQLite and
PostgreSQL) and interpolate between them as `percentile_cont` does. Business clock: the
working minutes depend on each incident's calendar (holidays, DST), so SQL selects the
timestamps and the calendar and `worktime.hours` measures each incident in Python.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui.errors import UsageError
from cc_tui.models import Department, Incident, Priority, ServiceContract
from cc_tui.services.context import Actor
from cc_tui.services.reports.common import grouped, in_period, minutes_between, period, scoped
from cc_tui.services.reports.figures import Report
from cc_tui.services.worktime.hours import working_time
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
TIME_GROUPS = ("reason", "priority", "problem", "department", "agent", "channel")


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


def _base(session: Session, by: str, p: Any, actor: Actor | None) -> tuple[Select[Any], Any]:
    query, group = grouped(select(), by)
    query = scoped(
        query.select_from(Incident).where(
            in_period(col(Incident.opened_at), p),
            col(Incident.status).not_in([s.value for s in CONTACT_ONLY_STATUSES]),
        ),
        actor,
    )
    return query, group


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
    base, group = _base(session, by, p, actor)
    counts = {
        g: int(n)
        for g, n in session.execute(base.add_columns(group, func.count()).group_by(group)).all()
    }
    if clock == "wall":
        spans = {name: _wall(session, base, group, column) for name, column in SPANS.items()}
    else:
        spans = _business(session, base, group)
    rows = []
    for g in sorted(counts):
        row: dict[str, Any] = {"group": g, "count": counts[g]}
        for name in SPANS:
            row[name] = spans[name].get(g, _empty())
        rows.append(row)
    return Report("times", p.first.isoformat(), p.end.isoformat(), rows, {"by": by, "clock": clock})


def _wall(
    session: Session, base: Select[Any], group: Any, end_column: Any
) -> dict[str, dict[str, Any]]:
    ended = col(end_column)
    minutes = minutes_between(session, col(Incident.opened_at), ended)
    query = base.where(ended.is_not(None))
    out: dict[str, dict[str, Any]] = {}
    for g, n, mean, low, high in session.execute(
        query.add_columns(
            group, func.count(), func.avg(minutes), func.min(minutes), func.max(minutes)
        ).group_by(group)
    ).all():
        out[g] = {
            "count": int(n),
            "mean_minutes": _round(mean),
            "median_minutes": None,
            "p90_minutes": None,
            "min_minutes": _round(low),
            "max_minutes": _round(high),
        }
    ranked = query.add_columns(
        group.label("g"),
        minutes.label("m"),
        func.row_number().over(partition_by=group, order_by=minutes).label("rn"),
        func.count().over(partition_by=group).label("cnt"),
    ).subquery()
    # 0-based ranks around the median and p90: floor and ceil of q * (n - 1).
    rank, cnt = ranked.c.rn - 1, ranked.c.cnt
    wanted = or_(
        *(rank == (num * (cnt - 1)) // den for num, den in QUANTILES.values()),
        *(rank == (num * (cnt - 1) + den - 1) // den for num, den in QUANTILES.values()),
    )
    picked: dict[str, dict[int, float]] = {}
    for g, m, rn, n in session.execute(
        select(ranked.c.g, ranked.c.m, ranked.c.rn, ranked.c.cnt).where(wanted)
    ).all():
        picked.setdefault(g, {})[int(rn) - 1] = float(m)
        out[g]["_n"] = int(n)
    for g, at in picked.items():
        n = out[g].pop("_n")
        for key, (num, den) in QUANTILES.items():
            low, high, weight = ranks(n, num, den)
            out[g][key] = _round(at[low] + (at[high] - at[low]) * weight)
    return out


def _business(session: Session, base: Select[Any], group: Any) -> dict[str, dict[str, Any]]:
    """Working minutes on the incident's calendar, chosen as the deadlines choose it: none
    (24/7) for an all-hours priority, the contract's for a contract-hours priority, else the
    department's, else the priority's."""
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
        base.outerjoin(prio, col(prio.id) == col(Incident.priority_id))
        .outerjoin(dept, col(dept.id) == col(Incident.department_id))
        .outerjoin(contract, col(contract.id) == col(Incident.contract_id))
        .add_columns(group, calendar, col(Incident.opened_at), *(col(c) for c in SPANS.values()))
    )
    cache = CalendarCache(session)
    values: dict[str, dict[str, list[float]]] = {name: {} for name in SPANS}
    for g, calendar_id, opened, *ends in session.execute(query).all():
        cal = cache.get(calendar_id)
        for name, ended in zip(SPANS, ends, strict=True):
            if ended is not None:
                values[name].setdefault(g, []).append(_working_minutes(cal, opened, ended))
    return {
        name: {g: summary(v) for g, v in per_group.items()} for name, per_group in values.items()
    }


def _working_minutes(cal: Any, start: datetime, end: datetime) -> float:
    return working_time(cal, start, end) / timedelta(minutes=1)
