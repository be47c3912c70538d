"""The escalation sweep (M6): on_time -> follow_up -> warning -> late as deadlines pass.

One sweep is a handful of set-based statements, whatever the number of incidents:

1. the incidents whose next threshold has come (`escalate_at <= now`, a range scan of the
   partial index over running clocks) are copied with their old and new rank into a
   temporary table;
2. for those that climbed: one timeline event each, the escalation actions of their
   priority code (in order), alerts for the owner and the department's supervisors and
   e-mail rows for later, one change-feed row each;
3. every copied incident gets its new state and its next threshold time.

A second sweep at the same time finds nothing to do (idempotent). Concurrent sweeps (cron
and every open console) do not double anything: SQLite runs one writer at a time, and on
PostgreSQL a sweep that finds another one running returns at once (`skipped`).

One sweep transaction takes at most `SWEEP_BATCH` incidents, the longest overdue first. A
backlog (after an outage, or a calendar change that makes thousands late at once) is
worked off by `escalate_all` in several short transactions instead of one that holds the
incident rows, and every console's sweep, for a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, select, text, update
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import (
    Agent,
    Department,
    EscalationAction,
    Incident,
    Notification,
    Priority,
)
from cc_tui.models.base import UtcDateTime, stored_id
from cc_tui.models.enums import (
    ESCALATION_RANK,
    RUNNING_STATUSES,
    Escalation,
    EscalationActionKind,
    NotificationChannel,
    NotificationStatus,
    SystemEvent,
    status_sql,
)
from cc_tui.services.context import Actor
from cc_tui.services.incidents.base import number
from cc_tui.services.incidents.event_log import event_type
from cc_tui.services.sla.deadlines import system_agent_id
from cc_tui.services.worktime.hours import to_utc

if TYPE_CHECKING:
    from sqlalchemy import CursorResult
    from sqlmodel import SQLModel

    from cc_tui.db.engine import Database

# Any constant works; it only has to be the same for every sweep.
PG_LOCK_KEY = 0x63637475_6573  # "cctu" "es"
RUNNING = status_sql(RUNNING_STATUSES)
# Later than any stored instant (SQLite stores them as text in this format).
_FAR = "9999-12-31 23:59:59.999999"
# Incidents per sweep transaction: about 1 s of work on PostgreSQL when all of them climb.
SWEEP_BATCH = 5_000
_STATE_SQL = (
    "CASE {r} WHEN 1 THEN 'follow_up' WHEN 2 THEN 'warning' WHEN 3 THEN 'late' ELSE 'on_time' END"
)


@dataclass(frozen=True)
class SweepResult:
    at: datetime
    # Incidents whose next threshold time had come.
    checked: int
    # Of those, how many climbed to a higher state, and to which.
    changed: int
    follow_up: int
    warning: int
    late: int
    alerts: int
    emails: int
    actions: int
    # PostgreSQL: another sweep held the lock, this one did nothing.
    skipped: bool = False
    # The batch was full: more incidents may be due (run another sweep at once).
    more: bool = False
    # Transactions this result adds up (escalate_all).
    batches: int = 1

    def plus(self, other: SweepResult) -> SweepResult:
        """Two batches' results as one (the counts added; the later one's flags)."""
        counts = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name not in ("at", "skipped", "more")
        }
        return SweepResult(at=self.at, skipped=other.skipped, more=other.more, **counts)


@dataclass(frozen=True)
class ActionInfo:
    id: int
    priority: str
    position: int
    at_state: str
    action: str
    target_priority: str | None
    target_department: str | None
    target_agent: str | None


@dataclass(frozen=True)
class Alert:
    """An escalation alert for one agent's console."""

    id: int
    incident_id: int
    number: str
    state: str
    subject: str | None
    body: str
    created_at: datetime


# --- the sweep ------------------------------------------------------------------------


def escalate(
    session: Session, *, at: datetime | None = None, limit: int = SWEEP_BATCH
) -> SweepResult:
    """Run one sweep as of `at` (default now) over at most `limit` due incidents."""
    if limit < 1:
        raise UsageError("a sweep batch needs at least one incident")
    now = to_utc(at) if at else clock.now()
    pg = session.get_bind().dialect.name == "postgresql"
    if (
        pg
        and not session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY}
        ).scalar()
    ):
        return SweepResult(now, 0, 0, 0, 0, 0, 0, 0, 0, skipped=True)
    run = _Sweep(session, now, pg, limit)
    return run.execute()


