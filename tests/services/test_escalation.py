"""Deadlines, pauses and the escalation sweep, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import (
    Calendar,
    Customer,
    Department,
    Event,
    EventType,
    Incident,
    IncidentPause,
    Notification,
    Priority,
)
from cc_tui.services.directory.agents import add_agent, add_department
from cc_tui.services.directory.codes import add_code
from cc_tui.services.incidents.edit import update_incident
from cc_tui.services.incidents.lifecycle import change_status
from cc_tui.services.incidents.records import get_incident, incident_detail
from cc_tui.services.sla.deadlines import deadline_view, plan_deadlines, set_deadlines
from cc_tui.services.sla.escalation import (
    add_escalation_action,
    escalate,
    escalate_all,
    mark_alerts_read,
    unread_alerts,
)
from cc_tui.services.sla.priorities import add_priority
from cc_tui.services.worktime.calendars import (
    add_calendar,
    add_holidays,
    calendar_due,
    show_calendar,
)
from tests import factories as f

# Monday 2 March 2026, 09:00 in Berlin (08:00 UTC); office hours 08-12 and 13-17.
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OFFICE = ["mon-fri 08:00-12:00 13:00-17:00"]


utc = f.utc


@pytest.fixture
def clock(monkeypatch):
    """The program's notion of now, set by the test."""
    return f.fake_clock(monkeypatch, T0)


@pytest.fixture
def desk(db, admin, clock):
    """Berlin office calendar, department DESK on it, priority P2 (default), agents."""
    with db.session() as s:
        add_calendar(s, actor=admin, name="Berlin", tz="Europe/Berlin", hours=OFFICE)
        add_department(s, actor=admin, code="DESK", name="Service desk", calendar="Berlin")
        add_department(s, actor=admin, code="L2", name="Second level")
        add_department(s, actor=admin, code="MGMT", name="Management")
        add_code(s, actor=admin, kind="reason", path="HW")
        add_code(s, actor=admin, kind="reason", path="HW/DISK")
        add_code(s, actor=admin, kind="problem", path="DESK/IT/PC/DISK")
        f.normal_priority(s, admin)
        add_priority(s, actor=admin, code="P1", name="Urgent", rank=1, response_minutes=15)
        agents = {}
        for login, role, dept, email in [
            ("olga", "agent", "DESK", "olga@example.com"),
            ("sam", "supervisor", "DESK", "sam@example.com"),
            ("sue", "supervisor", "DESK", None),
            ("pete", "agent", "DESK", None),
            ("lena", "supervisor", "L2", "lena@example.com"),
            ("max", "supervisor", "MGMT", None),
        ]:
            info = add_agent(
                s,
                actor=admin,
                login=login,
                name=login.title(),
                role=role,
                department=dept,
                email=email,
            )
            agents[login] = info.id
        customer = f.customer(s, "Acme")
    return {"customer": customer.id, **agents}


def actor(db, login):
    from cc_tui.services.context import resolve_actor

    with db.session() as s:
        return resolve_actor(s, login)


def register(db, admin, desk, **form) -> str:
    return f.register(db, admin, desk["customer"], **form)


def take(db, ref, login="olga"):
    """The agent takes the incident (becomes its owner)."""
    with db.session() as s:
        change_status(s, actor=actor(db, login), ref=ref, to="in_process")


def row(db, ref) -> Incident:
    with db.session(write=False) as s:
        return get_incident(s, ref)


def sweep(db, at):
    with db.session() as s:
        return escalate(s, at=at)


def events(db, ref, kind="Escalation"):
    with db.session(write=False) as s:
        return [e for e in incident_detail(s, ref).events if e.type == kind]


def notifications(db):
    with db.session(write=False) as s:
        return s.scalars(select(Notification).order_by(Notification.id)).all()


# --- deadlines ------------------------------------------------------------------------


