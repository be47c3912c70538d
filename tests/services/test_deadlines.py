"""Deadlines by hand (`incident deadline`/`deadlines`) and deadlines that follow the
department's calendar when an incident moves, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cc_tui.models import Event, EventType
from cc_tui.services.context import resolve_actor
from cc_tui.services.directory.agents import add_agent, add_department
from cc_tui.services.directory.codes import add_code
from cc_tui.services.incidents.records import get_incident
from cc_tui.services.routing.queues import assign, bulk_move
from cc_tui.services.routing.rules import add_rule
from cc_tui.services.sla.deadlines import deadline_view, set_deadlines
from cc_tui.services.sla.escalation import escalate
from cc_tui.services.sla.priorities import add_priority
from cc_tui.services.worktime.calendars import add_calendar
from tests import factories as f

# Monday 2 March 2026, 09:00 in Berlin (08:00 UTC); office hours 08-12 and 13-17.
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NAMES = ("response_due", "follow_up_at", "warning_at", "late_at", "resolve_due")


utc = f.utc


# What P2 (business: 1h, 2h, 4h, 8h, 16h) gives at T0 on each calendar.
OFFICE_DUE = {
    "response_due": utc(2026, 3, 2, 9, 0),
    "follow_up_at": utc(2026, 3, 2, 10, 0),
    "warning_at": utc(2026, 3, 2, 13, 0),  # lunch 11-12 UTC skipped
    "late_at": utc(2026, 3, 3, 8, 0),
    "resolve_due": utc(2026, 3, 4, 8, 0),
}
ALWAYS_DUE = {
    "response_due": utc(2026, 3, 2, 9, 0),
    "follow_up_at": utc(2026, 3, 2, 10, 0),
    "warning_at": utc(2026, 3, 2, 12, 0),
    "late_at": utc(2026, 3, 2, 16, 0),
    "resolve_due": utc(2026, 3, 3, 0, 0),
}


@pytest.fixture
def clock(monkeypatch):
    return f.fake_clock(monkeypatch, T0)


@pytest.fixture
def desk(db, admin, clock):
    """DESK on office hours, NOC around the clock, L2 on office hours too; P2 business."""
    with db.session() as s:
        add_calendar(
            s,
            actor=admin,
            name="Berlin",
            tz="Europe/Berlin",
            hours=["mon-fri 08:00-12:00 13:00-17:00"],
        )
        add_calendar(s, actor=admin, name="Always", tz="UTC", hours=["mon-sun 00:00-24:00"])
        add_department(s, actor=admin, code="DESK", name="Service desk", calendar="Berlin")
        add_department(s, actor=admin, code="NOC", name="Network operations", calendar="Always")
        add_department(s, actor=admin, code="L2", name="Second level", calendar="Berlin")
        add_code(s, actor=admin, kind="reason", path="HW")
        add_code(s, actor=admin, kind="reason", path="HW/DISK")
        add_code(s, actor=admin, kind="problem", path="DESK/IT/PC/DISK")
        f.normal_priority(s, admin)
        add_priority(
            s, actor=admin, code="A1", name="All hours", rank=1, response_minutes=60, basis="all"
        )
        for login, role, dept in [
            ("sam", "supervisor", "DESK"),
            ("olga", "agent", "DESK"),
            ("nina", "agent", "NOC"),
        ]:
            add_agent(s, actor=admin, login=login, name=login.title(), role=role, department=dept)
        customer = f.customer(s, "Acme")
    return {"customer": customer.id}


def register(db, admin, desk, **form) -> str:
    return f.register(db, admin, desk["customer"], **form)


def actor(db, login):
    with db.session() as s:
        return resolve_actor(s, login)


def stored(db, ref) -> dict:
    with db.session(write=False) as s:
        inc = get_incident(s, ref)
        return {name: getattr(inc, name) for name in NAMES}


def incident(db, ref):
    with db.session(write=False) as s:
        return get_incident(s, ref)


def timeline(db, ref, code) -> list[Event]:
    with db.session(write=False) as s:
        inc = get_incident(s, ref)
        return list(
            s.scalars(
                select(Event)
                .join(EventType, EventType.id == Event.event_type_id)
                .where(Event.incident_id == inc.id, EventType.code == code)
                .order_by(Event.id)
            )
        )


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def as_json(out) -> dict:
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)


# --- the command line -------------------------------------------------------------------


def test_cli_sets_deadlines_by_hand_and_keeps_them(db, admin, desk, cli):
    ref = register(db, admin, desk)
    shown = as_json(cli("incident", "show", ref, "--json"))
    assert shown["deadlines_manual"] is False

    view = as_json(
        cli(
            "incident",
            "deadline",
            ref,
            "--resolve-due",
            "2026-03-20T17:00:00+01:00",
            "--late",
            "none",
            "--json",
            login="sam",
        )
    )
    assert view["number"] == ref and view["manual"] is True
    assert view["deadlines"] == {
        **{name: iso(at) for name, at in OFFICE_DUE.items()},
        "late_at": None,
        "resolve_due": "2026-03-20T16:00:00+00:00",
    }
    assert (view["escalation"], view["paused_minutes"], view["paused_since"]) == (
        "on_time",
        0,
        None,
    )
    plan = view["plan"]
    assert (plan["calendar"], plan["calendar_tz"], plan["calendar_source"]) == (
        "Berlin",
        "Europe/Berlin",
        "department DESK",
    )
    assert plan["offsets"] == {
        "response_due": 60,
        "follow_up_at": 120,
        "warning_at": 240,
        "late_at": 480,
        "resolve_due": 960,
    }
    assert plan["offset_sources"]["resolve_due"] == "priority P2"
    assert plan["deadlines"]["late_at"] == iso(OFFICE_DUE["late_at"])  # what the rules say
    assert plan["holidays_skipped"]["resolve_due"] == [] and plan["pauses"] == []
    assert any("set by hand" in text for text in view["notes"])
    # The timeline says who moved which deadline.
    changed = {e.data["field"]: e.data for e in timeline(db, ref, "FieldChange")}
    assert changed["late_at"]["to"] is None and changed["late_at"]["manual"] is True
    assert changed["resolve_due"]["to"] == "2026-03-20T16:00:00+00:00"

    shown = as_json(cli("incident", "show", ref, "--json"))
    assert shown["deadlines_manual"] is True
    assert (shown["late_at"], shown["resolve_due"]) == (None, "2026-03-20T16:00:00+00:00")

    # A priority change keeps deadlines set by hand; the plan shows what it would compute.
    assert cli("incident", "update", ref, "--priority", "A1").exit_code == 0
    view = as_json(cli("incident", "deadlines", ref, "--json"))
    assert view["manual"] is True
    assert view["deadlines"]["resolve_due"] == "2026-03-20T16:00:00+00:00"
    assert view["deadlines"]["response_due"] == iso(OFFICE_DUE["response_due"])
    assert view["plan"]["calendar_source"] == "all hours"
    assert view["plan"]["deadlines"]["response_due"] == iso(T0 + timedelta(hours=1))

    # Back to the computed ones: A1's single clock.
    view = as_json(cli("incident", "deadline", ref, "--computed", "--json", login="sam"))
    assert view["manual"] is False
    assert view["deadlines"] == view["plan"]["deadlines"]
    assert view["deadlines"]["response_due"] == iso(T0 + timedelta(hours=1))
    assert view["deadlines"]["resolve_due"] is None
    assert as_json(cli("incident", "show", ref, "--json"))["deadlines_manual"] is False


def test_cli_reads_a_time_without_offset_in_the_display_zone(db, admin, desk, cli, monkeypatch):
    ref = register(db, admin, desk)
    monkeypatch.setenv("CC_TUI_TIMEZONE", "Europe/Berlin")
    view = as_json(
        cli("incident", "deadline", ref, "--warning", "2026-03-05T10:00", "--json", login="sam")
    )
    assert view["deadlines"]["warning_at"] == "2026-03-05T09:00:00+00:00"
    # Human text: the stored and the computed deadline, in the display zone.
    out = cli("incident", "deadlines", ref)
    assert out.exit_code == 0, out.stderr
    assert "deadlines set by hand" in out.stdout
    assert "calendar:  Berlin (Europe/Berlin; department DESK)" in out.stdout
    warning = next(line for line in out.stdout.splitlines() if line.startswith("warning"))
    assert "2026-03-05 10:00" in warning and "2026-03-02 14:00" in warning
    assert "set by hand" in cli("incident", "show", ref).stdout


def test_cli_deadline_refusals_and_exit_codes(db, admin, desk, cli):
    ref = register(db, admin, desk)
    version = incident(db, ref).version
    closed = register(
        db,
        admin,
        desk,
        request_type="information",
        question="Opening hours?",
        answer="9-17",
        reason=None,
        problem_code=None,
    )
    cases = [
        (("incident", "deadline", ref, "--late", "2026-03-09T12:00Z"), "olga", 1, "supervisor"),
        (("incident", "deadline", closed, "--late", "2026-03-09T12:00Z"), "sam", 1, "closed"),
        (("incident", "deadline", ref, "--late", "tomorrow"), "sam", 2, "--late"),
        (("incident", "deadline", ref), "sam", 2, "at least one"),
        (("incident", "deadline", ref, "--computed", "--late", "none"), "sam", 2, "either"),
        (("incident", "deadline", "INC-999999", "--late", "none"), "sam", 3, "INC-999999"),
        (("incident", "deadlines", "INC-999999"), "olga", 3, "INC-999999"),
        (
            ("incident", "deadline", ref, "--late", "none", "--version", str(version - 1)),
            "sam",
            4,
            "reload",
        ),
    ]
    for args, login, code, message in cases:
        out = cli(*args, "--json", login=login)
        assert out.exit_code == code, (args, out.stdout, out.stderr)
        assert out.stdout == ""
        assert message in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    # Nothing was changed by the refusals; the current version is taken.
    assert stored(db, ref) == OFFICE_DUE
    out = cli("incident", "deadline", ref, "--late", "none", "--version", str(version), login="sam")
    assert out.exit_code == 0, out.stderr
    assert stored(db, ref)["late_at"] is None


# --- moving to another department -----------------------------------------------------------


def test_a_move_recomputes_on_the_new_departments_calendar(db, admin, desk, clock):
    ref = register(db, admin, desk)
    assert stored(db, ref) == OFFICE_DUE
    clock.now = T0 + timedelta(minutes=30)
    with db.session() as s:
        assign(s, actor=admin, ref=ref, to_department="NOC")
    # Still counted from the registration, now around the clock.
    assert stored(db, ref) == ALWAYS_DUE
    inc = incident(db, ref)
    assert inc.escalate_at == ALWAYS_DUE["follow_up_at"]
    with db.session(write=False) as s:
        assert deadline_view(s, ref=ref, now=clock.now).plan.calendar_source == "department NOC"

    # Warning on the 24/7 clock; back on office hours the warning is not due yet.
    with db.session() as s:
        assert escalate(s, at=utc(2026, 3, 2, 12, 30)).changed == 1
    assert incident(db, ref).escalation == "warning"
    clock.now = utc(2026, 3, 2, 12, 30)
    with db.session() as s:
        assign(s, actor=admin, ref=ref, to_department="DESK")
    inc = incident(db, ref)
    assert stored(db, ref) == OFFICE_DUE
    assert (inc.escalation, inc.escalate_at) == ("follow_up", OFFICE_DUE["warning_at"])
    texts = [e.text for e in timeline(db, ref, "Escalation")]
    assert texts[-1] == "escalation warning -> follow_up (department changed)"


def test_a_move_to_an_agent_of_another_department_recomputes_too(db, admin, desk, clock):
    ref = register(db, admin, desk)
    with db.session() as s:
        result = assign(s, actor=admin, ref=ref, to_agent="nina")
    assert (result.department, result.owner) == ("NOC", "nina")
    assert stored(db, ref) == ALWAYS_DUE


def test_a_move_keeps_manual_deadlines_and_all_hours_clocks(db, admin, desk, clock):
    by_hand = register(db, admin, desk)
    with db.session() as s:
        set_deadlines(s, actor=admin, ref=by_hand, resolve_due=utc(2026, 3, 20, 16, 0))
    kept = stored(db, by_hand)
    all_hours = register(db, admin, desk, priority="A1")
    before = stored(db, all_hours)
    same_calendar = register(db, admin, desk)
    with db.session() as s:
        assign(s, actor=admin, ref=by_hand, to_department="NOC")
        assign(s, actor=admin, ref=all_hours, to_department="NOC")
        assign(s, actor=admin, ref=same_calendar, to_department="L2")
    assert stored(db, by_hand) == kept and incident(db, by_hand).deadlines_manual
    assert stored(db, all_hours) == before
    assert stored(db, same_calendar) == OFFICE_DUE


def test_a_bulk_move_recomputes_every_incident(db, admin, desk, clock):
    refs = [register(db, admin, desk) for _ in range(3)]
    with db.session() as s:
        result = bulk_move(s, actor=actor(db, "sam"), refs=refs, to_department="NOC")
    assert len(result.moved) == 3
    for ref in refs:
        assert stored(db, ref) == ALWAYS_DUE
        assert incident(db, ref).escalate_at == ALWAYS_DUE["follow_up_at"]


def test_routing_at_registration_comes_before_the_deadlines(db, admin, desk):
    with db.session() as s:
        add_rule(s, actor=admin, name="Disks to the NOC", reason="HW/DISK", department="NOC")
    ref = register(db, admin, desk)
    with db.session(write=False) as s:
        assert deadline_view(s, ref=ref, now=T0).plan.calendar_source == "department NOC"
    assert stored(db, ref) == ALWAYS_DUE
