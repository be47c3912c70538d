"""Units, warranty, service contracts and subcontract agreements (M3)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.services.context import resolve_actor
from cc_tui.services.directory.agents import add_agent
from cc_tui.services.directory.customers import add_customer
from cc_tui.services.directory.units import (
    add_contract,
    add_subcontract,
    add_unit,
    list_contracts,
    parse_day,
    unit_by_serial,
    unit_info,
    units_of_customer,
)
from cc_tui.services.sla.priorities import add_priority

TODAY = date.today()
JAN = date(2026, 1, 1)


@pytest.fixture
def owners(db, admin):
    with db.session() as s:
        acme = add_customer(s, actor=admin, name="Acme AG")
        beta = add_customer(s, actor=admin, name="Beta BV")
        return {"acme": acme.id, "beta": beta.id}


def test_warranty_as_of_today_or_a_given_day(db, admin, owners):
    with db.session() as s:
        fresh = add_unit(
            s,
            actor=admin,
            serial="sn-1",
            item="LJ-4000",
            customer_id=owners["acme"],
            unit_type="printer",
            warranty_until=TODAY + timedelta(days=10),
        )
        add_unit(
            s,
            actor=admin,
            serial="SN-2",
            item="LJ-4000",
            customer_id=owners["acme"],
            warranty_until=TODAY - timedelta(days=1),
        )
        add_unit(s, actor=admin, serial="SN-3", item="X", customer_id=owners["acme"])
    assert fresh.serial == "SN-1"  # serials are stored upper-case
    assert fresh.customer_name == "Acme AG" and fresh.unit_type == "printer"
    with db.session(write=False) as s:
        assert unit_by_serial(s, "sn-1").under_warranty is True
        assert unit_by_serial(s, "SN-1", on=TODAY + timedelta(days=10)).under_warranty is True
        assert unit_by_serial(s, "SN-1", on=TODAY + timedelta(days=11)).under_warranty is False
        assert unit_by_serial(s, "SN-2").under_warranty is False
        assert unit_by_serial(s, "SN-3").warranty_until is None
        assert unit_by_serial(s, "SN-3").under_warranty is False
        assert unit_info(s, fresh.id).serial == "SN-1"
        assert [u.serial for u in units_of_customer(s, owners["acme"])] == [
            "SN-1",
            "SN-2",
            "SN-3",
        ]
        with pytest.raises(NotFound):
            unit_by_serial(s, "SN-404")
        with pytest.raises(NotFound):
            unit_info(s, 999)


def test_unit_rules(db, admin, owners):
    with db.session() as s:
        add_unit(s, actor=admin, serial="SN-1", item="X", customer_id=owners["acme"])
    with pytest.raises(RuleViolation, match="registered already"), db.session() as s:
        add_unit(s, actor=admin, serial="sn-1", item="X", customer_id=owners["beta"])
    with pytest.raises(UsageError, match="serial"), db.session() as s:
        add_unit(s, actor=admin, serial="SN 1", item="X", customer_id=owners["acme"])
    with pytest.raises(UsageError, match="item"), db.session() as s:
        add_unit(s, actor=admin, serial="SN-9", item=" ", customer_id=owners["acme"])
    with pytest.raises(NotFound), db.session() as s:
        add_unit(s, actor=admin, serial="SN-9", item="X", customer_id=999)


def test_contract_coverage_dates_and_priority(db, admin, owners):
    with db.session() as s:
        add_priority(s, actor=admin, code="p1", name="Urgent", rank=1)
        contract = add_contract(
            s,
            actor=admin,
            code="sc-acme",
            customer_id=owners["acme"],
            starts_on=JAN,
            ends_on=date(2026, 12, 31),
            coverage="parts and labour, next business day",
            priority="P1",
            response_minutes=240,
        )
        add_unit(
            s,
            actor=admin,
            serial="SN-1",
            item="X",
            customer_id=owners["acme"],
            contract="SC-ACME",
        )
    assert (contract.code, contract.priority, contract.response_minutes) == ("SC-ACME", "P1", 240)
    with db.session(write=False) as s:
        inside = unit_by_serial(s, "SN-1", on=date(2026, 6, 1)).contract
        before = unit_by_serial(s, "SN-1", on=date(2025, 12, 31)).contract
        after = unit_by_serial(s, "SN-1", on=date(2027, 1, 1)).contract
        listed = list_contracts(s, customer_id=owners["acme"], on=date(2026, 6, 1))
    assert inside.code == "SC-ACME" and inside.active_now is True
    assert inside.coverage.startswith("parts and labour")
    assert before.active_now is False and after.active_now is False
    assert [(c.code, c.active_now) for c in listed] == [("SC-ACME", True)]


def test_contract_rules(db, admin, owners):
    with db.session() as s:
        add_contract(s, actor=admin, code="SC-B", customer_id=owners["beta"], starts_on=JAN)
    with pytest.raises(RuleViolation, match="another customer"), db.session() as s:
        add_unit(
            s, actor=admin, serial="SN-1", item="X", customer_id=owners["acme"], contract="SC-B"
        )
    with pytest.raises(NotFound), db.session() as s:
        add_unit(
            s, actor=admin, serial="SN-1", item="X", customer_id=owners["acme"], contract="NOPE"
        )
    with pytest.raises(RuleViolation, match="exists already"), db.session() as s:
        add_contract(s, actor=admin, code="sc-b", customer_id=owners["beta"], starts_on=JAN)
    with pytest.raises(UsageError, match="before it starts"), db.session() as s:
        add_contract(
            s,
            actor=admin,
            code="SC-C",
            customer_id=owners["beta"],
            starts_on=JAN,
            ends_on=date(2025, 1, 1),
        )
    with pytest.raises(NotFound, match="valid: none"), db.session() as s:
        add_contract(
            s, actor=admin, code="SC-D", customer_id=owners["beta"], starts_on=JAN, priority="P9"
        )


def test_subcontract_most_specific_active_agreement_wins(db, admin, owners):
    with db.session() as s:
        for serial, item, unit_type, owner in (
            ("P-1", "LJ-4000", "printer", "acme"),
            ("P-2", "LJ-9000", "printer", "beta"),
            ("C-1", "COPY-1", "copier", "beta"),
            ("S-1", "SRV-1", "server", "acme"),
        ):
            add_unit(
                s,
                actor=admin,
                serial=serial,
                item=item,
                customer_id=owners[owner],
                unit_type=unit_type,
            )
        add_subcontract(
            s,
            actor=admin,
            code="ALL-PRINTERS",
            subcontractor="PrintFix BV",
            starts_on=JAN,
            unit_type="printer",
            phone="+31 20 555 0000",
        )
        add_subcontract(
            s,
            actor=admin,
            code="ACME-LJ4000",
            subcontractor="Laser Service GmbH",
            starts_on=JAN,
            customer_id=owners["acme"],
            item="LJ-4000",
            transfer_allowed=False,
        )
        add_subcontract(
            s,
            actor=admin,
            code="ANY-OLD",
            subcontractor="Expired Inc",
            starts_on=date(2020, 1, 1),
            ends_on=date(2020, 12, 31),
        )
        add_subcontract(
            s,
            actor=admin,
            code="BETA-ALL",
            subcontractor="Beta Care",
            starts_on=JAN,
            customer_id=owners["beta"],
        )
    day = date(2026, 3, 1)
    with db.session(write=False) as s:

        def sub(serial):
            info = unit_by_serial(s, serial, on=day).subcontract
            return info.code if info else None

        assert sub("P-1") == "ACME-LJ4000"  # customer + item beats unit type
        assert sub("P-2") == "BETA-ALL"  # one scope field each: the newer agreement
        assert sub("C-1") == "BETA-ALL"
        assert sub("S-1") is None  # the any-unit agreement has expired
        acme = unit_by_serial(s, "P-1", on=day).subcontract
        assert (acme.subcontractor, acme.transfer_allowed) == ("Laser Service GmbH", False)
        old = unit_by_serial(s, "S-1", on=date(2020, 6, 1)).subcontract
        assert old is not None and old.code == "ANY-OLD"
        assert unit_by_serial(s, "P-1", on=date(2025, 6, 1)).subcontract is None


def test_contracts_and_subcontracts_are_admin_only_units_are_not(db, admin, owners):
    with db.session() as s:
        add_agent(s, actor=admin, login="bob", name="Bob", role="supervisor")
        bob = resolve_actor(s, "bob")
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_contract(s, actor=bob, code="SC-X", customer_id=owners["acme"], starts_on=JAN)
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_subcontract(s, actor=bob, code="SUB-X", subcontractor="X", starts_on=JAN)
    with db.session() as s:
        unit = add_unit(s, actor=bob, serial="SN-B", item="X", customer_id=owners["acme"])
    assert unit.serial == "SN-B"


def test_parse_day():
    assert parse_day(" 2026-02-28 ", "on") == date(2026, 2, 28)
    assert parse_day("", "on") is None
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        parse_day("28.02.2026", "warranty_until")


# ---------------------------------------------------------------------------- CLI


def test_cli_unit_contract_subcontract_json(cli):
    assert cli("customer", "add", "--name", "Acme AG", "--json").exit_code == 0
    assert cli("priority", "add", "P1", "--name", "Urgent", "--rank", "1").exit_code == 0
    contract = cli(
        "contract",
        "add",
        "SC-1",
        "--customer",
        "K-100001",
        "--starts",
        "2026-01-01",
        "--ends",
        "2099-12-31",
        "--coverage",
        "parts and labour",
        "--priority",
        "P1",
        "--json",
    )
    assert contract.exit_code == 0, contract.output
    assert json.loads(contract.stdout)["priority"] == "P1"
    until = (TODAY + timedelta(days=30)).isoformat()
    added = cli(
        "unit",
        "add",
        "--serial",
        "SN-100",
        "--item",
        "LJ-4000",
        "--customer",
        "1",
        "--unit-type",
        "printer",
        "--warranty-until",
        until,
        "--contract",
        "SC-1",
        "--json",
    )
    assert added.exit_code == 0, added.output
    sub = cli(
        "contract",
        "subcontract-add",
        "SUB-1",
        "--subcontractor",
        "PrintFix BV",
        "--starts",
        "2026-01-01",
        "--unit-type",
        "printer",
        "--no-transfer",
        "--json",
    )
    assert sub.exit_code == 0, sub.output
    assert json.loads(sub.stdout)["transfer_allowed"] is False
    shown = cli("unit", "show", "sn-100", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["serial"] == "SN-100" and data["item"] == "LJ-4000"
    assert data["under_warranty"] is True and data["warranty_until"] == until
    assert data["contract"]["code"] == "SC-1" and data["contract"]["active_now"] is True
    assert data["subcontract"]["code"] == "SUB-1"
    assert "under warranty" in cli("unit", "show", "SN-100").stdout
    listed = json.loads(cli("unit", "list", "--customer", "1", "--json").stdout)
    assert [u["serial"] for u in listed] == ["SN-100"]
    contracts = json.loads(cli("contract", "list", "--json").stdout)
    assert [c["code"] for c in contracts] == ["SC-1"]


def test_cli_unit_exit_codes(cli):
    cli("customer", "add", "--name", "Acme AG")
    base = ["unit", "add", "--serial", "SN-1", "--item", "X", "--customer", "1"]
    assert cli(*base, "--warranty-until", "soon").exit_code == 2
    assert cli("unit", "add", "--serial", "SN-1", "--item", "X", "--customer", "7").exit_code == 3
    assert cli(*base, "--contract", "NOPE").exit_code == 3
    assert cli(*base).exit_code == 0
    duplicate = cli(*base)
    assert duplicate.exit_code == 1 and "registered already" in duplicate.stderr
    assert cli("unit", "show", "SN-404", "--json").exit_code == 3
    assert cli("unit", "show", "SN-1", "--on", "yesterday").exit_code == 2
    assert cli("contract", "add", "SC-9", "--customer", "1", "--starts", "").exit_code == 2
    assert cli("agent", "add", "bob", "--name", "Bob").exit_code == 0
    refused = cli(
        "contract", "add", "SC-9", "--customer", "1", "--starts", "2026-01-01", login="bob"
    )
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