def test_deadlines_at_registration_follow_the_department_calendar(db, admin, desk):
    ref = register(db, admin, desk)
    inc = row(db, ref)
    assert inc.registered_at == T0
    assert inc.response_due == utc(2026, 3, 2, 9, 0)  # 10:00 Berlin
    assert inc.follow_up_at == utc(2026, 3, 2, 10, 0)  # 11:00
    assert inc.warning_at == utc(2026, 3, 2, 13, 0)  # 3 h before lunch, 1 after: 14:00
    assert inc.late_at == utc(2026, 3, 3, 8, 0)  # 7 h on Monday, Tuesday 09:00
    assert inc.resolve_due == utc(2026, 3, 4, 8, 0)  # Wednesday 09:00
    assert inc.escalation == "on_time"
    assert inc.escalate_at == inc.follow_up_at
    with db.session(write=False) as s:
        view = deadline_view(s, ref=ref, now=T0)
    assert view.plan.calendar == "Berlin"
    assert view.plan.calendar_source == "department DESK"


def test_information_requests_and_comments_get_no_clocks(db, admin, desk):
    ref = register(
        db,
        admin,
        desk,
        request_type="information",
        question="Hours?",
        answer="9-17",
        reason=None,
        problem_code=None,
    )
    inc = row(db, ref)
    assert inc.status == "closed"
    assert inc.response_due is None and inc.escalate_at is None


def test_calendar_choice_and_contract_overrides(db, admin, desk, clock):
    with db.session() as s:
        add_calendar(
            s, actor=admin, name="Coverage", tz="Europe/Berlin", hours=["mon-sun 10:00-12:00"]
        )
        add_calendar(s, actor=admin, name="Prio", tz="Europe/Berlin", hours=["mon-fri 12:00-18:00"])
        add_priority(
            s,
            actor=admin,
            code="C1",
            name="Contract",
            response_minutes=60,
            basis="contract",
            calendar="Prio",
        )
        add_priority(s, actor=admin, code="A1", name="All hours", response_minutes=60, basis="all")
        add_priority(
            s, actor=admin, code="B1", name="Business", response_minutes=60, calendar="Prio"
        )
        cust = s.get(Customer, desk["customer"])
        contract = f.contract(s, cust, "SC-1")
        contract.calendar_id = s.scalars(
            select(Calendar.id).where(Calendar.name == "Coverage")
        ).one()
        f.unit(s, cust, "SN-1", contract=contract)

    def plan(**form):
        ref = register(db, admin, desk, **form)
        with db.session(write=False) as s:
            p = plan_deadlines(s, get_incident(s, ref), now=T0)
        return p.calendar_source, p.deadlines["response_due"]

    # contract basis, incident under the contract: the contract's coverage hours (10-12)
    assert plan(priority="C1", serial="SN-1") == ("contract SC-1", utc(2026, 3, 2, 10, 0))
    # contract basis without a contract: as business, the department's calendar
    assert plan(priority="C1") == ("department DESK", utc(2026, 3, 2, 9, 0))
    # all hours: elapsed time, whatever the department's calendar
    assert plan(priority="A1") == ("all hours", T0 + timedelta(hours=1))
    # business without a department: the priority's calendar (12-18), else 24/7
    assert plan(priority="B1", problem_code=None) == ("priority B1", utc(2026, 3, 2, 12, 0))
    source, due = plan(priority="P2", problem_code=None)
    assert source.startswith("24/7") and due == T0 + timedelta(hours=1)


def test_priority_resolution_order_drives_the_deadlines(db, admin, desk):
    """Contract priority, then the customer's, then the system default."""
    with db.session() as s:
        add_priority(s, actor=admin, code="P3", name="Low", rank=3, response_minutes=240)
        p1 = s.scalars(select(Priority).where(Priority.code == "P1")).one()
        p3 = s.scalars(select(Priority).where(Priority.code == "P3")).one()
        cust = s.get(Customer, desk["customer"])
        cust.priority_id = p3.id
        contract = f.contract(s, cust, "SC-9", priority_id=p1.id)
        contract.response_minutes = 5
        f.unit(s, cust, "SN-9", contract=contract)
        other = f.customer(s, "Nobody special")
    under_contract = row(db, register(db, admin, desk, serial="SN-9"))
    assert under_contract.response_due == T0 + timedelta(minutes=5)  # contract's own time
    customer_prio = row(db, register(db, admin, desk))
    assert customer_prio.response_due == utc(2026, 3, 2, 13, 0)  # P3: 4 h, lunch skipped
    default = row(db, register(db, admin, desk, customer_id=other.id))
    assert default.response_due == utc(2026, 3, 2, 9, 0)  # P2: 1 hour


