"""Routing rules: match fields, order, the default rule, least-loaded agents, the timeline."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Customer, Incident
from cc_tui.services.incidents.intake import IntakeForm, save_call
from cc_tui.services.incidents.records import incident_detail
from cc_tui.services.routing.rules import (
    add_rule,
    deactivate_rule,
    list_rules,
    move_rule,
    reactivate_rule,
    route,
)
from tests import factories as f


@pytest.fixture
def world(db, admin):
    """Departments DESK (support) and FIELD (on site), codes, two priorities, customers in
    two regions, a printer and a server unit."""
    with db.session() as s:
        f.codes(s, admin)  # also adds department FIELD and problem code .../PICKUP
        desk = f.department(s, "DESK", "Service desk")
        f.department(s, "NET", "Network")
        f.priority(s, "P3", rank=3, default=True)
        f.priority(s, "P1", rank=1)
        north = f.customer(s, "Nordwerk AG", number="K-1")
        north.region = "north"
        south = f.customer(s, "Südhaus GmbH", number="K-2")
        south.region = "south"
        f.unit(s, north, "SN-P", unit_type="printer")
        f.unit(s, north, "SN-S", unit_type="server")
        bob = f.agent(s, "bob", department_id=desk.id)
        return {"north": north.id, "south": south.id, "desk": desk.id, "bob": bob}


def rule(db, admin, **kw):
    with db.session() as s:
        return add_rule(s, actor=admin, **kw)


def incident(db, admin, *, channel="phone", request_type="action", **kw):
    form = {"request_type": request_type, "title": "Broken", "reason": "HW/DISK"}
    form.update(kw)
    if request_type == "information":
        form.update(question="How?", answer="Like this.", reason=None)
    with db.session() as s:
        result = save_call(s, actor=admin, channel=channel, form=IntakeForm(**form))
        return incident_detail(s, result.id)


def routing_events(detail):
    return [e for e in detail.events if e.type == "Routing"]


def test_default_rule_catches_what_no_other_rule_matches(db, admin, world):
    rule(db, admin, department="FIELD", unit_type="printer")
    default = rule(db, admin, department="DESK")
    assert default.is_default and default.position == 2

    printer = incident(db, admin, serial="SN-P")
    other = incident(db, admin, serial="SN-S")
    assert printer.department == "FIELD"
    assert other.department == "DESK"
    assert other.status == "registered" and other.owner is None
    [event] = routing_events(other)
    assert event.data["rule"] == default.id and event.data["how"] == "queue"
    assert "rule 2" in event.text and "DESK" in event.text


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    [
        ({"unit_type": "Printer"}, {"serial": "SN-P"}, {"serial": "SN-S"}),
        ({"reason": "HW"}, {"reason": "HW/PRINT"}, {"reason": "SW/LOGIN"}),
        ({"reason": "HW/PRINT"}, {"reason": "HW/PRINT"}, {"reason": "HW/DISK"}),
        (
            {"problem_code": "FIELD/PRINTERS/LASER/PICKUP"},
            {"problem_code": "PICKUP"},
            {},
        ),
        ({"region": "north"}, {"customer_id": "north"}, {"customer_id": "south"}),
        ({"priority": "P1"}, {"priority": "P1"}, {"priority": "P3"}),
        ({"channel": "email"}, {"channel": "email"}, {"channel": "phone"}),
    ],
)
def test_each_match_field(db, admin, world, match, hit, miss):
    rule(db, admin, department="NET", name="specific", **match)
    rule(db, admin, department="DESK")

    def resolved(kw):
        return {k: world[v] if k == "customer_id" else v for k, v in kw.items()}

    assert incident(db, admin, **resolved(hit)).department == "NET"
    assert incident(db, admin, **resolved(miss)).department == "DESK"


def test_request_type_is_a_match_field(db, admin, world):
    rule(db, admin, department="NET", request_type="information")
    rule(db, admin, department="DESK")
    # Only action requests are routed on registration; `route` answers for any incident.
    info = incident(db, admin, request_type="information")
    action = incident(db, admin)
    with db.session() as s:
        assert route(s, s.get(Incident, info.id)).department == "NET"
        assert route(s, s.get(Incident, action.id)).department == "DESK"
    assert routing_events(info) == []


def test_first_match_wins_and_order_can_change(db, admin, world):
    wide = rule(db, admin, department="DESK", reason="HW")
    narrow = rule(db, admin, department="FIELD", reason="HW/PRINT")
    assert incident(db, admin, reason="HW/PRINT").department == "DESK"

    with db.session() as s:
        order = move_rule(s, actor=admin, rule_id=narrow.id, position=1)
    assert [r.id for r in order] == [narrow.id, wide.id]
    assert [r.position for r in order] == [1, 2]
    assert incident(db, admin, reason="HW/PRINT").department == "FIELD"


def test_inserting_at_a_position_moves_the_others_down(db, admin, world):
    a = rule(db, admin, department="DESK", region="north")
    b = rule(db, admin, department="DESK", region="south")
    c = rule(db, admin, department="NET", channel="email", position=1)
    with db.session() as s:
        rows = list_rules(s)
    assert [(r.id, r.position) for r in rows] == [(c.id, 1), (a.id, 2), (b.id, 3)]
    with pytest.raises(UsageError, match="position must be 1 to 4"):
        rule(db, admin, department="DESK", position=5)


def test_rules_after_a_default_are_flagged_unreachable(db, admin, world):
    rule(db, admin, department="DESK")
    later = rule(db, admin, department="NET", region="north")
    with db.session() as s:
        assert {r.id: r.reachable for r in list_rules(s)}[later.id] is False


def test_deactivated_rules_are_skipped(db, admin, world):
    first = rule(db, admin, department="NET")
    rule(db, admin, department="DESK")
    with db.session() as s:
        assert deactivate_rule(s, actor=admin, rule_id=first.id).active is False
    assert incident(db, admin).department == "DESK"
    with db.session() as s:
        reactivate_rule(s, actor=admin, rule_id=first.id)
    assert incident(db, admin).department == "NET"


def test_owner_rule_assigns_and_writes_the_timeline(db, admin, world):
    rule(db, admin, department="DESK", owner="bob", reason="HW")
    detail = incident(db, admin)
    assert detail.owner == "bob" and detail.status == "assigned"
    assert detail.department == "DESK"
    types = [e.type for e in detail.events]
    assert types.index("Routing") < len(types) - 1
    assert detail.events[-1].type == "StatusChange"
    assert detail.events[-1].data == {"field": "status", "from": "registered", "to": "assigned"}
    with db.session() as s:
        inc = s.get(Incident, detail.id)
        assert inc.assigned_at is not None and inc.routing_rule_id is not None


def test_least_loaded_agent_with_the_skill(db, admin, world):
    with db.session() as s:
        for login, skills in (("ann", "printers"), ("cid", "printers,network"), ("dan", "")):
            s.add(Agent(login=login, name=login, department_id=world["desk"], skills=skills))
    rule(db, admin, department="DESK", least_loaded=True, skill="printers")
    owners = [incident(db, admin).owner for _ in range(4)]
    # Ann and Cid share the work; Dan (no skill) and Bob (no skill) get nothing.
    assert sorted(owners) == ["ann", "ann", "cid", "cid"]
    detail = incident(db, admin)
    [event] = routing_events(detail)
    assert event.data["how"] == "least_loaded" and "least loaded" in event.text


def test_a_batch_counts_the_loads_once_and_keeps_them_by_its_own_choices(
    db, admin, world, monkeypatch
):
    """Inside a batch (a mail fetch) the open counts are read once and the batch's own
    assignments are added to them; work given meanwhile by others counts from the next
    reading."""
    from sqlalchemy import event

    from cc_tui.services.per_batch import reference_per_batch
    from cc_tui.services.routing import rules
    from cc_tui.services.routing.queues import assign

    with db.session() as s:
        for login in ("ann", "cid"):
            s.add(Agent(login=login, name=login, department_id=world["desk"], skills="printers"))
    rule(db, admin, department="DESK", least_loaded=True, skill="printers")
    counts: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if re.search(r"count\(incident\.owner_id\)", statement):
            counts.append(statement)

    # However slow the machine, the batch's first reading stays fresh until said otherwise.
    monkeypatch.setattr(rules, "LOADS_FRESH_S", float("inf"))
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with reference_per_batch():
            filed = [incident(db, admin) for _ in range(4)]
            assert [d.owner for d in filed] == ["ann", "cid", "ann", "cid"]
            assert len(counts) == 1
            # A supervisor hands Cid's two to Ann while the batch runs (Ann 4, Cid 0).
            with db.session() as s:
                for detail in filed[1::2]:
                    assign(s, actor=admin, ref=detail.id, to_agent="ann")
            # The batch has not seen it: 2 and 2, the tie goes to Ann.
            assert incident(db, admin).owner == "ann" and len(counts) == 1
            monkeypatch.setattr(rules, "LOADS_FRESH_S", -1.0)
            assert [incident(db, admin).owner for _ in range(3)] == ["cid", "cid", "cid"]
            assert len(counts) == 4
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_least_loaded_without_skill_takes_anyone_and_ignores_supervisors(db, admin, world):
    with db.session() as s:
        s.add(Agent(login="sam", name="Sam", role="supervisor", department_id=world["desk"]))
        s.add(Agent(login="cy", name="Cy", department_id=world["desk"], active=False))
    rule(db, admin, department="DESK", least_loaded=True)
    owners = {incident(db, admin).owner for _ in range(3)}
    assert owners == {"bob"}


def test_least_loaded_with_nobody_left_stays_in_the_queue(db, admin, world):
    rule(db, admin, department="DESK", least_loaded=True, skill="welding")
    detail = incident(db, admin)
    assert detail.owner is None and detail.status == "registered"
    assert "no active agent with skill welding" in routing_events(detail)[0].text


def test_without_rules_classification_keeps_its_department(db, admin, world):
    detail = incident(db, admin, problem_code="PICKUP")
    assert detail.department == "FIELD"
    assert routing_events(detail) == []


def test_no_match_is_written_when_rules_exist(db, admin, world):
    rule(db, admin, department="NET", region="north")
    detail = incident(db, admin, customer_id=world["south"])
    assert detail.department is None
    assert routing_events(detail)[0].text == "no routing rule matched"


def test_rule_validation(db, admin, world):
    with pytest.raises(NotFound, match="no department 'NOPE'"):
        rule(db, admin, department="NOPE")
    with pytest.raises(UsageError, match="not both"):
        rule(db, admin, department="DESK", owner="bob", least_loaded=True)
    with pytest.raises(UsageError, match="only applies with --least-loaded"):
        rule(db, admin, department="DESK", skill="printers")
    with pytest.raises(RuleViolation, match="does not work in department NET"):
        rule(db, admin, department="NET", owner="bob")
    with pytest.raises(UsageError, match="unknown channel"):
        rule(db, admin, department="DESK", channel="pigeon")
    with pytest.raises(NotFound):
        rule(db, admin, department="DESK", reason="HW/NOPE")
    with pytest.raises(RuleViolation, match="only an admin"):
        rule(db, world["bob"], department="DESK")
    with db.session() as s:
        assert list_rules(s) == []


def test_region_of_the_customer_is_compared_without_case(db, admin, world):
    with db.session() as s:
        s.scalars(select(Customer).where(Customer.id == world["north"])).one().region = "North"
    rule(db, admin, department="NET", region="NORTH")
    assert incident(db, admin, customer_id=world["north"]).department == "NET"


def test_cli_rule_add_list_move_and_exit_codes(cli, world):
    added = cli(
        "rule", "add", "--department", "DESK", "--least-loaded", "--skill", "printers",
        "--unit-type", "printer", "--reason", "HW/PRINT", "--region", "north",
        "--priority", "P1", "--channel", "phone", "--type", "action", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["position"] == 1 and data["least_loaded"] is True
    assert data["reason"] == "HW/PRINT" and data["priority"] == "P1"
    assert data["skill"] == "printers" and data["department"] == "DESK"
    default = cli("rule", "add", "--department", "FIELD", "--position", "1", "--json")
    assert json.loads(default.stdout)["is_default"] is True

    listed = json.loads(cli("rule", "list", "--json").stdout)
    assert [(r["department"], r["position"], r["reachable"]) for r in listed] == [
        ("FIELD", 1, True),
        ("DESK", 2, False),
    ]
    moved = cli("rule", "move", str(data["id"]), "--position", "1", "--json")
    assert json.loads(moved.stdout)[0]["id"] == data["id"]

    assert cli("rule", "add", "--department", "NOPE").exit_code == 3
    both = cli("rule", "add", "--department", "DESK", "--owner", "bob", "--least-loaded")
    assert both.exit_code == 2 and "not both" in both.stderr
    assert cli("rule", "add", "--department", "DESK", login="bob").exit_code == 1
    assert cli("rule", "move", "999", "--position", "1").exit_code == 3


def test_a_batch_reads_the_rules_and_the_reference_rows_once(db, admin, world):
    """Inside `reference_per_batch()` (a mail fetch) the second registration reads no rule,
    department, default priority, reason code nor policy again; a rule added meanwhile
    counts from the next batch, and outside a batch at once."""
    from sqlalchemy import event

    from cc_tui.services.per_batch import reference_per_batch

    def register() -> int:
        form = IntakeForm(
            request_type="action", title="Broken", reason="HW/DISK", customer_id=world["north"]
        )
        with db.session() as s:
            return save_call(s, actor=admin, channel="phone", form=form).id

    rule(db, admin, department="DESK", least_loaded=True)
    tables: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        tables.extend(re.findall(r"\bFROM\s+(\w+)", statement))

    reference = {"routing_rule", "department", "priority", "code", "notify_policy"}
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with reference_per_batch():
            first = register()
            assert {"routing_rule", "priority", "code", "notify_policy"} <= set(tables)
            rule(db, admin, department="NET", position=1)
            tables.clear()
            second = register()
            assert not set(tables) & reference
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    with db.session() as s:
        for number in (first, second):
            detail = incident_detail(s, number)
            assert (detail.department, detail.owner, detail.priority) == ("DESK", "bob", "P3")
            assert detail.reason["general"] and detail.reason["specific"]
    assert incident(db, admin, customer_id=world["north"]).department == "NET"
