"""The incident state machine, its required fields, and optimistic locking."""

from __future__ import annotations

import json

import pytest

from cc_tui.errors import Conflict, RuleViolation
from cc_tui.services.incidents.intake import IntakeForm, save_call
from cc_tui.services.incidents.lifecycle import change_status
from cc_tui.services.incidents.records import incident_detail
from tests import factories as f


@pytest.fixture
def inc(db, admin):
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        c = f.customer(s, "Acme")
        r = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action", customer_id=c.id, title="Disk full", reason="HW/DISK"
            ),
        )
    return r.number


def move(db, actor, ref, to, **kw):
    with db.session() as s:
        return change_status(s, actor=actor, ref=ref, to=to, **kw)


def test_happy_path_writes_a_status_event_per_step(db, admin, inc):
    for to in ("assigned", "in_process"):
        move(db, admin, inc, to)
    move(
        db,
        admin,
        inc,
        "solved",
        problem="disk full",
        solution="cleaned up",
        resolution="FIX/CONFIG",
    )
    move(db, admin, inc, "closed", accepted=True)
    with db.session() as s:
        d = incident_detail(s, inc)
    steps = [(e.data["from"], e.data["to"]) for e in d.events if e.type == "StatusChange"]
    assert steps == [
        ("draft", "registered"),
        ("registered", "assigned"),
        ("assigned", "in_process"),
        ("in_process", "solved"),
        ("solved", "closed"),
    ]
    assert d.owner == "admin" and d.customer_accepted is True
    assert d.resolution == {
        "general": "FIX",
        "specific": "CONFIG",
        "problem": "disk full",
        "solution": "cleaned up",
    }


def test_illegal_transition_lists_legal_ones(db, admin, inc):
    move(db, admin, inc, "in_process")
    move(db, admin, inc, "solved", problem="p", solution="s", resolution="FIX/REPLACED")
    move(db, admin, inc, "closed", accepted=True)
    with pytest.raises(RuleViolation, match="final"):
        move(db, admin, inc, "in_process")


def test_registered_cannot_jump_to_closed_without_coordinator(db, admin, inc):
    with pytest.raises(RuleViolation, match="coordinator"):
        move(db, admin, inc, "closed", accepted=True)


def test_solved_requires_problem_solution_and_both_codes(db, admin, inc):
    move(db, admin, inc, "in_process")
    with pytest.raises(RuleViolation, match="actual problem"):
        move(db, admin, inc, "solved", solution="s", resolution="FIX/REPLACED")
    with pytest.raises(RuleViolation, match="specific resolution"):
        move(db, admin, inc, "solved", problem="p", solution="s", resolution="FIX")
    with db.session() as s:
        d = incident_detail(s, inc)
    assert d.status == "in_process" and d.resolution["problem"] is None  # nothing half-written


def test_reopen_when_customer_does_not_accept(db, admin, inc):
    move(db, admin, inc, "in_process")
    move(db, admin, inc, "solved", problem="p", solution="s", resolution="FIX/REPLACED")
    move(db, admin, inc, "in_process", note="customer says it still fails")
    with db.session() as s:
        d = incident_detail(s, inc)
    assert d.status == "in_process" and d.customer_accepted is False


def test_coordinator_close_needs_a_supervisor(db, admin, inc):
    with db.session() as s:
        bob = f.agent(s, "bob")
    with pytest.raises(RuleViolation, match="supervisor"):
        move(db, bob, inc, "closed", coordinator=True)
    result = move(db, admin, inc, "closed", coordinator=True)
    assert result.status == "closed"


def test_pending_pauses_the_clock(db, admin, inc):
    move(db, admin, inc, "in_process")
    move(db, admin, inc, "pending")
    with db.session() as s:
        assert incident_detail(s, inc).status == "pending"
    move(db, admin, inc, "in_process")
    from sqlmodel import select

    from cc_tui.models import IncidentPause

    with db.session() as s:
        pauses = s.exec(select(IncidentPause)).all()
    assert len(pauses) == 1 and pauses[0].ended_at is not None


def test_stale_version_is_refused_with_who_and_when(db, admin, inc):
    with db.session() as s:
        version = incident_detail(s, inc).version
    move(db, admin, inc, "assigned", expected_version=version)
    with pytest.raises(Conflict, match=r"changed by admin at .* reload"):
        move(db, admin, inc, "in_process", expected_version=version)


def test_cli_status_exit_codes(cli, inc):
    ok = cli("incident", "status", inc, "in_process", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["status"] == "in_process"
    refused = cli("incident", "status", inc, "solved")
    assert refused.exit_code == 1 and "solved needs" in refused.stderr
    stale = cli("incident", "status", inc, "pending", "--version", "1")
    assert stale.exit_code == 4 and "reload" in stale.stderr
    solved = cli(
        "incident",
        "status",
        inc,
        "solved",
        "--problem",
        "p",
        "--solution",
        "s",
        "--resolution",
        "FIX/REPLACED",
        "--json",
    )
    assert json.loads(solved.stdout)["status"] == "solved"
    closed = cli("incident", "status", inc, "closed", "--accepted", "--json")
    assert json.loads(closed.stdout)["customer_accepted"] is True


def test_field_changes_write_events_and_respect_versions(db, admin, inc):
    from cc_tui.services.incidents.edit import update_incident

    with db.session() as s:
        f.priority(s, "P1", rank=1)
        version = incident_detail(s, inc).version
    with db.session() as s:
        update_incident(
            s,
            actor=admin,
            ref=inc,
            expected_version=version,
            title="Disk 100% full",
            priority="P1",
            reason="HW",
        )
    with db.session() as s:
        d = incident_detail(s, inc)
    changes = {
        e.data["field"]: (e.data["from"], e.data["to"])
        for e in d.events
        if e.type in ("FieldChange", "PriorityChange")
    }
    assert changes["title"] == ("Disk full", "Disk 100% full")
    assert changes["priority"] == ("P3", "P1")
    assert changes["reason_specific"] == ("HW/DISK", None)
    with db.session() as s, pytest.raises(Conflict):
        update_incident(s, actor=admin, ref=inc, expected_version=version, title="again")


def test_cli_update_clears_and_sets(cli, inc):
    result = cli("incident", "update", inc, "--reason", "SW/LOGIN", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reason"] == {"general": "SW", "specific": "LOGIN"}
    bad = cli("incident", "update", inc, "--priority", "NOPE")
    assert bad.exit_code == 3