class _DryRun(Exception):
    def __init__(self, result: SweepResult) -> None:
        super().__init__("dry run")
        self.result = result


def preview(db: Database, *, at: datetime, limit: int = SWEEP_BATCH) -> SweepResult:
    """What a sweep as of `at` would do, with nothing written: its one transaction is
    rolled back (on PostgreSQL no notification leaves it either)."""
    try:
        with db.session() as session:
            total = escalate(session, at=at, limit=limit)
            while total.more and not total.skipped:
                total = total.plus(escalate(session, at=at, limit=limit))
            raise _DryRun(total)
    except _DryRun as done:
        return done.result


def escalate_all(
    db: Database, *, at: datetime | None = None, limit: int = SWEEP_BATCH
) -> SweepResult:
    """Sweep until nothing is due, each batch its own committed transaction.

    Every batch moves the incidents it took past `at` (their next threshold is later, or
    they have none left), so the loop ends; it stops early when another sweep holds the
    PostgreSQL lock (that one is doing the work).
    """
    now = to_utc(at) if at else clock.now()
    total: SweepResult | None = None
    while True:
        with db.session() as session:
            result = escalate(session, at=now, limit=limit)
        total = result if total is None else total.plus(result)
        if not result.more or result.skipped:
            return total


class _Sweep:
    def __init__(self, session: Session, now: datetime, pg: bool, limit: int) -> None:
        self.session = session
        self.now = now
        self.pg = pg
        self.limit = limit
        # Incidents an action gave another priority or department: their deadlines are
        # computed again once the sweep has stored the new states.
        self.recompute: dict[int, str] = {}

    # Every statement binds `now` through the column type, so SQLite compares like with like.
    def sql(self, statement: str, **params: Any) -> CursorResult[Any]:
        clause = text(statement)
        params = dict(params)
        if ":now" in statement:
            params["now"] = self.now
        binds = [
            bindparam(name, type_=UtcDateTime()) for name in ("now", "stamp") if name in params
        ]
        # A textual statement: SQLAlchemy types its result as the plain Result.
        return cast("CursorResult[Any]", self.session.execute(clause.bindparams(*binds), params))

    def execute(self) -> SweepResult:
        session = self.session
        session.flush()
        self._repair()
        self._temp_table()
        checked = self.sql(
            f"""
            INSERT INTO sweep_change (incident_id, old_rank, new_rank, priority_id)
            SELECT id, escalation_rank, {self._rank_expr()}, priority_id
            FROM incident
            WHERE {RUNNING} AND escalate_at <= :now
            ORDER BY escalate_at
            LIMIT :limit
            """,
            limit=self.limit,
        ).rowcount
        if not checked:
            self._drop_temp_table()
            return SweepResult(self.now, 0, 0, 0, 0, 0, 0, 0, 0)
        if self.pg and checked > 1000:
            session.execute(text("ANALYZE sweep_change"))
        counts = {
            rank: n
            for rank, n in session.execute(
                text(
                    "SELECT new_rank, count(*) FROM sweep_change "
                    "WHERE new_rank > old_rank GROUP BY new_rank"
                )
            )
        }
        changed = sum(counts.values())
        alerts = emails = actions = 0
        if changed:
            author = system_agent_id(session)
            self._events(author)
            actions = self._actions(author)
            alerts, emails = self._notify()
            self._change_feed(author)
        self._store()
        if self.recompute:
            self._recompute_deadlines(system_agent_id(session))
        self._drop_temp_table()
        return SweepResult(
            at=self.now,
            checked=checked,
            changed=changed,
            follow_up=counts.get(1, 0),
            warning=counts.get(2, 0),
            late=counts.get(3, 0),
            alerts=alerts,
            emails=emails,
            actions=actions,
            more=checked >= self.limit,
        )

    # -- pieces ----------------------------------------------------------------------

    # The temporary table drives every join (CROSS JOIN keeps SQLite's join order: it has
    # no statistics on it and would otherwise scan all incidents).

    def _temp_table(self) -> None:
        suffix = " ON COMMIT DROP" if self.pg else ""
        self.session.execute(
            text(
                "CREATE TEMP TABLE IF NOT EXISTS sweep_change ("
                "incident_id INTEGER PRIMARY KEY, old_rank INTEGER NOT NULL, "
                f"new_rank INTEGER NOT NULL, priority_id INTEGER){suffix}"
            )
        )
        self.session.execute(text("DELETE FROM sweep_change"))

    def _drop_temp_table(self) -> None:
        self.session.execute(text("DROP TABLE IF EXISTS sweep_change"))

    @staticmethod
    def _reached_expr() -> str:
        """The rank the deadlines give at :now."""
        unanswered = "first_response_at IS NULL"
        return (
            f"CASE WHEN ({unanswered} AND late_at <= :now) OR resolve_due <= :now THEN 3 "
            f"WHEN {unanswered} AND warning_at <= :now THEN 2 "
            f"WHEN {unanswered} AND follow_up_at <= :now THEN 1 ELSE 0 END"
        )

    @classmethod
    def _rank_expr(cls) -> str:
        """The rank the deadlines give at :now (never below the current one)."""
        reached = cls._reached_expr()
        return f"CASE WHEN {reached} > escalation_rank THEN {reached} ELSE escalation_rank END"

    def _repair(self) -> None:
        """A state set by a sweep dated after :now (an `escalate --at` in the future, before
        that became a dry run) goes back to what the clocks justify; this sweep then stores
        its next threshold (escalate_at = :now makes it due)."""
        reached = self._reached_expr()
        self.sql(
            f"""
            UPDATE incident SET escalation_rank = {reached},
                   escalation = {_STATE_SQL.format(r=reached)}, escalate_at = :now
            WHERE {RUNNING} AND escalation_rank > {reached}
              AND EXISTS (SELECT 1 FROM event e
                          WHERE e.incident_id = incident.id
                            AND e.event_type_id = CAST(:etype AS INTEGER) AND e.at > :now)
            """,
            etype=event_type(self.session, SystemEvent.ESCALATION).id,
        )

    def _least(self, *columns: str) -> str:
        """The earliest non-NULL instant (NULL if none)."""
        if self.pg:
            return f"LEAST({', '.join(columns)})"
        far = f"'{_FAR}'"
        inner = ", ".join(f"COALESCE({c}, {far})" for c in columns)
        if len(columns) == 1:
            return columns[0]
        return f"NULLIF(MIN({inner}), {far})"

    def _next_expr(self) -> str:
        """When the incident next climbs above sweep_change.new_rank."""

        def resp(column: str) -> str:
            return f"CASE WHEN incident.first_response_at IS NULL THEN incident.{column} END"

        resolve = "incident.resolve_due"
        later = (resp("late_at"), resolve)
        return (
            "CASE c.new_rank WHEN 3 THEN NULL "
            f"WHEN 2 THEN {self._least(resp('late_at'), resolve)} "
            f"WHEN 1 THEN {self._least(resp('warning_at'), resp('late_at'), resolve)} "
            f"ELSE {self._least(resp('follow_up_at'), resp('warning_at'), *later)} END"
        )

    def _json(self, *pairs: tuple[str, str]) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        args = ", ".join(f"'{key}', {value}" for key, value in pairs)
        return f"{fn}({args})"

    def _events(self, author: int) -> None:
        etype = event_type(self.session, SystemEvent.ESCALATION).id
        old = _STATE_SQL.format(r="c.old_rank")
        new = _STATE_SQL.format(r="c.new_rank")
        data = self._json(("field", "'escalation'"), ("from", old), ("to", new))
        self.sql(
            f"""
            INSERT INTO event (incident_id, event_type_id, kind, at, author_id, text, data)
            SELECT c.incident_id, CAST(:etype AS INTEGER), 'system', :now, CAST(:author AS INTEGER),
                   'escalation ' || {old} || ' -> ' || {new}, {data}
            FROM sweep_change c
            WHERE c.new_rank > c.old_rank
            """,
            etype=etype,
            author=author,
        )

    def _actions(self, author: int) -> int:
        """The escalation actions of the priorities involved, state by state, in order."""
        priority_ids = [
            row[0]
            for row in self.session.execute(
                text(
                    "SELECT DISTINCT priority_id FROM sweep_change "
                    "WHERE new_rank > old_rank AND priority_id IS NOT NULL"
                )
            )
        ]
        if not priority_ids:
            return 0
        rows = self.session.scalars(
            select(EscalationAction).where(col(EscalationAction.priority_id).in_(priority_ids))
        ).all()
        rows = sorted(
            rows, key=lambda a: (ESCALATION_RANK[Escalation(a.at_state)], a.position, a.id or 0)
        )
        done = 0
        for action in rows:
            reached = (
                "c.priority_id = :pid AND c.old_rank < :state_rank AND c.new_rank >= :state_rank"
            )
            params = {
                "pid": action.priority_id,
                "state_rank": ESCALATION_RANK[Escalation(action.at_state)],
            }
            if action.action == EscalationActionKind.RAISE_PRIORITY:
                done += self._raise(action, reached, params, author)
            elif action.action == EscalationActionKind.REASSIGN:
                done += self._reassign(action, reached, params, author)
            elif action.action == EscalationActionKind.NOTIFY:
                done += self._notify_action(action, reached, params)
        return done

    def _raise(
        self, action: EscalationAction, reached: str, params: dict[str, Any], author: int
    ) -> int:
        target = self.session.get(Priority, action.target_priority_id)
        if target is None:
            return 0
        etype = event_type(self.session, SystemEvent.PRIORITY).id
        state = action.at_state
        data = self._json(
            ("field", "'priority'"), ("from", "p.code"), ("to", "CAST(:code AS VARCHAR)")
        )
        which = (
            f"FROM sweep_change c CROSS JOIN incident i "
            f"LEFT JOIN priority p ON p.id = i.priority_id "
            f"WHERE i.id = c.incident_id AND {reached} AND i.priority_rank > :rank"
        )
        params = {**params, "rank": target.rank, "code": target.code}
        self.sql(
            f"""
            INSERT INTO event (incident_id, event_type_id, kind, at, author_id, text, data)
            SELECT c.incident_id, CAST(:etype AS INTEGER), 'system', :now, CAST(:author AS INTEGER),
                   'priority: ' || COALESCE(p.code, '-') || ' -> ' || CAST(:code AS VARCHAR)
                   || ' (escalation {state})', {data}
            {which}
            """,
            etype=etype,
            author=author,
            **params,
        )
        raised = self.sql(
            f"""
            UPDATE incident SET priority_id = :target, priority_rank = :rank,
                   version = incident.version + 1, updated_at = :now, updated_by_id = :author
            WHERE id IN (SELECT c.incident_id FROM sweep_change c WHERE {reached})
              AND priority_rank > :rank
            RETURNING id
            """,
            target=target.id,
            author=author,
            **params,
        ).all()
        for (incident_id,) in raised:
            self.recompute.setdefault(incident_id, f"priority raised at {state}")
        return len(raised)

    def _reassign(
        self, action: EscalationAction, reached: str, params: dict[str, Any], author: int
    ) -> int:
        agent = self.session.get(Agent, action.target_agent_id) if action.target_agent_id else None
        dept_id = action.target_department_id or (agent.department_id if agent else None)
        dept = self.session.get(Department, dept_id) if dept_id else None
        if agent is None and dept is None:
            return 0
        owner_id = agent.id if agent else None
        label = "/".join(
            x for x in (dept.code if dept else None, agent.login if agent else None) if x
        )
        etype = event_type(self.session, SystemEvent.ASSIGNMENT).id
        old_label = "COALESCE(d.code, '-') || COALESCE('/' || a.login, '')"
        data = self._json(
            ("field", "'assignment'"),
            ("from", old_label),
            ("to", "CAST(:label AS VARCHAR)"),
            ("reason", f"'escalation {action.at_state}'"),
        )
        differs = (
            "(COALESCE(i.department_id, 0) <> COALESCE(CAST(:dept AS INTEGER), 0) "
            "OR COALESCE(i.owner_id, 0) <> COALESCE(CAST(:owner AS INTEGER), 0))"
        )
        params = {**params, "dept": dept_id, "owner": owner_id, "label": label}
        self.sql(
            f"""
            INSERT INTO event (incident_id, event_type_id, kind, at, author_id, text, data)
            SELECT c.incident_id, CAST(:etype AS INTEGER), 'system', :now, CAST(:author AS INTEGER),
                   'reassigned: ' || {old_label} || ' -> ' || CAST(:label AS VARCHAR)
                   || ' (escalation {action.at_state})', {data}
            FROM sweep_change c CROSS JOIN incident i
            LEFT JOIN department d ON d.id = i.department_id
            LEFT JOIN agent a ON a.id = i.owner_id
            WHERE i.id = c.incident_id AND {reached} AND {differs}
            """,
            etype=etype,
            author=author,
            **params,
        )
        # As for an assignment by hand: back in a queue nobody works it yet; a new owner
        # has not started yet.
        new_status = (
            "CASE WHEN CAST(:owner AS INTEGER) IS NULL AND i.status IN ('assigned','in_process') "
            "THEN 'registered' WHEN CAST(:owner AS INTEGER) IS NOT NULL "
            "AND COALESCE(i.owner_id, 0) <> CAST(:owner AS INTEGER) "
            "AND i.status IN ('registered','in_process') THEN 'assigned' ELSE i.status END"
        )
        status_data = self._json(("field", "'status'"), ("from", "i.status"), ("to", new_status))
        self.sql(
            f"""
            INSERT INTO event (incident_id, event_type_id, kind, at, author_id, text, data)
            SELECT c.incident_id, CAST(:etype AS INTEGER), 'system', :now, CAST(:author AS INTEGER),
                   i.status || ' -> ' || {new_status}, {status_data}
            FROM sweep_change c CROSS JOIN incident i
            WHERE i.id = c.incident_id AND {reached} AND {differs} AND {new_status} <> i.status
            """,
            etype=event_type(self.session, SystemEvent.STATUS).id,
            author=author,
            **params,
        )
        moved = self.sql(
            f"""
            UPDATE incident SET department_id = CAST(:dept AS INTEGER),
                   owner_id = CAST(:owner AS INTEGER),
                   status = {new_status.replace("i.", "")},
                   assigned_at = COALESCE(assigned_at,
                       CASE WHEN CAST(:owner AS INTEGER) IS NOT NULL THEN :now END),
                   version = version + 1, updated_at = :now, updated_by_id = :author
            WHERE id IN (SELECT c.incident_id FROM sweep_change c WHERE {reached})
              AND {differs.replace("i.", "")}
            RETURNING id
            """,
            author=author,
            **params,
        ).all()
        for (incident_id,) in moved:
            self.recompute.setdefault(incident_id, f"reassigned at {action.at_state}")
        return len(moved)

    def _notify_action(self, action: EscalationAction, reached: str, params: dict[str, Any]) -> int:
        """Alert a department's supervisors or one agent, beyond the usual recipients."""
        if action.target_agent_id:
            who = "a.id = :target AND a.active = TRUE"
            params = {**params, "target": action.target_agent_id}
        elif action.target_department_id:
            who = (
                "a.department_id = :target AND a.role IN ('supervisor','admin') AND a.active = TRUE"
            )
            params = {**params, "target": action.target_department_id}
        else:
            return 0
        recipients = (
            f"SELECT c.incident_id, c.new_rank, a.id AS agent_id, a.email "
            f"FROM sweep_change c JOIN agent a ON {who} WHERE {reached}"
        )
        alerts, _emails = self._insert_notifications(recipients, params)
        return alerts

    def _notify(self) -> tuple[int, int]:
        """Alerts (and e-mail rows) for the owner and the department's supervisors."""
        climbed = "c.new_rank > c.old_rank"
        recipients = f"""
            SELECT c.incident_id, c.new_rank, a.id AS agent_id, a.email
            FROM sweep_change c CROSS JOIN incident i CROSS JOIN agent a
            WHERE i.id = c.incident_id AND a.id = i.owner_id AND {climbed} AND a.active = TRUE
            UNION ALL
            SELECT c.incident_id, c.new_rank, a.id AS agent_id, a.email
            FROM sweep_change c CROSS JOIN incident i CROSS JOIN agent a
            WHERE i.id = c.incident_id AND a.department_id = i.department_id AND {climbed}
              AND a.role IN ('supervisor','admin') AND a.active = TRUE
              AND (i.owner_id IS NULL OR a.id <> i.owner_id)
        """
        return self._insert_notifications(recipients, {})

    def _insert_notifications(self, recipients: str, params: dict[str, Any]) -> tuple[int, int]:
        state = _STATE_SQL.format(r="r.new_rank")
        subject = f"'INC-' || r.incident_id || ' is ' || {state} || ': ' || COALESCE(i.title, '')"
        body = (
            f"'INC-' || r.incident_id || ' reached ' || {state} || ' (priority ' "
            "|| COALESCE(p.code, '-') || ', status ' || i.status || ')'"
        )
        counts = []
        for channel in (NotificationChannel.ALERT, NotificationChannel.EMAIL):
            address = "r.email" if channel == NotificationChannel.EMAIL else "NULL"
            only = "AND r.email IS NOT NULL" if channel == NotificationChannel.EMAIL else ""
            counts.append(
                self.sql(
                    f"""
                    INSERT INTO notification (channel, reason, incident_id, agent_id,
                        recipient, subject, body, status, attempts, created_at)
                    SELECT CAST(:channel AS VARCHAR), 'escalation:' || {state},
                        r.incident_id, r.agent_id,
                        {address}, {subject}, {body}, CAST(:queued AS VARCHAR), 0, :stamp
                    FROM ({recipients}) r CROSS JOIN incident i
                    LEFT JOIN priority p ON p.id = i.priority_id
                    WHERE i.id = r.incident_id {only}
                    """,
                    channel=channel.value,
                    queued=NotificationStatus.QUEUED.value,
                    stamp=clock.now(),
                    **params,
                ).rowcount
            )
        return counts[0], counts[1]

    def _change_feed(self, author: int) -> None:
        self.sql(
            """
            INSERT INTO change (at, entity, entity_id, action, incident_id, department_id,
                                agent_id)
            SELECT :stamp, 'incident', c.incident_id, 'escalation', c.incident_id,
                   i.department_id, CAST(:author AS INTEGER)
            FROM sweep_change c CROSS JOIN incident i
            WHERE i.id = c.incident_id AND c.new_rank > c.old_rank
            """,
            stamp=clock.now(),
            author=author,
        )

    def _recompute_deadlines(self, author: int) -> None:
        """Deadlines of the incidents an action moved or raised, on their new priority and
        department (the same rule as a change by hand; deadlines set by hand stay)."""
        if not self.recompute:
            return
        from cc_tui.services.sla.deadlines import apply_deadlines
        from cc_tui.services.worktime.stored import CalendarCache

        cache = CalendarCache(self.session)
        ids = sorted(self.recompute)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # The set-based statements changed these rows behind the session's back.
            query = (
                select(Incident)
                .where(col(Incident.id).in_(chunk))
                .execution_options(populate_existing=True)
            )
            for incident in self.session.scalars(query):
                apply_deadlines(
                    self.session,
                    incident,
                    now=self.now,
                    cache=cache,
                    author_id=author,
                    why=self.recompute[incident.id or 0],
                )
        self.session.flush()

    def _store(self) -> None:
        state = _STATE_SQL.format(r="c.new_rank")
        if self.pg:
            self.sql(
                f"""
                UPDATE incident SET escalation = {state}, escalation_rank = c.new_rank,
                       escalate_at = {self._next_expr()}
                FROM sweep_change c
                WHERE c.incident_id = incident.id
                """
            )
            return
        # SQLite would drive an UPDATE ... FROM by the incident table (it knows nothing of
        # the temporary one): look the few changed rows up by id instead.
        self.sql(
            f"""
            UPDATE incident SET (escalation, escalation_rank, escalate_at) = (
                SELECT {state}, c.new_rank, {self._next_expr()}
                FROM sweep_change c WHERE c.incident_id = incident.id)
            WHERE id IN (SELECT incident_id FROM sweep_change)
            """
        )