def test_pending_pauses_the_clocks_and_history_recomputes_them(db, admin, desk, clock):
    ref = register(db, admin, desk)
    take(db, ref)
    clock.now = T0 + timedelta(minutes=30)  # 09:30 Berlin
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="pending")
    assert row(db, ref).paused_since == clock.now
    # while pending, the sweep leaves it alone even long after its deadlines
    assert sweep(db, utc(2026, 3, 10, 12, 0)).changed == 0
    clock.now = utc(2026, 3, 3, 8, 0)  # Tuesday 09:00 Berlin
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="in_process")
    inc = row(db, ref)
    assert inc.paused_since is None
    assert inc.paused_minutes == 23 * 60 + 30
    # 30 of 60 response minutes were used before the pause; the rest runs from Tuesday 09:00
    assert inc.response_due == utc(2026, 3, 3, 8, 30)
    # follow-up: 120 - 30 = 90 more minutes
    assert inc.follow_up_at == utc(2026, 3, 3, 9, 30)
    with db.session(write=False) as s:
        pauses = s.scalars(select(IncidentPause).where(IncidentPause.incident_id == inc.id)).all()
        plan = plan_deadlines(s, get_incident(s, ref), now=clock.now)
    assert [(p.started_at, p.ended_at) for p in pauses] == [(T0 + timedelta(minutes=30), clock.now)]
    assert plan.deadlines["resolve_due"] == inc.resolve_due
    # a second pause adds up
    clock.now = utc(2026, 3, 3, 9, 0)
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="pending")
    clock.now = utc(2026, 3, 3, 10, 0)
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="in_process")
    assert row(db, ref).follow_up_at == utc(2026, 3, 3, 10, 30)


def test_manual_deadlines_are_kept_until_set_back(db, admin, desk, clock):
    ref = register(db, admin, desk)
    promised = utc(2026, 3, 20, 16, 0)
    with db.session() as s:
        view = set_deadlines(s, actor=admin, ref=ref, resolve_due=promised)
    assert view.manual and view.deadlines["resolve_due"] == promised
    with db.session() as s:
        update_incident(s, actor=admin, ref=ref, expected_version=None, priority="P1")
    inc = row(db, ref)
    assert inc.deadlines_manual
    assert inc.resolve_due == promised
    assert inc.response_due == utc(2026, 3, 2, 9, 0)  # still P2's, kept
    assert any(e.data.get("manual") for e in events(db, ref, "FieldChange"))
    with db.session() as s:
        set_deadlines(s, actor=admin, ref=ref, automatic=True)
    inc = row(db, ref)
    assert not inc.deadlines_manual
    assert inc.response_due == T0 + timedelta(minutes=15)  # P1 now
    assert inc.resolve_due is None
    # agents cannot move deadlines
    with db.session() as s, pytest.raises(RuleViolation):
        set_deadlines(s, actor=actor(db, "olga"), ref=ref, resolve_due=promised)


def test_priority_change_recomputes_and_can_lower_the_state(db, admin, desk, clock):
    ref = register(db, admin, desk)
    with db.session() as s:
        add_priority(s, actor=admin, code="P4", name="Whenever", rank=4, resolve_minutes=10_000)
    sweep(db, utc(2026, 3, 5, 8, 0))
    assert row(db, ref).escalation == "late"
    clock.now = utc(2026, 3, 5, 8, 0)
    with db.session() as s:
        update_incident(s, actor=admin, ref=ref, expected_version=None, priority="P4")
    inc = row(db, ref)
    assert inc.escalation == "on_time"
    assert inc.response_due is None and inc.late_at is None
    texts = [e.text for e in events(db, ref)]
    assert texts[-1] == "escalation late -> on_time (priority changed)"


