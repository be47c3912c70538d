"""Time analysis: how long incidents took from the contact's start to their first response,
assignment, solution and closing, and the time booked on them, per group.

SQL selects and filters; numpy (`arrays`) computes. Why: SQLite has no percentile
function and ordering values with its sorter costs about 0.8 s per million (its GROUP BY
sorts as well), `julianday` over text timestamps 0.2 s per million values; working
minutes need each incident's calendar (holidays, DST, breaks), which SQL cannot lay out.
PostgreSQL's `percentile_cont` GROUP BY took more CPU than this path (1.0-1.4 s against
0.9-1.0 s for a year of 1,000,000 incidents), so both databases and both clocks take it.

SQL: the period's saved incidents in the actor's scope, each one's group key (the
incident's own column, an id named afterwards: no row joins a code table), its id, its
contact's start and each span's end and, on the business clock, its calendar as the
deadlines choose it. They come over as one row: per column the period's values in one
piece (one aggregate step over the same rows, so the columns line up), which numpy parses
in one call each instead of a row tuple per incident. SQLite: text joined by commas
(`group_concat`), ids as integers (-1 for none), instants as the UTC wall-time text it
stores (no `julianday` per value). PostgreSQL: each number's 8 binary bytes end to end
(`string_agg` over `int8send` / `timestamptz_send`: no text formatting), instants as the
microseconds since 2000 it stores. A second statement reads the finished time entries of
the period's incidents from their covering index (`_entries`).

numpy: instants parsed as datetime64; each span's minutes (wall: the difference;
business: each calendar's working spans over the period laid out once as arrays with
their running total, every start and end looked up with `searchsorted`, the same
arithmetic as `worktime.hours`); booked minutes summed per incident (`searchsorted` +
`bincount`); groups by key; per group and measure the values sorted once for count, mean,
min, max, and the median and p90 interpolated between closest ranks as `percentile_cont`
does.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import (
    BigInteger,
    LargeBinary,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
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


def _row(count: int, stats: dict[str, dict[str, Any]], booked_total: float) -> dict[str, Any]:
    row: dict[str, Any] = {"count": count, **{name: stats[name] for name in SPANS}}
    row[BOOKED] = {**stats[BOOKED], "total_minutes": int(booked_total)}
    return row


# The id range is read whole unless the period's incidents are fewer than a tenth of it:
# reading a range of the covering index is cheap, selecting the incidents again is not.
_DENSE = 10


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# NULL on the PostgreSQL wire: the smallest int64, big-endian (numpy reads it as none).
_NULL_BYTES = b"\x80" + bytes(7)


def _number(session: Session, column: Any) -> Any:
    """An integer column (an id, minutes) for the one-row hand-over, -1 for NULL: on
    PostgreSQL its 8 bytes (`int8send`, no text formatting), on SQLite as text."""
    value = func.coalesce(column, -1)
    if _is_postgresql(session):
        return func.int8send(cast(value, BigInteger))
    return cast(value, Text)


def _label_text(column: Any) -> Any:
    """A text column in SQL, '' for NULL."""
    return func.coalesce(cast(column, Text), literal("", Text))


def _instant(session: Session, column: Any) -> Any:
    """An instant for the one-row hand-over: on PostgreSQL its stored 8 bytes
    (`timestamptz_send`: microseconds since 2000, no text formatting, which cost 0.1-0.2 s
    a column for a year of 1,000,000 incidents), NULL as the smallest int64; on SQLite its
    UTC wall time as stored ('YYYY-MM-DD HH:MM:SS.ffffff', '' for NULL), parsed by numpy
    as datetime64."""
    if _is_postgresql(session):
        return func.coalesce(func.timestamptz_send(column), literal(_NULL_BYTES, LargeBinary))
    return func.coalesce(type_coerce(column, Text), literal("", Text))


def _joined(session: Session, column: Any, *, text: bool = False) -> Any:
    """The period's values of one column in one piece, in the rows' order: text joined by
    commas (`group_concat` / `string_agg`); on PostgreSQL the numbers' bytes end to end."""
    if text or not _is_postgresql(session):
        return func.aggregate_strings(column, ",")
    return func.string_agg(column, literal(b"", LargeBinary))


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


