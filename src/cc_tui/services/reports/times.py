"""Time analysis: how long incidents took from the contact's start to their first response,
assignment, solution and closing, and the time booked on them, per group.

SQL selects and filters: the period's saved incidents (in the actor's scope), each one's
group key (the incident's own column, an id named afterwards, so no row joins a code
table), the minutes booked on it, its timestamps and, on the business clock, its calendar
as the deadlines choose it. What it computes depends on the clock and the database:

- Wall clock on PostgreSQL: everything in one GROUP BY, the median and p90 with
  `percentile_cont`.
- Wall clock on SQLite and the business clock on both: SQLite has no percentile function,
  and ordering the values with its sorter costs about 0.8 s per million (GROUP BY sorts as
  well), while working minutes need each incident's calendar (holidays, DST, breaks). So
  SQL hands every column over in one piece, the period's values joined by commas
  (`group_concat` / `string_agg`, one text per column rather than a row tuple per
  incident; instants as their UTC wall time, which SQLite stores as such, so no
  `julianday` per value), and numpy (`arrays`) computes the rest: the instants parsed as
  datetime64, each span's minutes (on the business clock each calendar's working spans
  over the period laid out once and every incident's start and end looked up with
  `searchsorted`), the groups by `unique`, and per group and measure the values sorted
  once for count, mean, min, max, and the median and p90 interpolated between closest
  ranks exactly as `percentile_cont` does.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import BigInteger, Text, case, cast, func, literal, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui.errors import UsageError
from cc_tui.models import Agent, Code, Department, Incident, Priority, ServiceContract, TimeEntry
from cc_tui.services.context import Actor
from cc_tui.services.reports.common import NONE_LABEL, analytic, in_period, period, scoped
from cc_tui.services.reports.figures import Report
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


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
    if clock == "wall" and session.get_bind().dialect.name == "postgresql":
        per_key = _wall_postgresql(session, key, where)
    else:
        per_key = _measured(session, key, where, business=clock == "business")
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


# The integer numpy reads as NaT (no instant): the smallest int64.
_NAT = -(2**63)


def _id_text(column: Any) -> Any:
    """An id column as text in SQL, -1 for NULL."""
    return cast(func.coalesce(column, -1), Text)


def _label_text(column: Any) -> Any:
    """A text column in SQL, '' for NULL."""
    return func.coalesce(cast(column, Text), literal("", Text))


def _instant_text(session: Session, column: Any) -> Any:
    """An instant as text in SQL for numpy: SQLite stores its UTC wall time
    ('YYYY-MM-DD HH:MM:SS.ffffff'), handed over as stored ('' for NULL) and parsed as
    datetime64; PostgreSQL stores microseconds, handed over as microseconds since 1970
    (via the double `date_part`: within a microsecond), NULL as NaT's integer."""
    if session.get_bind().dialect.name == "postgresql":
        micros = cast(func.date_part("epoch", column) * 1_000_000, BigInteger)
        return cast(func.coalesce(micros, _NAT), Text)
    return func.coalesce(type_coerce(column, Text), literal("", Text))


def _calendar_choice() -> tuple[Any, list[tuple[Any, Any]]]:
    """The incident's calendar as the deadlines choose it: none (24/7) for an all-hours
    priority, the contract's for a contract-hours priority, else the department's, else the
    priority's; and the outer joins it reads."""
    prio, dept, contract = aliased(Priority), aliased(Department), aliased(ServiceContract)
    chosen = case(
        (prio.id.is_(None), None),  # type: ignore[union-attr]
        (col(prio.basis) == "all", None),
        (
            (col(prio.basis) == "contract") & col(contract.calendar_id).is_not(None),
            col(contract.calendar_id),
        ),
        else_=func.coalesce(col(dept.calendar_id), col(prio.calendar_id)),
    )
    joins = [
        (prio, col(prio.id) == col(Incident.priority_id)),
        (dept, col(dept.id) == col(Incident.department_id)),
        (contract, col(contract.id) == col(Incident.contract_id)),
    ]
    return chosen, joins


def _columns(session: Session, key: Any, where: Any, *, business: bool) -> dict[str, str]:
    """The period's incidents as one row: per column every incident's value as text, joined
    by commas (group_concat / string_agg: one aggregate step over the same rows, so the
    columns line up). Columns: the group key, the id, the calendar (business clock), the
    contact's start and each span's end. Empty without incidents."""
    numeric = key.type.python_type is int
    columns: dict[str, Any] = {
        "group": _id_text(key) if numeric else _label_text(key),
        "id": cast(col(Incident.id), Text),
        "opened": _instant_text(session, col(Incident.opened_at)),
    }
    for name, ended in SPANS.items():
        columns[name] = _instant_text(session, col(ended))
    query = select().select_from(Incident)
    if business:
        chosen, joins = _calendar_choice()
        columns["calendar"] = _id_text(chosen)
        for table, on in joins:
            query = query.outerjoin(table, on)
    joined = [func.aggregate_strings(c, ",").label(n) for n, c in columns.items()]
    row = session.execute(query.add_columns(*joined).where(where)).one()
    if row.group is None:
        return {}
    return dict(row._mapping)


def _entries(session: Session, first_id: int, last_id: int) -> tuple[str | None, str | None]:
    """The finished time entries of the incidents first_id..last_id as two comma-joined
    columns, incident id and minutes, read from the covering index on (incident_id,
    minutes). One range of the index instead of a look-up per incident: a look-up each
    cost 0.4 s (SQLite) to 0.8 s (PostgreSQL) per 300,000 incidents."""
    query = select(
        func.aggregate_strings(cast(col(TimeEntry.incident_id), Text), ","),
        func.aggregate_strings(cast(col(TimeEntry.minutes), Text), ","),
    ).where(
        col(TimeEntry.ended_at).is_not(None),
        col(TimeEntry.incident_id).between(first_id, last_id),
    )
    ids, minutes = session.execute(query).one()
    return ids, minutes


def _measured(session: Session, key: Any, where: Any, *, business: bool) -> dict[Any, Any]:
    """Every figure from the period's columns (see the module's description): each span's
    minutes, wall or working on the incident's calendar, the minutes booked, then per group
    and measure the values sorted once for count, mean, min, max, median and p90."""
    # numpy loads only when a report computes (see `arrays`).
    from cc_tui.services.reports import arrays

    columns = _columns(session, key, where, business=business)
    if not columns:
        return {}
    labels, group_of = arrays.keys(columns["group"], numeric=key.type.python_type is int)
    micros = session.get_bind().dialect.name == "postgresql"
    opened = arrays.seconds(columns["opened"], micros=micros)
    ends = {name: arrays.seconds(columns[name], micros=micros) for name in SPANS}
    if business:
        cache = CalendarCache(session)
        values = arrays.working_minutes(
            columns["calendar"],
            opened,
            ends,
            lambda calendar_id: None if calendar_id is None else cache.get(calendar_id),
        )
    else:
        values = {name: (ended - opened) / 60.0 for name, ended in ends.items()}
    ids = arrays.integers(columns["id"])
    entry_ids, minutes = _entries(session, int(ids.min()), int(ids.max()))
    values[BOOKED] = arrays.booked(ids, arrays.integers(entry_ids), arrays.integers(minutes))
    out: dict[Any, dict[str, Any]] = {}
    for label, members in zip(labels, arrays.members(group_of, len(labels)), strict=True):
        stats = {name: arrays.figures(v[members]) for name, v in values.items()}
        booked_total = arrays.total(values[BOOKED][members])
        out[label] = _row(len(members), stats, booked_total)
    return out