def test_a_calendar_change_moves_open_deadlines(db, admin, desk):
    ref = register(db, admin, desk)
    assert row(db, ref).late_at == utc(2026, 3, 3, 8, 0)
    with db.session() as s:
        result = add_holidays(s, actor=admin, calendar="berlin", days=["2026-03-03"], name="Test")
    assert result.recomputed == 1
    assert row(db, ref).late_at == utc(2026, 3, 4, 8, 0)
    with db.session(write=False) as s:
        assert show_calendar(s, name="Berlin").holidays == 1
        assert calendar_due(s, calendar="Berlin", start="2026-03-02T16:30", minutes=60).due == utc(
            2026, 3, 4, 7, 30
        )


# --- the sweep ------------------------------------------------------------------------


def test_sweep_climbs_once_per_state_and_is_idempotent(db, admin, desk):
    ref = register(db, admin, desk)
    take(db, ref)
    assert sweep(db, T0).changed == 0
    first = sweep(db, utc(2026, 3, 2, 10, 0))  # follow-up time exactly
    assert (first.changed, first.follow_up) == (1, 1)
    assert row(db, ref).escalation == "follow_up"
    again = sweep(db, utc(2026, 3, 2, 10, 0))
    assert (again.checked, again.changed) == (0, 0)
    # past warning and late at once: one step, straight to late
    jump = sweep(db, utc(2026, 3, 3, 8, 0))
    assert (jump.changed, jump.late, jump.warning) == (1, 1, 0)
    assert sweep(db, utc(2026, 3, 9, 8, 0)).changed == 0
    inc = row(db, ref)
    assert (inc.escalation, inc.escalation_rank, inc.escalate_at) == ("late", 3, None)
    assert [(e.data["from"], e.data["to"], e.author) for e in events(db, ref)] == [
        ("on_time", "follow_up", "cc-tui"),
        ("follow_up", "late", "cc-tui"),
    ]


def test_alerts_go_to_owner_and_department_supervisors_once(db, admin, desk):
    ref = register(db, admin, desk)
    take(db, ref)
    result = sweep(db, utc(2026, 3, 2, 13, 0))  # warning
    assert (result.changed, result.warning) == (1, 1)
    rows = notifications(db)
    alerts = sorted((n.agent_id, n.reason) for n in rows if n.channel == "alert")
    assert alerts == sorted(
        [
            (desk["olga"], "escalation:warning"),
            (desk["sam"], "escalation:warning"),
            (desk["sue"], "escalation:warning"),
        ]
    )
    # e-mail rows only for those with an address
    emails = sorted(n.recipient for n in rows if n.channel == "email")
    assert emails == ["olga@example.com", "sam@example.com"]
    assert result.alerts == 3 and result.emails == 2
    assert all(n.status == "queued" and n.subject.startswith(ref) for n in rows)
    sweep(db, utc(2026, 3, 2, 13, 0))
    assert len(notifications(db)) == 5
    # the console shows them once
    with db.session() as s:
        shown = unread_alerts(s, agent_id=desk["olga"])
        assert [(a.number, a.state) for a in shown] == [(ref, "warning")]
        assert mark_alerts_read(s, agent_id=desk["olga"], ids=[a.id for a in shown]) == 1
        # someone else's alert is not marked by olga
        sams = [n.id for n in notifications(db) if n.agent_id == desk["sam"]]
        assert mark_alerts_read(s, agent_id=desk["olga"], ids=sams) == 0
    with db.session() as s:
        assert unread_alerts(s, agent_id=desk["olga"]) == []
        assert len(unread_alerts(s, agent_id=desk["sam"])) == 1