def _columns(session: Session, key: Any, where: Any, *, business: bool) -> dict[str, str | bytes]:
    """The period's incidents as one row: per column every incident's value, in one piece
    (`_joined`: one aggregate step over the same rows, so the columns line up). Columns:
    the group key, the id, the calendar (business clock), the contact's start and each
    span's end. Empty without incidents."""
    numeric = key.type.python_type is int
    columns: dict[str, Any] = {
        "group": _joined(session, _number(session, key))
        if numeric
        else _joined(session, _label_text(key), text=True),
        "id": _joined(session, _number(session, col(Incident.id))),
        "opened": _joined(session, _instant(session, col(Incident.opened_at))),
    }
    for name, ended in SPANS.items():
        columns[name] = _joined(session, _instant(session, col(ended)))
    query = select().select_from(Incident)
    if business:
        chosen, joins = _calendar_choice()
        columns["calendar"] = _joined(session, _number(session, chosen))
        for table, on in joins:
            query = query.outerjoin(table, on)
    joined = [c.label(n) for n, c in columns.items()]
    row = session.execute(query.add_columns(*joined).where(where)).one()
    if row.group is None:
        return {}
    return dict(row._mapping)


def _entries(session: Session, ids: Any, where: Any) -> tuple[Any, Any]:
    """The finished time entries of the period's incidents (`ids`, selected by `where`) as
    two columns in one piece (`_joined`), incident id and minutes, read from the index on
    (incident_id, minutes). Where the ids are dense enough (a period of incidents
    registered in turn, or a good part of a range), one range of the index between the
    first and last id: a look-up per incident cost 0.4 s (SQLite) to 0.8 s (PostgreSQL)
    per 300,000 incidents. Where they are
    few and scattered (an agent's own incidents, a short period among history imported
    later), the range would cover most of the table: the entries of the selected
    incidents instead."""
    first, last = int(ids.min()), int(ids.max())
    if last - first + 1 <= _DENSE * len(ids):
        of_period: Any = col(TimeEntry.incident_id).between(first, last)
    else:
        of_period = col(TimeEntry.incident_id).in_(select(col(Incident.id)).where(where))
    query = select(
        _joined(session, _number(session, col(TimeEntry.incident_id))),
        _joined(session, _number(session, col(TimeEntry.minutes))),
    ).where(col(TimeEntry.ended_at).is_not(None), of_period)
    got_ids, minutes = session.execute(query).one()
    return got_ids, minutes


def _measured(session: Session, key: Any, where: Any, *, business: bool) -> dict[Any, Any]:
    """Every figure from the period's columns (see the module's description): each span's
    minutes, wall or working on the incident's calendar, the minutes booked, then per group
    and measure the values sorted once for count, mean, min, max, median and p90."""
    # numpy loads only when a report computes (see `arrays`).
    from cc_tui.services.reports import arrays

    columns = _columns(session, key, where, business=business)
    if not columns:
        return {}
    # Each text is dropped once parsed (popped): a year's columns are tens of megabytes.
    labels, group_of = arrays.keys(columns.pop("group"), numeric=key.type.python_type is int)
    opened = arrays.seconds(columns.pop("opened"))
    ends = {name: arrays.seconds(columns.pop(name)) for name in SPANS}
    if business:
        calendars = CalendarCache(session)  # None: the 24/7 calendar
        values = arrays.working_minutes(columns.pop("calendar"), opened, ends, calendars.get)
    else:
        values = {name: (ended - opened) / 60.0 for name, ended in ends.items()}
    ids = arrays.integers(columns.pop("id"))
    entry_ids, minutes = _entries(session, ids, where)
    values[BOOKED] = arrays.booked(ids, arrays.integers(entry_ids), arrays.integers(minutes))
    out: dict[Any, dict[str, Any]] = {}
    for label, members in zip(labels, arrays.members(group_of, len(labels)), strict=True):
        stats = {name: arrays.figures(v[members]) for name, v in values.items()}
        booked_total = arrays.total(values[BOOKED][members])
        out[label] = _row(len(members), stats, booked_total)
    return out
