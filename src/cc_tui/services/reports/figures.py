"""Counting reports: contact volume, conversion to work orders, per agent, SLA compliance,
backlog and knowledge-base use. Each figure is a GROUP BY in SQL; Python only names rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy import Integer, and_, case, exists, func, literal_column, select, values
from sqlalchemy import column as sql_column
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.models import (
    Agent,
    Event,
    Incident,
    IncidentWorkOrder,
    KbArticle,
    KbSearch,
    TimeEntry,
)
from cc_tui.models.base import UtcDateTime
from cc_tui.services.context import Actor
from cc_tui.services.reports.common import (
    Period,
    analytic,
    bucket_expr,
    bucket_starts,
    grouped,
    in_period,
    local_midnight,
    period,
    scoped,
    share,
)
from cc_tui.statuses import CONTACT_ONLY_STATUSES

_REQUESTS = [s.value for s in CONTACT_ONLY_STATUSES]
# The backlog's days per statement (three bound values each), well under the bound values
# a statement may carry on SQLite (32,766) and PostgreSQL (65,535).
_DAYS_PER_STATEMENT = 2000


def _is_request() -> Any:
    """Saved incidents: not a draft or an abandoned contact, nor a call added to another
    incident (a contact of that incident, counted in the volume only)."""
    return col(Incident.status).not_in(_REQUESTS) & col(Incident.duplicate_of_id).is_(None)


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class Report:
    """A report's figures: `rows` are flat dicts (nested ones for times), the rest totals."""

    kind: str
    from_: str
    to: str
    rows: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (`report times` prints its rows only: the stated contract)."""
        if self.kind == "times":
            return {"rows": self.rows}
        return {"from": self.from_, "to": self.to, **self.extra, "rows": self.rows}


def _span(p: Period) -> tuple[str, str]:
    return p.first.isoformat(), p.end.isoformat()


def volume(
    session: Session,
    *,
    first: str,
    end: str,
    zone: tzinfo | None,
    by: str = "request_type",
    unit: str = "day",
    actor: Actor | None = None,
) -> Report:
    """Every contact (abandoned calls, comments and drafts too) by when it started."""
    p = period(first, end, zone)
    analytic(session)
    bucket = bucket_expr(col(Incident.opened_at), p, unit)
    query, group = grouped(select(), by, agent_column=col(Incident.created_by_id))
    query = scoped(
        query.add_columns(group.label("g"), bucket.label("b"), func.count().label("n"))
        .select_from(Incident)
        .where(in_period(col(Incident.opened_at), p))
        .group_by(group, bucket),
        actor,
    )
    rows = [{"group": g, "period": b, "count": int(n)} for g, b, n in session.execute(query).all()]
    rows.sort(key=lambda r: (r["period"], r["group"]))
    a, b = _span(p)
    return Report(
        "volume",
        a,
        b,
        rows,
        {"by": by, "period": unit, "total": sum(r["count"] for r in rows)},
    )


def conversion(
    session: Session,
    *,
    first: str,
    end: str,
    zone: tzinfo | None,
    by: str = "reason",
    unit: str = "month",
    actor: Actor | None = None,
) -> Report:
    """Action requests registered in the period and how many were handed to a work order."""
    p = period(first, end, zone)
    analytic(session)
    bucket = bucket_expr(col(Incident.opened_at), p, unit)
    linked = exists().where(col(IncidentWorkOrder.incident_id) == col(Incident.id))
    query, group = grouped(select(), by)
    query = scoped(
        query.add_columns(
            group.label("g"),
            bucket.label("b"),
            func.count().label("n"),
            _count_if(linked).label("wo"),
        )
        .select_from(Incident)
        .where(
            in_period(col(Incident.opened_at), p),
            col(Incident.request_type) == "action",
            _is_request(),
        )
        .group_by(group, bucket),
        actor,
    )
    rows = [
        {
            "group": g,
            "period": b,
            "requests": int(n),
            "work_orders": int(wo or 0),
            "share": share(int(wo or 0), int(n)),
        }
        for g, b, n, wo in session.execute(query).all()
    ]
    rows.sort(key=lambda r: (r["period"], r["group"]))
    total = sum(r["requests"] for r in rows)
    converted = sum(r["work_orders"] for r in rows)
    a, b = _span(p)
    return Report(
        "conversion",
        a,
        b,
        rows,
        {
            "by": by,
            "period": unit,
            "requests": total,
            "work_orders": converted,
            "share": share(converted, total),
        },
    )


def _handled(session: Session, p: Period) -> Any:
    """Per agent, the incidents with a timeline entry they wrote or time they booked in the
    period: a UNION keeps each (agent, incident) pair once, so counting rows counts
    incidents."""
    events = (col(Event.author_id), col(Event.incident_id))
    entries = (col(TimeEntry.agent_id), col(TimeEntry.incident_id))
    in_events = (col(Event.kind) == "user", in_period(col(Event.at), p))
    in_entries = (in_period(col(TimeEntry.started_at), p),)
    if session.get_bind().dialect.name != "sqlite":
        worked = (
            select(events[0].label("agent"), events[1].label("inc"))
            .where(*in_events)
            .union(select(*entries).where(*in_entries))
            .subquery()
        )
        return select(worked.c.agent, func.count()).group_by(worked.c.agent)
    # SQLite keeps a UNION's rows in a B-tree: a pair as one integer (the agent in the high
    # 32 bits, the incident's id, below 2**32, in the low ones) is a smaller key than two
    # columns: 15 % less time for a year's half million pairs.
    bits: Any = literal_column("32")

    def pair(agent: Any, incident: Any) -> Any:
        return agent.op("<<")(bits) + incident

    worked = (
        select(pair(*events).label("k"))
        .where(*in_events)
        .union(select(pair(*entries)).where(*in_entries))
        .subquery()
    )
    agent = worked.c.k.op(">>")(bits)
    return select(agent, func.count()).group_by(agent)


def agents(
    session: Session, *, first: str, end: str, zone: tzinfo | None, actor: Actor | None = None
) -> Report:
    """Per agent: incidents registered, handled (a timeline entry or booked time), solved and
    closed (as owner) in the period, and minutes booked on entries started in it."""
    p = period(first, end, zone)
    analytic(session)
    figures: dict[int, dict[str, int]] = {}

    def collect(name: str, query: Any) -> None:
        for agent_id, n in session.execute(query).all():
            if agent_id is not None:
                figures.setdefault(agent_id, {})[name] = int(n or 0)

    # Registered, solved and closed: for each agent, three range counts over indexes that
    # begin with the agent (ix_incident_registered_by, _solved_by, _closed_by): nothing is
    # sorted, where a GROUP BY over the period's index entries sorts them all on SQLite.
    agent = col(Agent.id)

    def of_agent(column: Any, at: Any, *where: Any) -> Any:
        query = select(func.count()).select_from(Incident)
        return query.where(col(column) == agent, in_period(col(at), p), *where).scalar_subquery()

    counts = select(
        agent,
        of_agent(Incident.created_by_id, Incident.registered_at, _is_request()),
        of_agent(Incident.owner_id, Incident.solved_at),
        of_agent(Incident.owner_id, Incident.closed_at),
    )
    if actor is not None and not actor.is_supervisor:
        counts = counts.where(agent == actor.id)
    for agent_id, *got in session.execute(counts).all():
        for name, n in zip(("registered", "solved", "closed"), got, strict=True):
            if n:
                figures.setdefault(agent_id, {})[name] = int(n)
    collect("handled", _handled(session, p))
    collect(
        "minutes_booked",
        select(col(TimeEntry.agent_id), func.sum(col(TimeEntry.minutes)))
        .where(in_period(col(TimeEntry.started_at), p), col(TimeEntry.ended_at).is_not(None))
        .group_by(col(TimeEntry.agent_id)),
    )
    if actor is not None and not actor.is_supervisor:
        figures = {k: v for k, v in figures.items() if k == actor.id}
    logins = {
        a.id: a.login
        for a in session.scalars(select(Agent).where(col(Agent.id).in_(list(figures))))
    }
    names = ("registered", "handled", "solved", "closed", "minutes_booked")
    rows: list[dict[str, Any]] = [
        {"group": logins[agent_id], **{n: got.get(n, 0) for n in names}}
        for agent_id, got in figures.items()
    ]
    rows.sort(key=lambda r: r["group"])
    a, b = _span(p)
    return Report("agents", a, b, rows)


def sla(
    session: Session, *, first: str, end: str, zone: tzinfo | None, actor: Actor | None = None
) -> Report:
    """Per priority, for incidents registered in the period that had a deadline: responses
    and resolutions met (done by the deadline), missed (done later, or not done and the
    deadline passed) and pending (not done, deadline still ahead)."""
    p = period(first, end, zone)
    analytic(session)
    now = clock.now()
    figures = []
    for done_col, due_col in (
        (Incident.first_response_at, Incident.response_due),
        (Incident.solved_at, Incident.resolve_due),
    ):
        done, due = col(done_col), col(due_col)
        figures += [
            _count_if(and_(due.is_not(None), done.is_not(None), done <= due)),
            _count_if(
                and_(
                    due.is_not(None),
                    ((done.is_not(None)) & (done > due)) | ((done.is_(None)) & (due < now)),
                )
            ),
            _count_if(and_(due.is_not(None), done.is_(None), due >= now)),
        ]
    query, group = grouped(select(), "priority")
    query = scoped(
        query.add_columns(group.label("g"), func.count(), *figures)
        .select_from(Incident)
        .where(in_period(col(Incident.registered_at), p), _is_request())
        .group_by(group),
        actor,
    )
    rows: list[dict[str, Any]] = []
    for g, n, rm, rx, rp, sm, sx, sp in session.execute(query).all():
        rm, rx, rp, sm, sx, sp = (int(v or 0) for v in (rm, rx, rp, sm, sx, sp))
        rows.append(
            {
                "group": g,
                "count": int(n),
                "responses_met": rm,
                "responses_missed": rx,
                "responses_pending": rp,
                "response_met_share": share(rm, rm + rx),
                "resolutions_met": sm,
                "resolutions_missed": sx,
                "resolutions_pending": sp,
                "resolution_met_share": share(sm, sm + sx),
            }
        )
    rows.sort(key=lambda r: r["group"])
    a, b = _span(p)
    return Report("sla", a, b, rows)


def backlog(
    session: Session, *, first: str, end: str, zone: tzinfo | None, actor: Actor | None = None
) -> Report:
    """Open incidents at the end of each day: those open when the period began, plus the ones
    registered, minus the ones closed, up to that day's local midnight."""
    p = period(first, end, zone)
    analytic(session)
    days = bucket_starts(p, "day")
    # An incident counts from registration until closed (abandoned contacts never count).
    started = col(Incident.registered_at)
    closed = col(Incident.closed_at)

    def counted(*where: Any) -> Any:
        query = select(func.count()).select_from(Incident).where(_is_request(), *where)
        return scoped(query, actor).scalar_subquery()

    # Every count below is a range of the registered_at or closed_at index, which holds
    # every column the counts test (status, duplicate_of_id, owner and registrar): no row of
    # the table is read and nothing is sorted.
    # Open when the period began: registered before it and not closed by then.
    before = started < p.start_at
    at_start = int(
        session.execute(
            select(counted(before, closed.is_(None)) + counted(before, closed >= p.start_at))
        ).scalar_one()
    )
    # Registered and closed on each local day: one range count per day and kind of move.
    bounds = [local_midnight(day, p.zone) for day in days[1:]] + [p.end_at]
    spans = list(zip([p.start_at, *bounds[:-1]], bounds, strict=True))
    moves: list[int] = []
    for chunk in range(0, len(spans), _DAYS_PER_STATEMENT):
        part = spans[chunk : chunk + _DAYS_PER_STATEMENT]
        day = (
            values(
                sql_column("i", Integer()),
                sql_column("lo", UtcDateTime()),
                sql_column("hi", UtcDateTime()),
                name="day",
            )
            .data([(chunk + i, lo, hi) for i, (lo, hi) in enumerate(part)])
            .cte("day")
        )
        query = select(
            day.c.i,
            counted(started >= day.c.lo, started < day.c.hi),
            counted(closed >= day.c.lo, closed < day.c.hi),
        ).order_by(day.c.i)
        moves += [int(r) - int(c) for _i, r, c in session.execute(query).all()]
    rows = []
    open_now = at_start
    for day_, move in zip(days, moves, strict=True):
        open_now += move
        rows.append({"group": day_.isoformat(), "open": open_now})
    a, b = _span(p)
    return Report("backlog", a, b, rows, {"open_at_start": at_start})


