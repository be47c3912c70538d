"""Work orders (M10): templates, transfer, link, the order's lifecycle and its incidents."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Event, Incident, IncidentWorkOrder, WorkOrder
from cc_tui.services.directory.codes import add_code
from cc_tui.services.incidents.records import incident_detail
from cc_tui.services.workorders.orders import (
    candidates,
    link,
    list_orders,
    set_status,
    show_order,
    transfer,
    transfer_offer,
)
from cc_tui.services.workorders.templates import add_template, list_templates
from tests import factories as f

PROBLEM = "FIELD/PRINTERS/LASER/JAM"


@pytest.fixture
def world(db, admin):
    """Codes, a printer template named by a problem code, two customers with printers."""
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        add_template(
            s,
            actor=admin,
            code="WO-PRN",
            kind="service",
            title="On-site printer repair",
            tasks=["Clean the feed path", "Test print"],
            hours=1.5,
            department="FIELD",
        )
        add_code(s, actor=admin, kind="problem", path=PROBLEM, work_order_template="WO-PRN")
        acme = f.customer(s, "Acme")
        acme.region = "NORTH"
        globex = f.customer(s, "Globex")
        globex.region = "NORTH"
        agreement = f.subcontract(s, "SUB-PRN", item="LJ-4000")
        acme_unit = f.unit(s, acme, "SN-ACME-1")
        acme_unit.item = "LJ-4000"
        ids = {"acme": acme.id, "globex": globex.id, "sub": agreement.id, "unit": acme_unit.id}
    return ids


def action(db, admin, customer: int, **form) -> str:
    return f.register(db, admin, customer, problem_code=PROBLEM, title="Printer jams", **form)


def status_of(db, ref: str) -> str:
    with db.session(write=False) as s:
        return incident_detail(s, ref).status


def complete(db, admin, wo: str, solution: str = "replaced the pickup roller"):
    with db.session() as s:
        return set_status(
            s,
            actor=admin,
            wo=wo,
            to="completed",
            problem="worn roller",
            solution=solution,
            resolution="FIX/REPLACED",
        )


def test_template_add_and_list(db, admin, world):
    with db.session(write=False) as s:
        (t,) = list_templates(s)
    assert (t.code, t.kind, t.hours, t.department) == ("WO-PRN", "service", 1.5, "FIELD")
    assert t.tasks == ["Clean the feed path", "Test print"]
    with db.session() as s, pytest.raises(UsageError, match="repair kind"):
        add_template(s, actor=admin, code="WO-REP", kind="repair", title="Depot repair")
    with db.session() as s:
        r = add_template(
            s, actor=admin, code="WO-REP", kind="repair", repair_kind="depot", title="Depot"
        )
    assert r.repair_kind == "depot"


def test_transfer_uses_the_problem_codes_template_and_writes_both_timelines(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        result = transfer(s, actor=admin, ref=inc)
    assert result.incident == {"number": inc, "status": "transferred"}
    (order,) = result.work_orders
    assert (order.kind, order.template, order.department) == ("service", "WO-PRN", "FIELD")
    assert [t["text"] for t in order.tasks] == ["Clean the feed path", "Test print"]
    assert order.incidents == [inc]
    assert [e.action for e in order.events] == ["created"]
    with db.session(write=False) as s:
        events = incident_detail(s, inc).events
    handed = [e for e in events if e.type == "WorkOrder"]
    assert len(handed) == 1 and order.number in (handed[0].text or "")
    assert any(e.type == "StatusChange" and order.number in (e.text or "") for e in events)


def test_transfer_of_a_chosen_kind_repair_needs_its_kind(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s, pytest.raises(UsageError, match="repair kind"):
        transfer(s, actor=admin, ref=inc, kind="repair")
    assert status_of(db, inc) != "transferred"
    with db.session() as s:
        result = transfer(s, actor=admin, ref=inc, kind="repair", repair_kind="loan")
    assert (result.work_orders[0].kind, result.work_orders[0].repair_kind) == ("repair", "loan")


def test_billable_order_carries_the_erp_reference(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s, pytest.raises(UsageError, match="cross-reference"):
        transfer(s, actor=admin, ref=inc, billable=True)
    with db.session() as s:
        result = transfer(
            s, actor=admin, ref=inc, billable=True, xref="SRO-123", destination="field"
        )
    order = result.work_orders[0]
    assert (order.billable, order.cross_reference, order.destination_type) == (
        True,
        "SRO-123",
        "field",
    )


def test_subcontract_order_names_the_subcontractor_of_the_units_agreement(db, admin, world):
    plain = action(db, admin, world["globex"])
    with db.session() as s, pytest.raises(RuleViolation, match="no subcontract"):
        transfer(s, actor=admin, ref=plain, to_subcontractor=True)
    covered = action(db, admin, world["acme"], serial="SN-ACME-1")
    with db.session(write=False) as s:
        offer = transfer_offer(s, covered)
    assert offer.template == "WO-PRN"
    assert offer.subcontract and offer.subcontract["subcontractor"] == "PrintFix BV"
    with db.session() as s:
        result = transfer(s, actor=admin, ref=covered, to_subcontractor=True)
    order = result.work_orders[0]
    assert order.kind == "subcontract"
    assert order.subcontract == {"code": "SUB-PRN", "subcontractor": "PrintFix BV"}


def test_only_action_requests_in_work_can_be_transferred(db, admin, world):
    info = f.register(
        db,
        admin,
        world["acme"],
        request_type="information",
        question="Hours?",
        answer="9-5",
        problem_code=None,
    )
    with db.session() as s, pytest.raises(RuleViolation, match="action requests"):
        transfer(s, actor=admin, ref=info)
    with db.session() as s, pytest.raises(NotFound):
        transfer(s, actor=admin, ref="INC-999999")


def test_further_orders_for_a_transferred_incident_all_must_finish(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        first = transfer(s, actor=admin, ref=inc).work_orders[0].number
    with db.session() as s:
        second = transfer(s, actor=admin, ref=inc, kind="service").work_orders[0].number
    complete(db, admin, first)
    assert status_of(db, inc) == "transferred"
    result = complete(db, admin, second, solution="cleaned the rollers")
    assert result.incidents == [{"number": inc, "status": "closed"}]
    with db.session(write=False) as s:
        d = incident_detail(s, inc)
    assert d.status == "closed"
    assert d.resolution["solution"] == "cleaned the rollers"


def test_completing_a_shared_order_solves_and_closes_every_incident(db, admin, world):
    first = action(db, admin, world["acme"])
    others = [action(db, admin, world["globex"]) for _ in range(3)]
    with db.session() as s:
        wo = transfer(s, actor=admin, ref=first).work_orders[0].number
    for inc in others:
        with db.session() as s:
            assert link(s, actor=admin, ref=inc, wo=wo).incident["status"] == "transferred"
    result = complete(db, admin, wo)
    assert sorted(i["number"] for i in result.incidents) == sorted([first, *others])
    for inc in [first, *others]:
        with db.session(write=False) as s:
            d = incident_detail(s, inc)
        assert d.status == "closed"
        assert d.resolution["problem"] == "worn roller"
        assert d.resolution["solution"] == "replaced the pickup roller"
        steps = [
            (e.data["from"], e.data["to"], e.text) for e in d.events if e.type == "StatusChange"
        ]
        assert steps[-2][:2] == ("transferred", "solved") and wo in steps[-2][2]
        assert "replaced the pickup roller" in steps[-2][2]
        assert steps[-1][:2] == ("solved", "closed") and wo in steps[-1][2]


def test_all_orders_cancelled_sends_the_incident_back_to_in_process(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        wo = transfer(s, actor=admin, ref=inc).work_orders[0].number
    with db.session() as s:
        result = set_status(s, actor=admin, wo=wo, to="cancelled")
    assert result.incidents == [{"number": inc, "status": "in_process"}]
    with db.session(write=False) as s:
        events = incident_detail(s, inc).events
    assert "cancelled" in (events[-1].text or "") and wo in (events[-1].text or "")


def test_reopening_an_order_reopens_the_incidents_it_closed_not_others(db, admin, world):
    inc = action(db, admin, world["acme"])
    by_coordinator = action(db, admin, world["globex"])
    with db.session() as s:
        wo = transfer(s, actor=admin, ref=inc).work_orders[0].number
    with db.session() as s:
        link(s, actor=admin, ref=by_coordinator, wo=wo)
    from cc_tui.services.incidents.lifecycle import change_status

    with db.session() as s:
        change_status(s, actor=admin, ref=by_coordinator, to="closed", coordinator=True)
    complete(db, admin, wo)
    assert status_of(db, inc) == "closed"
    with db.session() as s:
        result = set_status(s, actor=admin, wo=wo, to="open")
    assert result.incidents == [{"number": inc, "status": "transferred"}]
    assert status_of(db, by_coordinator) == "closed"
    with db.session(write=False) as s:
        flags = s.scalars(select(IncidentWorkOrder.closed_incident)).all()
    assert not any(flags)


def test_order_lifecycle_rules(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        wo = transfer(s, actor=admin, ref=inc).work_orders[0].number
    with db.session() as s, pytest.raises(RuleViolation, match="actual problem"):
        set_status(s, actor=admin, wo=wo, to="completed", solution="done")
    with db.session() as s:
        started = set_status(s, actor=admin, wo=wo, to="in_progress").work_order
    assert started.assignee == "admin" and started.started_at is not None
    with db.session() as s, pytest.raises(RuleViolation, match="in_progress already"):
        set_status(s, actor=admin, wo=wo, to="in_progress")
    with db.session() as s, pytest.raises(UsageError):
        set_status(s, actor=admin, wo=wo, to="done")
    complete(db, admin, wo)
    with db.session() as s, pytest.raises(RuleViolation, match="allowed: open"):
        set_status(s, actor=admin, wo=wo, to="cancelled")
    with db.session() as s, pytest.raises(RuleViolation, match="only open orders"):
        link(s, actor=admin, ref=action(db, admin, world["acme"]), wo=wo)
    with db.session(write=False) as s:
        shown = show_order(s, wo)
    assert shown.resolution == "FIX/REPLACED"
    assert [e.action for e in shown.events] == ["created", "status", "status", "incidents"]


def test_candidates_same_problem_by_unit_customer_or_region_newest_first(db, admin, world):
    older = action(db, admin, world["globex"])
    newer = action(db, admin, world["acme"])
    with db.session() as s:
        wo_old = transfer(s, actor=admin, ref=older).work_orders[0].number
    with db.session() as s:
        wo_new = transfer(s, actor=admin, ref=newer).work_orders[0].number
    caller = action(db, admin, world["acme"])
    with db.session(write=False) as s:
        found = candidates(s, caller)
    assert [(c.number, c.match) for c in found] == [(wo_new, "customer"), (wo_old, "region")]
    with db.session() as s:
        link(s, actor=admin, ref=caller, wo=wo_new)
    with db.session(write=False) as s:
        assert [c.number for c in candidates(s, caller)] == [wo_old]
        assert [r.number for r in list_orders(s, incident=caller)] == [wo_new]
        assert [r.number for r in list_orders(s, department="FIELD")] == [wo_new, wo_old]
        assert list_orders(s, status="completed") == []


def test_status_changes_only_through_the_lifecycle_owner():
    """No work-order code assigns an incident's status: the lifecycle module does."""
    import inspect
    import re

    from cc_tui.services.workorders import orders, templates

    for module in (orders, templates):
        source = inspect.getsource(module)
        assert not re.search(r"\bincident\.status\s*=[^=]", source), module.__name__
        assert not re.search(r"Incident\.status\s*:", source)
        assert "values(status" not in source


