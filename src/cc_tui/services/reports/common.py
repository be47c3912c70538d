"""What every report shares: the period, its buckets, the groupings, durations in SQL.

A period is half-open: `--from` day inclusive, `--to` day exclusive, both read as local
midnights in the display zone and compared as UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, text
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui.errors import UsageError
from cc_tui.models import Agent, Code, Department, Incident, Priority
from cc_tui.services.context import Actor

NONE_LABEL = "(none)"
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """[start, end) as local days and as the UTC instants they begin at."""

    first: date
    end: date
    zone: tzinfo | None
    start_at: datetime
    end_at: datetime


def local_midnight(day: date, zone: tzinfo | None) -> datetime:
    """The instant a local day begins (zone None: the system's zone)."""
    naive = datetime(day.year, day.month, day.day)
    local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return local.astimezone(UTC)


def parse_day(value: str | date, option: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option} is YYYY-MM-DD, not {value!r}", field=option) from None


def period(first: str | date, end: str | date, zone: tzinfo | None) -> Period:
    day0, day1 = parse_day(first, "--from"), parse_day(end, "--to")
    if day1 <= day0:
        raise UsageError("--to must come after --from (the --to day is not included)")
    return Period(day0, day1, zone, local_midnight(day0, zone), local_midnight(day1, zone))


def bucket_starts(p: Period, unit: str) -> list[date]:
    """The local days each bucket of the period begins on (weeks begin on Monday)."""
    if unit not in PERIODS:
        raise UsageError(f"--period is one of {', '.join(PERIODS)}, not {unit!r}")
    starts: list[date] = []
    day = p.first
    while day < p.end:
        starts.append(day)
        if unit == "day":
            day += timedelta(days=1)
        elif unit == "week":
            day += timedelta(days=7 - day.weekday())
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return starts


def bucket_label(day: date, unit: str) -> str:
    if unit == "month":
        return f"{day:%Y-%m}"
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def bucket_expr(column: Any, p: Period, unit: str) -> ColumnElement[str]:
    """The bucket label of a timestamp inside the period. Local days have DST-dependent
    lengths, so the bounds are computed here and SQL tests them: a balanced tree of CASEs,
    so each row costs log2(buckets) comparisons rather than one per bucket."""
    starts = bucket_starts(p, unit)
    bounds = [local_midnight(d, p.zone) for d in starts[1:]]
    labels = [bucket_label(day, unit) for day in starts]

    def tree(low: int, high: int) -> ColumnElement[str]:
        # Buckets low..high (inclusive); bounds[i] ends bucket i.
        if low == high:
            return literal(labels[low])
        mid = (low + high) // 2
        return case((column < bounds[mid], tree(low, mid)), else_=tree(mid + 1, high))

    return tree(0, len(labels) - 1)


def analytic(session: Session) -> None:
    """Settings for one report's transaction. PostgreSQL's JIT compiler takes longer to
    compile a report's aggregates (a second or more) than they take to run: off for it.
    Its default 4 MB for a sort or hash spills a year's half million (agent, incident)
    pairs to disk (1.2 s instead of 0.6 s): 64 MB for the report's own transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def in_period(column: Any, p: Period) -> ColumnElement[bool]:
    return and_(column >= p.start_at, column < p.end_at)


def minutes_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """`end - start` in minutes (fractional) on the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 60.0
    return (func.julianday(end) - func.julianday(start)) * 1440.0


# The groupings: the incident's column and how a group is named.
GROUPS = ("request_type", "channel", "reason", "problem", "priority", "department", "agent")


def grouped(query: Select[Any], by: str, *, agent_column: Any = None) -> tuple[Select[Any], Any]:
    """`query` (over Incident) joined to what names the group, and the group's label."""
    if by == "request_type":
        return query, col(Incident.request_type)
    if by == "channel":
        return query, col(Incident.channel)
    if by in ("reason", "problem"):
        code = aliased(Code)
        fk = Incident.reason_general_id if by == "reason" else Incident.problem_code_id
        joined = query.outerjoin(code, col(code.id) == col(fk))
        return joined, func.coalesce(col(code.path), NONE_LABEL)
    if by == "priority":
        joined = query.outerjoin(Priority, col(Priority.id) == col(Incident.priority_id))
        return joined, func.coalesce(col(Priority.code), NONE_LABEL)
    if by == "department":
        joined = query.outerjoin(Department, col(Department.id) == col(Incident.department_id))
        return joined, func.coalesce(col(Department.code), NONE_LABEL)
    if by == "agent":
        who = aliased(Agent)
        column = col(Incident.owner_id) if agent_column is None else agent_column
        joined = query.outerjoin(who, col(who.id) == column)
        return joined, func.coalesce(col(who.login), NONE_LABEL)
    raise UsageError(f"--by is one of {', '.join(GROUPS)}, not {by!r}", field="by")


def scoped(query: Select[Any], actor: Actor | None) -> Select[Any]:
    """Supervisors see every incident; an agent the ones they own or registered."""
    if actor is None or actor.is_supervisor:
        return query
    return query.where(
        or_(col(Incident.owner_id) == actor.id, col(Incident.created_by_id) == actor.id)
    )


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