def kb(
    session: Session,
    *,
    first: str,
    end: str,
    zone: tzinfo | None,
    actor: Actor | None = None,
    top: int = 10,
) -> Report:
    """Searches made for requests in the period, the share of searched requests answered
    from the knowledge base, and the articles that answered most."""
    p = period(first, end, zone)
    analytic(session)
    where = [in_period(col(KbSearch.at), p), col(KbSearch.incident_id).is_not(None)]
    if actor is not None and not actor.is_supervisor:
        where.append(col(KbSearch.agent_id) == actor.id)
    per_incident = (
        select(
            col(KbSearch.incident_id).label("inc"),
            func.count().label("n"),
            func.max(case((col(KbSearch.answered), 1), else_=0)).label("answered"),
        )
        .where(*where)
        .group_by(col(KbSearch.incident_id))
        .subquery()
    )
    searches, requests, answered = session.execute(
        select(
            func.coalesce(func.sum(per_incident.c.n), 0),
            func.count(),
            func.coalesce(func.sum(per_incident.c.answered.cast(Integer)), 0),
        )
    ).one()
    searches, requests, answered = int(searches), int(requests), int(answered)
    top_query = (
        select(col(KbArticle.slug), col(KbArticle.title), func.count().label("n"))
        .select_from(KbSearch)
        .join(KbArticle, col(KbArticle.id) == col(KbSearch.opened_article_id))
        .where(*where, col(KbSearch.answered))
        .group_by(col(KbArticle.slug), col(KbArticle.title))
        .order_by(func.count().desc(), col(KbArticle.slug))
        .limit(top)
    )
    rows = [
        {"group": slug, "title": title, "answered": int(n)}
        for slug, title, n in session.execute(top_query).all()
    ]
    a, b = _span(p)
    return Report(
        "kb",
        a,
        b,
        rows,
        {
            "searches": searches,
            "requests_searched": requests,
            "searches_per_request": round(searches / requests, 2) if requests else None,
            "requests_answered": answered,
            "answered_share": share(answered, requests),
        },
    )