def test_a_supervisor_who_owns_the_incident_gets_one_alert(db, admin, desk):
    ref = register(db, admin, desk)
    take(db, ref, login="sam")
    assert sweep(db, utc(2026, 3, 2, 10, 0)).alerts == 2
    alerts = sorted(n.agent_id for n in notifications(db) if n.channel == "alert")
    assert alerts == sorted([desk["sam"], desk["sue"]])


def test_first_response_stops_the_response_clocks_solved_stops_all(db, admin, desk):
    from cc_tui.services.incidents.timeline import add_event_to_incident

    answered = register(db, admin, desk)
    solved = register(db, admin, desk)
    with db.session() as s:
        add_event_to_incident(s, actor=admin, ref=answered, type_code="CallOut", text="Called back")
        inc = get_incident(s, answered)
        inc.first_response_at = T0 + timedelta(minutes=10)  # as if called back at 09:10
    take(db, solved)
    with db.session() as s:
        add_code(s, actor=admin, kind="resolution", path="FIX")
        add_code(s, actor=admin, kind="resolution", path="FIX/CLEAN")
        change_status(
            s,
            actor=admin,
            ref=solved,
            to="solved",
            problem="disk",
            solution="cleaned",
            resolution="FIX/CLEAN",
        )
    # past follow-up, warning and late: only the unanswered-solved one would climb, but
    # it is solved; the answered one waits for its resolution time
    result = sweep(db, utc(2026, 3, 3, 9, 0))
    assert result.changed == 0
    assert row(db, answered).escalate_at == utc(2026, 3, 4, 8, 0)
    late = sweep(db, utc(2026, 3, 4, 8, 0))
    assert (late.changed, late.late) == (1, 1)
    assert row(db, answered).escalation == "late"
    assert row(db, solved).escalation == "on_time"


def test_escalation_actions_run_in_order(db, admin, desk):
    with db.session() as s:
        add_escalation_action(
            s,
            actor=admin,
            priority="P2",
            at_state="warning",
            action="raise_priority",
            target_priority="P1",
        )
        add_escalation_action(
            s,
            actor=admin,
            priority="P2",
            at_state="warning",
            action="reassign",
            target_agent="pete",
        )
        add_escalation_action(
            s,
            actor=admin,
            priority="P2",
            at_state="warning",
            action="reassign",
            target_department="L2",
        )
        add_escalation_action(
            s,
            actor=admin,
            priority="P2",
            at_state="late",
            action="notify",
            target_department="MGMT",
        )
    ref = register(db, admin, desk)
    take(db, ref)
    result = sweep(db, utc(2026, 3, 2, 13, 0))
    assert result.actions == 3
    inc = row(db, ref)
    assert inc.priority_rank == 1
    # pete first, then the department L2 (whose queue has no owner yet)
    assert (inc.department_id, inc.owner_id) == (
        _dept_id(db, "L2"),
        None,
    )
    assert [e.text for e in events(db, ref, "PriorityChange")] == [
        "priority: P2 -> P1 (escalation warning)"
    ]
    assert [e.text for e in events(db, ref, "Assignment") if "escalation" in e.text] == [
        "reassigned: DESK/olga -> DESK/pete (escalation warning)",
        "reassigned: DESK/pete -> L2 (escalation warning)",
    ]
    # the alerts went to the new department's supervisor
    assert {n.agent_id for n in notifications(db) if n.channel == "alert"} == {desk["lena"]}
    # A raised priority is a priority change: the deadlines are P1's now (15 minutes, and
    # late when the response is), counted from the registration, as a change by hand.
    assert (inc.response_due, inc.late_at) == (utc(2026, 3, 2, 8, 15), utc(2026, 3, 2, 8, 15))
    assert inc.resolve_due is None
    # Statuses follow the owner as for assignments by hand: pete has not started yet, and
    # back in L2's queue nobody works it.
    assert inc.status == "registered"
    assert [e.text for e in events(db, ref, "StatusChange")][-2:] == [
        "in_process -> assigned",
        "assigned -> registered",
    ]
    # By P1's clock it is late already: the next sweep says so, once.
    assert inc.escalate_at == utc(2026, 3, 2, 8, 15)
    assert sweep(db, utc(2026, 3, 2, 13, 1)).late == 1
    late_alerts = {n.agent_id for n in notifications(db) if n.reason == "escalation:late"}
    assert late_alerts == {desk["lena"]}
    assert sweep(db, utc(2026, 3, 3, 8, 0)).changed == 0