# --- escalation actions (master data) ------------------------------------------------


def add_escalation_action(
    session: Session,
    *,
    actor: Actor,
    priority: str,
    at_state: str,
    action: str,
    target_priority: str | None = None,
    target_department: str | None = None,
    target_agent: str | None = None,
    position: int | None = None,
) -> ActionInfo:
    """What happens to an incident of `priority` when it reaches `at_state` (ordered)."""
    from cc_tui.services.directory.agents import resolve_agent, resolve_department
    from cc_tui.services.sla.priorities import resolve_priority

    actor.require_admin("change escalation actions")
    prio = resolve_priority(session, priority)
    state = (at_state or "").strip().lower().replace("-", "_")
    if state not in (Escalation.FOLLOW_UP, Escalation.WARNING, Escalation.LATE):
        raise UsageError(
            f"unknown escalation state {at_state!r}; one of: follow_up, warning, late",
            field="at",
        )
    kind = (action or "").strip().lower().replace("-", "_")
    if kind not in {k.value for k in EscalationActionKind}:
        raise UsageError(
            f"unknown action {action!r}; one of: "
            + ", ".join(k.value for k in EscalationActionKind),
            field="action",
        )
    row = EscalationAction(priority_id=stored_id(prio), at_state=state, action=kind)
    if kind == EscalationActionKind.RAISE_PRIORITY:
        if not target_priority:
            raise UsageError("raising needs the priority to raise to", field="target")
        target = resolve_priority(session, target_priority)
        if target.rank >= prio.rank:
            raise RuleViolation(
                f"{target.code} (rank {target.rank}) is not more urgent than "
                f"{prio.code} (rank {prio.rank})",
                field="target",
            )
        row.target_priority_id = target.id
    else:
        if target_department:
            row.target_department_id = resolve_department(session, target_department).id
        if target_agent:
            row.target_agent_id = resolve_agent(session, target_agent).id
        if row.target_department_id is None and row.target_agent_id is None:
            what = "reassigning" if kind == EscalationActionKind.REASSIGN else "notifying"
            raise UsageError(f"{what} needs a department or an agent", field="target")
    if position is None:
        existing = session.scalars(
            select(col(EscalationAction.position)).where(
                col(EscalationAction.priority_id) == prio.id
            )
        ).all()
        position = max(existing, default=0) + 1
    row.position = position
    session.add(row)
    session.flush()
    record_change(
        session, entity="priority", action="escalation", entity_id=prio.id, agent_id=actor.id
    )
    return _action_info(session, row)


