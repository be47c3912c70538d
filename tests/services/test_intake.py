"""Call intake: contacts recorded at once, callers identified, rules by request type."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Event, Incident
from cc_tui.services.incidents.intake import (
    IntakeForm,
    abandon_call,
    abandon_contact,
    add_call_to_incident,
    add_to_existing,
    existing_incidents,
    open_contact,
    save_call,
    save_intake,
)
from cc_tui.services.incidents.records import incident_detail
from tests import factories as f


@pytest.fixture
def world(db, admin):
    with db.session() as s:
        f.codes(s, admin)
        p3 = f.priority(s, "P3", rank=3, default=True)
        p1 = f.priority(s, "P1", rank=1)
        acme = f.customer(s, "Acme Drücker AG", phone="+49 30 1234567", email="desk@acme.example")
        blocked = f.customer(s, "Schuldner KG", block="block", reason="unpaid invoices")
        warned = f.customer(s, "Vorsicht OHG", block="warn", reason="calls often, be brief")
        anna = f.contact(s, acme, "Anna Nowak", phone="0171 5550001")
        sc = f.contract(s, acme, "SC-ACME", priority_id=p1.id)
        f.unit(s, acme, "SN-100", warranty_until=date.today() + timedelta(days=30), contract=sc)
        f.unit(s, acme, "SN-OLD", warranty_until=date.today() - timedelta(days=1))
        return {
            "acme": acme.id,
            "blocked": blocked.id,
            "warned": warned.id,
            "anna": anna.id,
            "p3": p3.id,
            "p1": p1.id,
        }


def action(**kw) -> IntakeForm:
    base = {"request_type": "action", "title": "Printer jams", "reason": "HW/PRINT"}
    base.update(kw)
    return IntakeForm(**base)


def test_contact_exists_before_anything_is_typed_and_abandon_keeps_it(db, admin):
    with db.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="comment")
    with db.session() as s:
        assert s.get(Incident, draft.id).status == "draft"
        result = abandon_contact(s, actor=admin, contact_id=draft.id)
    assert result.status == "abandoned"
    with db.session() as s:
        inc = s.get(Incident, draft.id)
        assert inc.contact_ended_at is not None and inc.channel == "phone"
        texts = [e.text for e in s.exec(select(Event).where(Event.incident_id == draft.id))]
    assert any("abandoned" in (t or "") for t in texts)


@pytest.mark.parametrize("typed", ["+49 30 1234567", "030/1234567", "0049301234567"])
def test_phone_forms_find_the_same_customer(db, admin, world, typed):
    with db.session() as s:
        result = save_call(s, actor=admin, channel="phone", form=action(caller_phone=typed))
        detail = incident_detail(s, result.id)
    assert detail.customer["id"] == world["acme"]
    assert detail.status == "registered"


def test_contact_phone_identifies_customer_and_contact(db, admin, world):
    with db.session() as s:
        r = save_call(s, actor=admin, channel="phone", form=action(caller_phone="+491715550001"))
        d = incident_detail(s, r.id)
    assert d.customer["id"] == world["acme"] and d.contact["id"] == world["anna"]


def test_unit_attaches_warranty_and_contract_priority(db, admin, world):
    with db.session() as s:
        r = save_call(s, actor=admin, channel="phone", form=action(serial="SN-100"))
        d = incident_detail(s, r.id)
    assert d.customer["id"] == world["acme"]
    assert d.unit["under_warranty"] is True and d.unit["contract"]["code"] == "SC-ACME"
    assert d.priority == "P1"  # the contract's override beats the system default


def test_expired_warranty_and_system_default_priority(db, admin, world):
    with db.session() as s:
        r = save_call(s, actor=admin, channel="phone", form=action(serial="SN-OLD"))
        d = incident_detail(s, r.id)
    assert d.unit["under_warranty"] is False and d.priority == "P3"


def test_unit_of_another_customer_is_refused(db, admin, world):
    with db.session() as s, pytest.raises(RuleViolation, match="another customer"):
        save_call(
            s,
            actor=admin,
            channel="phone",
            form=action(customer_id=world["warned"], serial="SN-100"),
        )


def test_blocked_customer_refuses_action_but_records_comment(db, admin, world):
    with db.session() as s, pytest.raises(RuleViolation, match="unpaid invoices"):
        save_call(s, actor=admin, channel="phone", form=action(customer_id=world["blocked"]))
    with db.session() as s:
        r = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="comment", customer_id=world["blocked"], description="Thanks anyway"
            ),
        )
    assert r.status == "closed"
    assert any("blocked" in w for w in r.warnings)


def test_refused_save_leaves_the_draft_untouched(db, admin, world):
    with db.session() as s:
        draft = open_contact(s, actor=admin, channel="phone")
    with db.session() as s, pytest.raises(RuleViolation):
        save_intake(s, actor=admin, contact_id=draft.id, form=action(customer_id=world["blocked"]))
    with db.session() as s:
        inc = s.get(Incident, draft.id)
        assert inc.status == "draft" and inc.customer_id is None
        # The same draft can still be saved once the agent corrects the form.
        r = save_intake(s, actor=admin, contact_id=draft.id, form=action(customer_id=world["acme"]))
    assert r.status == "registered"


def test_warned_customer_gives_a_warning(db, admin, world):
    with db.session() as s:
        r = save_call(s, actor=admin, channel="email", form=action(customer_id=world["warned"]))
    assert r.warnings == ["customer warning: calls often, be brief"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (IntakeForm(request_type="action", reason="HW"), "title"),
        (IntakeForm(request_type="action", title="x"), "reason"),
        (IntakeForm(request_type="information", question="Opening hours?"), "answer"),
        (IntakeForm(request_type="information", answer="9-5"), "question"),
        (IntakeForm(request_type="comment"), "description"),
    ],
)
def test_request_type_decides_what_is_required(db, admin, world, form, field):
    with db.session() as s, pytest.raises(UsageError) as err:
        save_call(s, actor=admin, channel="phone", form=form)
    assert err.value.field == field


def test_information_request_is_closed_with_its_answer(db, admin, world):
    with db.session() as s:
        r = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="information", question="When are you open?", answer="Mon-Fri 8-17"
            ),
        )
        d = incident_detail(s, r.id)
    assert d.status == "closed" and d.answer == "Mon-Fri 8-17" and d.customer_accepted is True


def test_specific_reason_must_belong_to_general(db, admin, world):
    with db.session() as s, pytest.raises(NotFound, match="not a specific reason code under SW"):
        save_call(s, actor=admin, channel="phone", form=action(reason="SW/DISK"))


def test_problem_code_sets_department(db, admin, world):
    with db.session() as s:
        r = save_call(s, actor=admin, channel="phone", form=action(problem_code="PICKUP"))
        d = incident_detail(s, r.id)
    assert d.problem_code == "FIELD/PRINTERS/LASER/PICKUP" and d.department == "FIELD"


def test_existing_incidents_first_and_add_call_to_one(db, admin, world):
    with db.session() as s:
        first = save_call(s, actor=admin, channel="phone", form=action(customer_id=world["acme"]))
        save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="comment", customer_id=world["acme"], description="closed at once"
            ),
        )
    with db.session() as s:
        rows = existing_incidents(s, customer_id=world["acme"])
        assert [r.number for r in rows] == [first.number]
        draft = open_contact(s, actor=admin, channel="phone")
        add_to_existing(
            s, actor=admin, target_ref=first.number, text="Still jamming", contact_id=draft.id
        )
    with db.session() as s:
        d = incident_detail(s, first.id)
        linked = s.get(Incident, draft.id)
    assert d.events[-1].type == "CallIn" and d.events[-1].text == "Still jamming"
    assert linked.status == "closed" and linked.duplicate_of_id == first.id


def test_a_call_added_to_an_incident_is_a_contact_not_a_listed_incident(db, admin, world):
    from datetime import UTC, datetime

    from cc_tui.services.incidents.records import list_incidents
    from cc_tui.services.reports.figures import volume

    with db.session() as s:
        first = save_call(s, actor=admin, channel="phone", form=action(customer_id=world["acme"]))
        added = add_call_to_incident(
            s, actor=admin, target_ref=first.id, text="Still jamming", channel="phone"
        )
        assert added.id == first.id
    with db.session(write=False) as s:
        linked = s.scalars(select(Incident).where(Incident.duplicate_of_id == first.id)).one()
        listed = [row.id for row in list_incidents(s)]
        assert listed == [first.id]  # the call's contact is no incident of its own
        today = datetime.now(UTC).date().isoformat()
        tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
        counted = volume(s, first=today, end=tomorrow, zone=UTC)
        assert counted.extra["total"] == 2  # still two contacts in the volume
        assert linked.id != first.id and linked.status == "closed"


def test_script_call_keeps_the_callers_details_on_its_contact(db, admin, world):
    with db.session() as s:
        result = save_call(
            s,
            actor=admin,
            channel="phone",
            form=action(caller_phone="030 1234567", caller_name="Herr Sommer"),
        )
    with db.session(write=False) as s:
        row = s.get(Incident, result.id)
        contact_event = s.scalars(
            select(Event).where(Event.incident_id == result.id).order_by(Event.id)
        ).first()
    assert row.customer_id == world["acme"]  # found by the number
    assert (row.caller_name, row.caller_phone_e164) == ("Herr Sommer", "+49301234567")
    assert "contact started" in contact_event.text


def test_abandoned_call_keeps_the_caller_and_why(db, admin, world):
    from cc_tui.services.incidents.intake import CallerSeen

    with db.session() as s:
        result = abandon_call(
            s,
            actor=admin,
            contact_id=None,
            channel="phone",
            caller=CallerSeen(customer_id=world["blocked"], phone="040 555 1234"),
            note="Schuldner KG is blocked: unpaid invoices",
        )
    with db.session(write=False) as s:
        row = s.get(Incident, result.id)
        texts = [e.text for e in s.scalars(select(Event).where(Event.incident_id == row.id))]
    assert row.status == "abandoned"
    assert (row.customer_id, row.caller_phone_e164) == (world["blocked"], "+49405551234")
    assert any("unpaid invoices" in (t or "") for t in texts)


def test_call_actions_record_the_contact_when_none_is_recorded_yet(db, admin, world):
    with db.session() as s:
        target = save_call(s, actor=admin, channel="phone", form=action(customer_id=world["acme"]))
        saved = save_call(
            s,
            actor=admin,
            contact_id=None,
            channel="email",
            form=action(customer_id=world["acme"], title="Paper tray"),
        )
        added = add_call_to_incident(
            s,
            actor=admin,
            target_ref=target.number,
            text="Called again",
            channel="fax",
            caller_contact_id=world["anna"],
        )
        ended = abandon_call(s, actor=admin, contact_id=None, channel="web", request_type="comment")
    assert saved.status == "registered" and added.id == target.id
    assert ended.status == "abandoned"
    with db.session() as s:
        new = s.get(Incident, saved.id)
        assert (new.channel, new.title) == ("email", "Paper tray")
        linked = s.exec(select(Incident).where(Incident.duplicate_of_id == target.id)).one()
        assert (linked.channel, linked.status) == ("fax", "closed")
        abandoned = s.get(Incident, ended.id)
        assert (abandoned.channel, abandoned.request_type) == ("web", "comment")
        d = incident_detail(s, target.id)
    # The event type follows the call's channel: a fax is a note.
    assert d.events[-1].type == "Note" and d.events[-1].text == "Called again"


def test_call_actions_use_the_contact_already_recorded(db, admin, world):
    with db.session() as s:
        target = save_call(s, actor=admin, channel="phone", form=action(customer_id=world["acme"]))
        first = open_contact(s, actor=admin, channel="phone")
        second = open_contact(s, actor=admin, channel="email")
        third = open_contact(s, actor=admin, channel="web")
        saved = save_call(
            s,
            actor=admin,
            contact_id=first.id,
            channel="fax",
            form=action(customer_id=world["acme"]),
        )
        add_call_to_incident(
            s, actor=admin, target_ref=target.id, text="Again", channel="fax", contact_id=second.id
        )
        ended = abandon_call(s, actor=admin, contact_id=third.id, channel="fax")
    assert (saved.id, ended.id) == (first.id, third.id)
    with db.session() as s:
        assert s.get(Incident, first.id).channel == "phone"
        assert s.get(Incident, second.id).duplicate_of_id == target.id
        assert s.get(Incident, third.id).status == "abandoned"
        assert incident_detail(s, target.id).events[-1].type == "EmailIn"


def test_adding_a_call_without_words_records_nothing(db, admin, world):
    with db.session() as s:
        target = save_call(s, actor=admin, channel="phone", form=action(customer_id=world["acme"]))
    with db.session() as s, pytest.raises(UsageError, match="what the caller said"):
        add_call_to_incident(s, actor=admin, target_ref=target.id, text="  ", channel="phone")
    with db.session() as s:
        assert s.exec(select(Incident).where(Incident.status == "draft")).all() == []


def test_kb_search_policy_refuses_save_without_search(db, admin, world):
    with db.session() as s, pytest.raises(RuleViolation, match="knowledge base"):
        save_call(s, actor=admin, channel="phone", form=action(), kb_search_required=True)
    with db.session() as s:
        r = save_call(
            s,
            actor=admin,
            channel="phone",
            kb_search_required=True,
            form=IntakeForm(request_type="comment", description="nice staff"),
        )
    assert r.status == "closed"


def test_malformed_phone_is_a_clear_usage_error(db, admin, world):
    with db.session() as s, pytest.raises(UsageError, match="phone"):
        save_call(s, actor=admin, channel="phone", form=action(caller_phone="12ab"))


def test_hostile_text_is_stored_verbatim(db, admin, world):
    hostile = "[@click=app.quit]x[/] '; DROP TABLE incident; --"
    with db.session() as s:
        r = save_call(s, actor=admin, channel="web", form=action(title=hostile))
        assert incident_detail(s, r.id).title == hostile


def test_cli_open_show_and_refusals(cli, world):
    result = cli(
        "incident",
        "open",
        "--channel",
        "phone",
        "--type",
        "action",
        "--phone",
        "030/1234567",
        "--title",
        "Toner empty",
        "--reason",
        "HW/PRINT",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["number"].startswith("INC-") and data["status"] == "registered"
    assert data["customer"]["id"] == world["acme"] and data["reason"] == {
        "general": "HW",
        "specific": "PRINT",
    }
    shown = json.loads(cli("incident", "show", data["number"], "--json").stdout)
    for key in (
        "number",
        "status",
        "type",
        "channel",
        "title",
        "customer",
        "unit",
        "reason",
        "priority",
        "owner",
        "department",
        "resolution",
        "events",
    ):
        assert key in shown
    assert {"at", "type", "author", "text"} <= set(shown["events"][0])

    refused = cli(
        "incident",
        "open",
        "--channel",
        "phone",
        "--type",
        "action",
        "--customer",
        str(world["blocked"]),
        "--title",
        "x",
        "--reason",
        "HW",
    )
    assert refused.exit_code == 1 and "unpaid invoices" in refused.stderr
    bad = cli("incident", "open", "--channel", "pigeon", "--type", "action")
    assert bad.exit_code == 2 and "unknown channel" in bad.stderr
    missing = cli("incident", "show", "INC-99999")
    assert missing.exit_code == 3


def test_cli_add_call_to_an_open_incident(cli, db, world):
    opened = json.loads(
        cli(
            "incident",
            "open",
            "--channel",
            "phone",
            "--type",
            "action",
            "--customer",
            str(world["acme"]),
            "--title",
            "Toner empty",
            "--reason",
            "HW/PRINT",
            "--json",
        ).stdout
    )
    result = cli(
        "incident",
        "add-call",
        opened["number"],
        "--text",
        "Still empty",
        "--channel",
        "email",
        "--email",
        "desk@acme.example",
        "--contact",
        str(world["anna"]),
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["number"], data["status"]) == (opened["number"], "registered")
    assert data["warnings"][0].startswith("event ")
    with db.session() as s:
        linked = s.exec(select(Incident).where(Incident.duplicate_of_id == opened["id"])).one()
        assert (linked.channel, linked.status) == ("email", "closed")
        assert linked.caller_email == "desk@acme.example"
        last = incident_detail(s, opened["id"]).events[-1]
    assert (last.type, last.text) == ("EmailIn", "Still empty")

    # The contact recorded when the call started (`incident contact`) is the one linked.
    started = json.loads(cli("incident", "contact", "--channel", "cti", "--json").stdout)
    human = cli(
        "incident", "add-call", opened["number"], "--text", "Again", "--call", started["number"]
    )
    assert (
        human.exit_code == 0
        and human.stdout.strip() == f"call added to {opened['number']} (registered)"
    )
    with db.session() as s:
        assert s.get(Incident, started["id"]).duplicate_of_id == opened["id"]

    assert cli("incident", "add-call", opened["number"], "--text", " ").exit_code == 2
    assert cli("incident", "add-call", "INC-99999", "--text", "x").exit_code == 3
    closed = json.loads(
        cli(
            "incident",
            "open",
            "--channel",
            "web",
            "--type",
            "comment",
            "--customer",
            str(world["acme"]),
            "--description",
            "Thanks",
            "--json",
        ).stdout
    )
    refused = cli("incident", "add-call", closed["number"], "--text", "x")
    assert refused.exit_code == 1 and "open a new incident instead" in refused.stderr