def test_notify_action_and_action_validation(db, admin, desk):
    with db.session() as s:
        add_escalation_action(
            s,
            actor=admin,
            priority="P2",
            at_state="follow-up",
            action="notify",
            target_department="MGMT",
        )
        with pytest.raises(RuleViolation, match="not more urgent"):
            add_escalation_action(
                s,
                actor=admin,
                priority="P1",
                at_state="late",
                action="raise_priority",
                target_priority="P2",
            )
        with pytest.raises(UsageError, match="needs a department or an agent"):
            add_escalation_action(s, actor=admin, priority="P2", at_state="late", action="notify")
        with pytest.raises(UsageError, match="unknown escalation state"):
            add_escalation_action(
                s, actor=admin, priority="P2", at_state="soon", action="notify", target_agent="max"
            )
        with pytest.raises(NotFound):
            add_escalation_action(
                s, actor=admin, priority="P9", at_state="late", action="notify", target_agent="max"
            )
    ref = register(db, admin, desk)
    take(db, ref)
    result = sweep(db, utc(2026, 3, 2, 10, 0))
    assert result.actions == 1
    alerted = {n.agent_id for n in notifications(db) if n.channel == "alert"}
    assert alerted == {desk["olga"], desk["sam"], desk["sue"], desk["max"]}


def test_many_incidents_in_one_sweep(db, admin, desk):
    refs = [register(db, admin, desk) for _ in range(30)]
    result = sweep(db, utc(2026, 3, 2, 10, 0))
    assert (result.checked, result.changed, result.follow_up) == (30, 30, 30)
    with db.session(write=False) as s:
        n = s.scalar(
            select(func.count())
            .select_from(Event)
            .join(EventType, EventType.id == Event.event_type_id)
            .where(EventType.code == "Escalation")
        )
    assert n == 30
    assert {row(db, r).escalation for r in refs} == {"follow_up"}


def test_a_sweep_takes_a_bounded_batch_the_most_overdue_first(db, admin, desk):
    refs = [register(db, admin, desk) for _ in range(7)]
    # The first three registered become due first: they fall behind the others.
    with db.session() as s:
        for minutes, ref in enumerate(refs):
            incident = get_incident(s, ref)
            incident.escalate_at = utc(2026, 3, 2, 9, 0) + timedelta(minutes=minutes)
    first = escalate_one(db, utc(2026, 3, 2, 10, 0), limit=3)
    assert (first.checked, first.changed, first.more) == (3, 3, True)
    assert [row(db, r).escalation for r in refs[:3]] == ["follow_up"] * 3
    assert {row(db, r).escalation for r in refs[3:]} == {"on_time"}
    rest = escalate_all(db, at=utc(2026, 3, 2, 10, 0), limit=3)
    # 4 due: a full batch, one more, then nothing to say "more" about.
    assert (rest.checked, rest.changed, rest.batches, rest.more) == (4, 4, 2, False)
    assert {row(db, r).escalation for r in refs} == {"follow_up"}
    assert all(len(events(db, r)) == 1 for r in refs)
    again = escalate_all(db, at=utc(2026, 3, 2, 10, 0), limit=3)
    assert (again.checked, again.changed, again.batches) == (0, 0, 1)


def test_a_sweep_batch_of_none_is_refused(db, admin):
    with db.session() as s, pytest.raises(UsageError):
        escalate(s, at=utc(2026, 3, 2, 10, 0), limit=0)


def escalate_one(db, at, *, limit):
    with db.session() as s:
        return escalate(s, at=at, limit=limit)