# --------------------------------------------------------------------------- the command line


def test_cli_work_order_contract(cli, db, admin, world):
    inc = action(db, admin, world["acme"])
    other = action(db, admin, world["globex"])
    r = cli(
        "wo", "template", "add", "WO-LOAN", "--kind", "repair", "--repair-kind", "loan",
        "--title", "Loan device", "--task", "Ship", "--task", "Collect", "--hours", "0.5",
        "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tasks"] == ["Ship", "Collect"]
    assert cli("wo", "template", "add", "WO-X", "--kind", "repair", "--title", "X").exit_code == 2
    codes = [t["code"] for t in json.loads(cli("wo", "template", "list", "--json").stdout)]
    assert codes == ["WO-LOAN", "WO-PRN"]

    r = cli("incident", "transfer", inc, "--billable", "--xref", "SRO-123", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["incident"] == {"number": inc, "status": "transferred"}
    wo = data["work_orders"][0]["number"]
    assert wo.startswith("WO-") and data["work_orders"][0]["cross_reference"] == "SRO-123"

    r = cli("wo", "candidates", other, "--json")
    assert [c["number"] for c in json.loads(r.stdout)] == [wo]
    r = cli("incident", "link-wo", other, wo, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["incident"] == {"number": other, "status": "transferred"}
    assert cli("incident", "link-wo", other, wo).exit_code == 1

    shown = json.loads(cli("wo", "show", wo, "--json").stdout)
    assert {k: shown[k] for k in ("number", "kind", "repair_kind", "status")} == {
        "number": wo,
        "kind": "service",
        "repair_kind": None,
        "status": "open",
    }
    assert shown["incidents"] == sorted([inc, other], key=lambda n: int(n[4:]))
    listed = json.loads(cli("wo", "list", "--status", "open", "--json").stdout)
    assert [row["number"] for row in listed] == [wo] and listed[0]["incidents"] == 2
    assert json.loads(cli("wo", "list", "--incident", other, "--json").stdout)[0]["number"] == wo

    assert cli("wo", "status", wo, "completed", "--solution", "x").exit_code == 1
    assert cli("wo", "status", wo, "finished").exit_code == 2
    assert cli("wo", "show", "WO-99999").exit_code == 3
    assert cli("wo", "status", wo, "in_progress", "--version", "1").exit_code == 4
    r = cli(
        "wo", "status", wo, "completed", "--problem", "roller", "--solution", "replaced",
        "--resolution", "FIX/REPLACED", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    done = json.loads(r.stdout)
    assert done["work_order"]["status"] == "completed"
    assert {i["number"] for i in done["incidents"]} == {inc, other}
    with db.session(write=False) as s:
        statuses = s.scalars(select(Incident.status).where(Incident.status == "closed")).all()
        texts = s.scalars(select(Event.text).where(Event.text.like(f"%{wo} completed%"))).all()
    assert len(statuses) == 2 and len(texts) == 2
    r = cli("wo", "status", wo, "open", "--json")
    assert {i["status"] for i in json.loads(r.stdout)["incidents"]} == {"transferred"}


def test_the_list_filter_finds_a_technicians_orders(db, admin, world):
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        order = transfer(s, actor=admin, ref=inc).work_orders[0]
        tech = f.agent(s, "stefan.braun")
        s.get(WorkOrder, int(order.number.removeprefix("WO-"))).assignee_id = tech.id
    with db.session() as s:
        by_login = list_orders(s, text="stefan")
        by_name = list_orders(s, text="Braun")  # the name is "Stefan.Braun"
        nobody = list_orders(s, text="olga")
    assert [r.number for r in by_login] == [order.number] == [r.number for r in by_name]
    assert nobody == []