def list_escalation_actions(session: Session, *, priority: str | None = None) -> list[ActionInfo]:
    query = select(EscalationAction)
    if priority:
        from cc_tui.services.sla.priorities import resolve_priority

        query = query.where(
            col(EscalationAction.priority_id) == resolve_priority(session, priority).id
        )
    rows = session.scalars(query).all()
    infos = [_action_info(session, row) for row in rows]
    return sorted(
        infos, key=lambda a: (a.priority, ESCALATION_RANK[Escalation(a.at_state)], a.position)
    )


def _action_info(session: Session, row: EscalationAction) -> ActionInfo:
    def code(model: type[SQLModel], row_id: int | None, attr: str) -> str | None:
        found = session.get(model, row_id) if row_id else None
        value: str | None = getattr(found, attr) if found else None
        return value

    return ActionInfo(
        id=row.id or 0,
        priority=code(Priority, row.priority_id, "code") or "",  # a required reference
        position=row.position,
        at_state=row.at_state,
        action=row.action,
        target_priority=code(Priority, row.target_priority_id, "code"),
        target_department=code(Department, row.target_department_id, "code"),
        target_agent=code(Agent, row.target_agent_id, "login"),
    )


# --- alerts for the console -----------------------------------------------------------


def unread_alerts(session: Session, *, agent_id: int, limit: int = 50) -> list[Alert]:
    """Escalation alerts not yet shown to the agent, oldest first."""
    rows = session.scalars(
        select(Notification)
        .where(
            col(Notification.agent_id) == agent_id,
            col(Notification.channel) == NotificationChannel.ALERT,
            col(Notification.status) == NotificationStatus.QUEUED,
            col(Notification.reason).like("escalation:%"),
        )
        .order_by(col(Notification.id))
        .limit(limit)
    ).all()
    return [
        Alert(
            id=row.id or 0,
            incident_id=row.incident_id or 0,
            number=number(row.incident_id or 0),
            state=row.reason.removeprefix("escalation:"),
            subject=row.subject,
            body=row.body,
            created_at=row.created_at,
        )
        for row in rows
    ]


def mark_alerts_read(session: Session, *, agent_id: int, ids: Iterable[int]) -> int:
    """The console showed these alerts: they are read (only the agent's own)."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = session.exec(
        update(Notification)
        .where(
            col(Notification.id).in_(wanted),
            col(Notification.agent_id) == agent_id,
            col(Notification.channel) == NotificationChannel.ALERT,
        )
        .values(status=NotificationStatus.READ, sent_at=clock.now())
    )
    return result.rowcount or 0