@pytest.mark.pg
@pytest.mark.commits
def test_a_concurrent_sweep_is_skipped_on_postgresql(db, admin, desk):
    if db.is_sqlite:
        pytest.skip("SQLite runs one writer at a time")
    register(db, admin, desk)
    with db.session() as first:
        assert not escalate(first, at=utc(2026, 3, 2, 10, 0)).skipped
        with db.session() as second:
            assert escalate(second, at=utc(2026, 3, 2, 10, 0)).skipped
    assert sweep(db, utc(2026, 3, 2, 10, 0)).changed == 0


def _dept_id(db, code):
    with db.session(write=False) as s:
        return s.scalars(select(Department.id).where(Department.code == code)).one()


# --- the command line -----------------------------------------------------------------


def test_cli_calendar_priority_escalate_and_show(db, admin, cli, monkeypatch):
    out = cli(
        "calendar",
        "add",
        "Berlin",
        "--tz",
        "Europe/Berlin",
        "--hours",
        "mon-fri 08:00-12:00 13:00-17:00",
        "--hours",
        "sat 09:00-12:00",
        "--holidays",
        "DE-BE",
        "--json",
    )
    assert out.exit_code == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["hours"] == ["mon-fri 08:00-12:00 13:00-17:00", "sat 09:00-12:00"]
    assert info["holidays"] > 50 and info["holiday_region"] == "DE-BE"
    out = cli("calendar", "add-holiday", "Berlin", "2026-03-02", "2026-03-03", "--json")
    assert json.loads(out.stdout)["added"] == ["2026-03-02", "2026-03-03"]
    out = cli(
        "calendar",
        "due",
        "Berlin",
        "--start",
        "2026-02-27T16:00:00+01:00",
        "--minutes",
        "120",
        "--json",
    )
    assert out.exit_code == 0, out.stderr
    # Friday 16-17, Saturday 09-10 (Monday and Tuesday are holidays now)
    assert json.loads(out.stdout)["due"] == "2026-02-28T09:00:00+00:00"
    listing = json.loads(cli("calendar", "list", "--json").stdout)
    assert [c["name"] for c in listing] == ["Berlin"]
    shown = json.loads(cli("calendar", "show", "berlin", "--json").stdout)
    assert {"day": "2026-03-02", "name": None, "hours": "", "holiday": True} in shown["days"]

    out = cli(
        "priority",
        "add",
        "P1",
        "--name",
        "Urgent",
        "--rank",
        "1",
        "--response",
        "30m",
        "--follow-up",
        "2h",
        "--warning",
        "4h",
        "--late",
        "8h",
        "--resolve",
        "3d",
        "--basis",
        "all",
        "--default",
        "--json",
    )
    assert out.exit_code == 0, out.stderr
    prio = json.loads(out.stdout)
    assert (prio["response_minutes"], prio["follow_up_minutes"], prio["resolve_minutes"]) == (
        30,
        120,
        3 * 1440,
    )
    assert cli("code", "add", "reason", "HW").exit_code == 0
    assert cli("code", "add", "reason", "HW/DISK").exit_code == 0
    customer = json.loads(cli("customer", "add", "--name", "Acme", "--json").stdout)
    out = cli(
        "incident",
        "open",
        "--channel",
        "phone",
        "--type",
        "action",
        "--customer",
        str(customer["id"]),
        "--title",
        "Disk",
        "--reason",
        "HW/DISK",
        "--json",
    )
    assert out.exit_code == 0, out.stderr
    number = json.loads(out.stdout)["number"]
    shown = json.loads(cli("incident", "show", number, "--json").stdout)
    for key in ("response_due", "follow_up_at", "warning_at", "late_at", "resolve_due"):
        assert shown[key] is not None
    assert (shown["escalation"], shown["paused_minutes"]) == ("on_time", 0)
    late = datetime.fromisoformat(shown["late_at"])

    # Before the clocks reach it, a sweep as of `late` is a dry run: it says what would
    # change and writes nothing.
    dry = cli("escalate", "--at", late.isoformat(), "--json")
    assert dry.exit_code == 0, dry.stderr
    assert "dry run" in dry.stderr
    assert (json.loads(dry.stdout)["changed"], json.loads(dry.stdout)["late"]) == (1, 1)
    assert json.loads(cli("incident", "show", number, "--json").stdout)["escalation"] == "on_time"
    # Once the clocks have passed it, the same sweep writes.
    monkeypatch.setattr("cc_tui.clock.source", lambda: late + timedelta(minutes=1))
    out = cli("escalate", "--at", late.isoformat(), "--json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["changed"], result["late"]) == (1, 1)
    assert json.loads(cli("escalate", "--at", late.isoformat(), "--json").stdout)["changed"] == 0
    assert json.loads(cli("incident", "show", number, "--json").stdout)["escalation"] == "late"
    plain = cli("escalate")
    assert plain.exit_code == 0 and "no escalation" in plain.stdout


def test_cli_escalate_works_off_a_backlog_in_batches(db, admin, desk, cli, clock):
    for _ in range(5):
        register(db, admin, desk)
    clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the clocks reach the sweep's time
    out = cli("escalate", "--at", "2026-03-02T10:00:00+00:00", "--batch", "2", "--json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["changed"], result["batches"], result["more"]) == (5, 3, False)
    plain = cli("escalate", "--at", "2026-03-02T10:00:00+00:00", "--batch", "2")
    assert plain.exit_code == 0 and "no escalation" in plain.stdout
    bad = cli("escalate", "--batch", "0")
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["calendar", "add", "X", "--tz", "Mars/Base", "--hours", "mon 08:00-17:00"],
            2,
            "time zone",
        ),
        (["calendar", "add", "X", "--hours", "mon 17:00-08:00"], 2, "night shift"),
        (
            ["calendar", "add", "X", "--hours", "mon 08:00-17:00", "--holidays", "DE-XX"],
            2,
            "subdivision",
        ),
        (
            ["calendar", "due", "Nowhere", "--start", "2026-01-01T00:00Z", "--minutes", "5"],
            3,
            "no calendar",
        ),
        (["calendar", "add-holiday", "Nowhere", "2026-13-01"], 2, "not a date"),
        (["escalate", "--at", "yesterday"], 2, "not a date and time"),
        (["priority", "add", "PX", "--name", "X", "--response", "soon"], 2, "not a duration"),
        (["priority", "add", "PX", "--name", "X", "--basis", "weekly"], 2, "unknown basis"),
    ],
)
def test_cli_refuses_bad_input_with_one_line(db, admin, cli, args, code, message):
    out = cli(*args)
    assert out.exit_code == code, (out.stdout, out.stderr)
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_only_admins_change_calendars(db, admin, cli):
    with db.session() as s:
        f.agent(s, "bob")
    out = cli("calendar", "add", "X", "--hours", "mon 08:00-17:00", login="bob")
    assert out.exit_code == 1 and "only an admin" in out.stderr


def test_the_incident_screen_explains_each_deadline(db, admin, desk, clock):
    from cc_tui.services.incidents.records import list_incidents
    from cc_tui.widgets.escalation_badge import clock_of, deadline_explanation

    with db.session() as s:
        add_holidays(s, actor=admin, calendar="Berlin", days=["2026-03-03"], name="Test")
    ref = register(db, admin, desk)
    clock.now = T0 + timedelta(minutes=30)
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="pending")
    clock.now = T0 + timedelta(minutes=90)
    with db.session() as s:
        change_status(s, actor=admin, ref=ref, to="in_process")
    with db.session(write=False) as s:
        text = deadline_explanation(deadline_view(s, ref=ref, now=clock.now), UTC).plain
        listed = list_incidents(s, open_only=True)[0]
    assert "Calendar Berlin (Europe/Berlin, department DESK); business hours" in text
    assert "Response due: 2026-03-02 10:00 · 1h working time (priority P2)" in text
    assert "holidays skipped 2026-03-03" in text
    assert "Paused (pending) 1h: 2026-03-02 08:30–09:30" in text
    badge = clock_of(listed)
    assert (badge.state, badge.clock, badge.due) == ("on_time", "response", listed.response_due)
