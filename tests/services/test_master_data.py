"""Admin master data: classification codes, priorities, departments and agents."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Calendar, WorkOrderTemplate
from cc_tui.models.enums import CodeKind
from cc_tui.services.context import resolve_actor
from cc_tui.services.directory.agents import (
    add_agent,
    add_department,
    list_agents,
    list_departments,
    resolve_agent,
    resolve_department,
    update_agent,
)
from cc_tui.services.directory.codes import add_code, list_codes, resolve_code, resolve_pair
from cc_tui.services.directory.customers import add_customer
from cc_tui.services.directory.units import add_contract
from cc_tui.services.sla.priorities import (
    add_priority,
    default_priority_for,
    list_priorities,
    resolve_priority,
)

HOSTILE = "[@click=app.quit]x[/]"


@pytest.fixture
def bob(db, admin):
    """A plain agent."""
    with db.session() as s:
        add_agent(s, actor=admin, login="bob", name="Bob", role="agent")
        return resolve_actor(s, "bob")


# ---------------------------------------------------------------------------- codes


def test_specific_reason_code_belongs_to_its_general(db, admin):
    with db.session() as s:
        add_code(s, actor=admin, kind="reason", path="hw", name="Hardware")
        add_code(s, actor=admin, kind="reason", path="HW/DISK")
        add_code(s, actor=admin, kind="reason", path="SW")
    with pytest.raises(NotFound, match="general reason code NET"), db.session() as s:
        add_code(s, actor=admin, kind="reason", path="NET/WIFI")
    with pytest.raises(RuleViolation, match="exists already"), db.session() as s:
        add_code(s, actor=admin, kind="reason", path="hw/disk")
    with db.session(write=False) as s:
        general, specific = resolve_pair(s, CodeKind.REASON, "hw/disk")
        assert (general.path, specific.path, specific.parent_id) == ("HW", "HW/DISK", general.id)
        assert resolve_pair(s, CodeKind.REASON, "SW") == (resolve_code(s, "reason", "SW"), None)
        with pytest.raises(NotFound, match="DISK is not a specific reason code under SW"):
            resolve_pair(s, CodeKind.REASON, "SW/DISK")
        with pytest.raises(NotFound):
            resolve_pair(s, CodeKind.RESOLUTION, "HW")  # another kind's tree
        assert [c.path for c in list_codes(s, kind="reason", parent="HW")] == ["HW/DISK"]
        hw = list_codes(s, kind="reason")[0]
        assert (hw.path, hw.name, hw.parent) == ("HW", "Hardware", None)


def test_code_paths_have_the_shape_of_their_kind(db, admin):
    for kind, path in (
        ("reason", "A/B/C"),
        ("request-type", "A/B"),
        ("problem", "DEPT/PROV"),
        ("reason", "HW DISK"),
        ("reason", ""),
    ):
        with pytest.raises(UsageError), db.session() as s:
            add_code(s, actor=admin, kind=kind, path=path)
    with pytest.raises(UsageError, match="unknown code kind"), db.session() as s:
        add_code(s, actor=admin, kind="colour", path="RED")


def test_problem_code_needs_an_existing_department(db, admin):
    with pytest.raises(NotFound, match="no department 'FIELD'"), db.session() as s:
        add_code(s, actor=admin, kind="problem", path="FIELD/PRINTERS/LASER/PICKUP")
    with db.session() as s:
        add_department(s, actor=admin, code="FIELD", name="Field service", on_site=True)
        s.add(WorkOrderTemplate(code="WO-PICKUP", name="Replace pickup roller"))
        s.flush()
        info = add_code(
            s,
            actor=admin,
            kind="problem",
            path="field/printers/laser/pickup",
            name="Paper pickup",
            work_order_template="WO-PICKUP",
        )
    assert (info.path, info.department, info.parent) == (
        "FIELD/PRINTERS/LASER/PICKUP",
        "FIELD",
        "FIELD/PRINTERS/LASER",
    )
    assert info.work_order_template == "WO-PICKUP"
    with db.session(write=False) as s:
        assert [c.path for c in list_codes(s, kind="provider")] == ["FIELD/PRINTERS"]
        assert [c.path for c in list_codes(s, kind="category")] == ["FIELD/PRINTERS/LASER"]
        assert resolve_code(s, "problem", "pickup").id == info.id  # by its own code
    with pytest.raises(NotFound, match="work-order template"), db.session() as s:
        add_code(
            s,
            actor=admin,
            kind="problem",
            path="FIELD/PRINTERS/LASER/JAM",
            work_order_template="NO",
        )
    with pytest.raises(UsageError, match="only problem codes"), db.session() as s:
        add_code(s, actor=admin, kind="reason", path="HW", work_order_template="WO-PICKUP")


def test_listing_children_takes_underscore_literally(db, admin):
    with db.session() as s:
        for path in ("A_B", "A_B/ONE", "AXB", "AXB/TWO"):
            add_code(s, actor=admin, kind="reason", path=path)
    with db.session(write=False) as s:
        assert [c.path for c in list_codes(s, kind="reason", parent="A_B")] == ["A_B/ONE"]
        assert [c.path for c in list_codes(s, kind="reason", prefix="A_")] == ["A_B", "A_B/ONE"]


def test_codes_are_admin_only(db, admin, bob):
    with pytest.raises(RuleViolation, match="only an admin may add codes"), db.session() as s:
        add_code(s, actor=bob, kind="reason", path="HW")


def test_cli_code_add_and_list(cli):
    result = cli("code", "add", "reason", "HW", "--name", "Hardware", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["kind"], data["path"], data["name"], data["parent"]) == (
        "reason",
        "HW",
        "Hardware",
        None,
    )
    assert cli("code", "add", "reason", "HW/DISK", "--json").exit_code == 0
    assert cli("code", "add", "reason", "SW/LOGIN").exit_code == 3  # no general SW
    assert cli("code", "add", "reason", "HW/DISK").exit_code == 1  # exists
    assert cli("code", "add", "colour", "RED").exit_code == 2
    assert cli("code", "add", "problem", "NODEPT/P/C/X").exit_code == 3
    listed = json.loads(cli("code", "list", "reason", "--json").stdout)
    assert [c["path"] for c in listed] == ["HW", "HW/DISK"]
    children = json.loads(cli("code", "list", "reason", "--parent", "HW", "--json").stdout)
    assert [c["path"] for c in children] == ["HW/DISK"]
    assert cli("code", "add", "request-type", "COMPLAINT", "--json").exit_code == 0
    assert cli("agent", "add", "bob", "--name", "Bob").exit_code == 0
    refused = cli("code", "add", "reason", "NET", login="bob")
    assert refused.exit_code == 1 and "only an admin" in refused.stderr


# ---------------------------------------------------------------------------- priorities


def test_only_one_default_priority(db, admin):
    with db.session() as s:
        add_priority(s, actor=admin, code="p3", name="Normal", rank=3, is_default=True)
        add_priority(s, actor=admin, code="P1", name="Urgent", rank=1)
        add_priority(s, actor=admin, code="P4", name="Low", rank=4, is_default=True)
    with db.session(write=False) as s:
        listed = list_priorities(s)
        assert [(p.code, p.is_default) for p in listed] == [
            ("P1", False),
            ("P3", False),
            ("P4", True),
        ]
        assert resolve_priority(s, "p1").code == "P1"
        with pytest.raises(NotFound, match="valid: P1, P3, P4"):
            resolve_priority(s, "P9")


def test_priority_rules(db, admin, bob):
    with db.session() as s:
        add_priority(s, actor=admin, code="P1", name="Urgent", rank=1, response_minutes=60)
    with pytest.raises(RuleViolation, match="exists already"), db.session() as s:
        add_priority(s, actor=admin, code="p1", name="Again")
    with pytest.raises(UsageError, match="rank"), db.session() as s:
        add_priority(s, actor=admin, code="P0", name="Zero", rank=0)
    with pytest.raises(UsageError, match="priority code"), db.session() as s:
        add_priority(s, actor=admin, code="P 1", name="Space")
    with pytest.raises(UsageError, match="negative"), db.session() as s:
        add_priority(s, actor=admin, code="P5", name="X", warning_minutes=-5)
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_priority(s, actor=bob, code="P2", name="High", rank=2)


def test_default_priority_contract_then_customer_then_system(db, admin):
    with db.session() as s:
        system = add_priority(s, actor=admin, code="P3", name="Normal", is_default=True)
        add_priority(s, actor=admin, code="P2", name="High", rank=2)
        add_priority(s, actor=admin, code="P1", name="Urgent", rank=1)
        plain = add_customer(s, actor=admin, name="Plain")
        valued = add_customer(s, actor=admin, name="Valued", priority="P2")
        covered = add_contract(
            s, actor=admin, code="SC-1", customer_id=valued.id, starts_on=date(2026, 1, 1)
        )
        premium = add_contract(
            s,
            actor=admin,
            code="SC-2",
            customer_id=valued.id,
            starts_on=date(2026, 1, 1),
            priority="P1",
        )
    with db.session(write=False) as s:

        def code(**kw):
            found = default_priority_for(s, **kw)
            return found.code if found else None

        assert code() == "P3"
        assert code(customer_id=plain.id) == "P3"
        assert code(customer_id=valued.id) == "P2"
        assert code(contract_id=covered.id, customer_id=valued.id) == "P2"
        assert code(contract_id=premium.id, customer_id=valued.id) == "P1"
        assert code(contract_id=premium.id) == "P1"
        assert system.is_default


def test_no_default_priority_at_all(db, admin):
    with db.session() as s:
        add_priority(s, actor=admin, code="P1", name="Urgent", rank=1)
    with db.session(write=False) as s:
        assert default_priority_for(s) is None


def test_cli_priority_add_and_list(cli):
    result = cli("priority", "add", "p1", "--name", "Urgent", "--rank", "1", "--default", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["code"], data["name"], data["rank"], data["is_default"]) == (
        "P1",
        "Urgent",
        1,
        True,
    )
    assert cli("priority", "add", "P3", "--name", "Normal", "--json").exit_code == 0
    listed = json.loads(cli("priority", "list", "--json").stdout)
    assert [(p["code"], p["rank"]) for p in listed] == [("P1", 1), ("P3", 3)]
    assert cli("priority", "add", "P1", "--name", "Again").exit_code == 1
    assert cli("priority", "add", "P7", "--name", "Bad", "--rank", "12").exit_code == 2
    assert cli("priority", "add", "P7").exit_code == 2  # --name missing
    assert cli("agent", "add", "bob", "--name", "Bob").exit_code == 0
    assert cli("priority", "add", "P2", "--name", "High", login="bob").exit_code == 1
    assert cli("priority", "list", "--json", login="bob").exit_code == 0  # reading is for all


# ---------------------------------------------------------------------------- departments


def test_departments(db, admin, bob):
    with db.session() as s:
        s.add(Calendar(name="Office DE", tz="Europe/Berlin"))
        s.flush()
        support = add_department(s, actor=admin, code="sup", name=HOSTILE, calendar="office de")
        add_department(s, actor=admin, code="FIELD", name="Field service", on_site=True)
    assert (support.code, support.name, support.calendar) == ("SUP", HOSTILE, "Office DE")
    with pytest.raises(RuleViolation, match="exists already"), db.session() as s:
        add_department(s, actor=admin, code="SUP", name="Again")
    with pytest.raises(NotFound, match="no calendar 'Nights'; known: Office DE"), db.session() as s:
        add_department(s, actor=admin, code="NIGHT", name="Nights", calendar="Nights")
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_department(s, actor=bob, code="X", name="X")
    with db.session(write=False) as s:
        assert [(d.code, d.on_site) for d in list_departments(s)] == [
            ("FIELD", True),
            ("SUP", False),
        ]
        assert resolve_department(s, "field").code == "FIELD"
        with pytest.raises(NotFound, match="known: FIELD, SUP"):
            resolve_department(s, "NOPE")


# ---------------------------------------------------------------------------- agents


def test_add_and_list_agents(db, admin):
    with db.session() as s:
        add_department(s, actor=admin, code="SUP", name="Support")
        maria = add_agent(
            s,
            actor=admin,
            login="maria",
            name="Maria Lopez",
            role="Supervisor",
            department="sup",
            skills="Printers, network,printers",
            region="NORTH",
            email="maria@example.org",
        )
        add_agent(s, actor=admin, login="tom", name=HOSTILE)
    assert (maria.role, maria.department, maria.skills, maria.region) == (
        "supervisor",
        "SUP",
        ["network", "printers"],
        "NORTH",
    )
    with db.session(write=False) as s:
        assert [a.login for a in list_agents(s)] == ["admin", "maria", "tom"]
        assert [a.login for a in list_agents(s, department="SUP")] == ["maria"]
        assert resolve_agent(s, "TOM").name == HOSTILE
        with pytest.raises(NotFound):
            resolve_agent(s, "nobody")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"login": "maria"}, RuleViolation, "exists already"),
        ({"login": "bad login"}, UsageError, "login"),
        ({"role": "boss"}, UsageError, "unknown role"),
        ({"department": "NOPE"}, NotFound, "no department"),
        ({"skills": "c++"}, UsageError, "skill"),
        ({"email": "nope"}, UsageError, "e-mail"),
        ({"name": " "}, UsageError, "name"),
    ],
)
def test_agent_rules(db, admin, kwargs, error, message):
    with db.session() as s:
        add_agent(s, actor=admin, login="maria", name="Maria")
    args = {"login": "new", "name": "New Agent"} | kwargs
    with pytest.raises(error, match=message), db.session() as s:
        add_agent(s, actor=admin, **args)


def test_update_agent_role_department_skills_active(db, admin, bob):
    with db.session() as s:
        add_department(s, actor=admin, code="SUP", name="Support")
        info = update_agent(
            s, actor=admin, login="bob", role="supervisor", department="SUP", skills=["Linux"]
        )
    assert (info.role, info.department, info.skills) == ("supervisor", "SUP", ["linux"])
    with db.session() as s:
        info = update_agent(s, actor=admin, login="bob", department=None, active=False)
    assert (info.department, info.active) == (None, False)
    with db.session(write=False) as s:
        assert [a.login for a in list_agents(s)] == ["admin"]
        assert [a.login for a in list_agents(s, include_inactive=True)] == ["admin", "bob"]
        with pytest.raises(RuleViolation, match="deactivated"):
            resolve_actor(s, "bob")
    with pytest.raises(RuleViolation, match="yourself"), db.session() as s:
        update_agent(s, actor=admin, login="admin", active=False)
    with pytest.raises(RuleViolation, match="yourself"), db.session() as s:
        update_agent(s, actor=admin, login="admin", role="agent")
    with pytest.raises(UsageError, match="nothing to change"), db.session() as s:
        update_agent(s, actor=admin, login="bob")


def test_agents_cannot_manage_agents(db, admin, bob):
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_agent(s, actor=bob, login="eve", name="Eve", role="admin")
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        update_agent(s, actor=bob, login="bob", role="admin")


def test_cli_departments_and_agents(cli):
    dept = cli("department", "add", "SUP", "--name", "Support", "--json")
    assert dept.exit_code == 0, dept.output
    assert json.loads(dept.stdout) == {
        "id": 1,
        "code": "SUP",
        "name": "Support",
        "calendar": None,
        "on_site": False,
        "active": True,
    }
    assert cli("department", "add", "FIELD", "--name", "Field", "--on-site").exit_code == 0
    depts = json.loads(cli("department", "list", "--json").stdout)
    assert [d["code"] for d in depts] == ["FIELD", "SUP"]
    assert cli("department", "add", "N", "--name", "N", "--calendar", "none").exit_code == 3

    added = cli(
        "agent",
        "add",
        "bob",
        "--name",
        "Bob Builder",
        "--role",
        "supervisor",
        "--department",
        "SUP",
        "--skills",
        "printers,Network",
        "--region",
        "NORTH",
        "--json",
    )
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert (data["login"], data["role"], data["department"], data["skills"], data["region"]) == (
        "bob",
        "supervisor",
        "SUP",
        ["network", "printers"],
        "NORTH",
    )
    listed = json.loads(cli("agent", "list", "--json").stdout)
    assert [a["login"] for a in listed] == ["admin", "bob"]
    only = json.loads(cli("agent", "list", "--department", "SUP", "--json").stdout)
    assert [a["login"] for a in only] == ["bob"]
    assert cli("agent", "add", "eve", "--name", "Eve", "--role", "boss").exit_code == 2
    assert cli("agent", "add", "eve", "--name", "Eve", "--department", "X").exit_code == 3
    refused = cli("agent", "add", "eve", "--name", "Eve", login="bob")
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    assert cli("department", "add", "X", "--name", "X", login="bob").exit_code == 1

    changed = cli("agent", "update", "bob", "--department", "", "--skills", "linux", "--json")
    assert changed.exit_code == 0, changed.output
    assert (json.loads(changed.stdout)["department"], json.loads(changed.stdout)["skills"]) == (
        None,
        ["linux"],
    )
    assert cli("agent", "update", "bob", "--inactive").exit_code == 0
    gone = cli("agent", "list", "--json", login="bob")
    assert gone.exit_code == 1 and "deactivated" in gone.stderr
    assert cli("agent", "update", "nobody", "--active").exit_code == 3
