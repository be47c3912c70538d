"""The Intake screen driven by keys, end to end, against a real database.

Each test takes a call with F2 and works it as an agent would: type in the caller field,
pick with enter, tab through the form, save with ctrl+s or add the call to an open
incident with ctrl+o. What was recorded is read back through the services.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Static

from cc_tui.errors import Unavailable
from cc_tui.models import Department, Incident
from cc_tui.screens.intake import IntakeScreen
from cc_tui.services.context import bootstrap_admin
from cc_tui.services.directory.codes import add_code
from cc_tui.services.directory.customers import add_contact, add_customer
from cc_tui.services.directory.units import add_contract, add_unit
from cc_tui.services.incidents.records import incident_detail
from cc_tui.services.sla.priorities import add_priority
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = pytest.mark.tui

HOSTILE = "[@click=app.quit]x[/]"
OPENED = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def seed(db, actor) -> dict[str, int]:
    """A small desk: priorities, codes, customers (one warned, one blocked, one with a
    hostile name), a unit under warranty and contract, one open incident."""
    ids: dict[str, int] = {}
    with db.session() as session:
        add_priority(session, actor=actor, code="P1", name="Critical", rank=1)
        add_priority(session, actor=actor, code="P3", name="Normal", rank=3, is_default=True)
        session.add(Department(code="FIELD", name="Field service"))
        session.flush()
        for kind, path, name in (
            ("reason", "HW", "Hardware fault"),
            ("reason", "HW/PRINT", "Printer fault"),
            ("reason", "HW/DISK", "Disk fault"),
            ("reason", "SW", "Software"),
            ("request-type", "FAULT", "Fault report"),
            ("problem", "FIELD/PRINTERS/LASER/PICKUP", "Paper pick-up fails"),
        ):
            add_code(session, actor=actor, kind=kind, path=path, name=name)
        muller = add_customer(
            session,
            actor=actor,
            name="Müller GmbH",
            phone="+49 30 1234567",
            email="service@mueller.example",
            address="Hauptstraße 5",
            postal_code="10115",
            city="Berlin",
            block="warn",
            block_reason="Pays by invoice only",
        )
        ids["muller"] = muller.id
        ids["anna"] = add_contact(
            session,
            actor=actor,
            customer_id=muller.id,
            name="Anna Nowak",
            phone="+49 30 7654321",
            role="Office manager",
        ).id
        add_contract(
            session,
            actor=actor,
            code="SC-1",
            customer_id=muller.id,
            starts_on=date(2020, 1, 1),
            coverage="parts and labour",
            priority="P1",
        )
        add_unit(
            session,
            actor=actor,
            serial="SN-4711",
            item="LJ-4000",
            unit_type="printer",
            customer_id=muller.id,
            warranty_until=date(2099, 12, 31),
            contract="SC-1",
        )
        ids["blocked"] = add_customer(
            session,
            actor=actor,
            name="Blockhaus AG",
            city="Hamburg",
            block="block",
            block_reason="Unpaid invoices over 90 days",
        ).id
        ids["hostile"] = add_customer(session, actor=actor, name=HOSTILE, city="Köln").id
        existing = Incident(
            channel="phone",
            request_type="action",
            status="registered",
            title="Printer jams on every page",
            customer_id=muller.id,
            created_by_id=actor.id,
            opened_at=OPENED,
        )
        session.add(existing)
        session.flush()
        ids["existing"] = existing.id
    return ids


@pytest.fixture
def desk(sqlite_db, sqlite_admin):
    return seed(sqlite_db, sqlite_admin)


def detail(db, ref):
    with db.session(write=False) as session:
        return incident_detail(session, ref)


def screen(app) -> IntakeScreen:
    assert isinstance(app.screen, IntakeScreen)
    return app.screen


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).visual)


async def take_call(pilot) -> IntakeScreen:
    """F2, and wait until the contact is on record."""
    await signed_in(pilot)
    await pilot.press("f2")
    intake = screen(pilot.app)
    await wait_until(pilot, lambda: intake.contact is not None)
    return intake


async def pick_caller(pilot, typed: str, *, name: str) -> None:
    """Type in the caller field, wait for `name` among the matches, pick it with enter."""
    intake = screen(pilot.app)
    await pilot.press(*typed)
    search = intake.caller_search
    await wait_until(pilot, lambda: any(m.name == name for m in search.matches))
    while search.highlighted is None or search.highlighted.name != name:
        await pilot.press("down")
    await pilot.press("enter")
    await wait_until(pilot, lambda: intake.caller is not None)
    await pilot.pause()


async def test_known_caller_becomes_a_new_incident(db, admin):
    """Runs on SQLite and PostgreSQL: phone as the caller dictates it, serial, codes."""
    ids = seed(db, admin)
    app = console(db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        draft = intake.contact
        assert detail(db, draft.id).status == "draft"  # recorded before anything typed
        # The number as the caller says it finds the customer stored as +49 30 1234567.
        await pick_caller(pilot, "030/1234567", name="Müller GmbH")
        assert "found by phone" in text(app, "#caller-card")
        assert app.focused.id == "title"
        await pilot.press(*"Printer jams")
        await pilot.press("tab")
        await pilot.press(*"Paper jams after ten pages")
        await pilot.press("tab")
        # Typing a name word offers the specific code; tab takes it into both fields.
        await pilot.press(*"printer")
        await pilot.press("tab")
        assert (intake.text_of("reason-general"), intake.text_of("reason-specific")) == (
            "HW",
            "PRINT",
        )
        await pilot.press(*"fault", "enter")
        assert intake.text_of("request-kind") == "FAULT"
        intake.picker("serial").focus()
        await pilot.press(*"SN-4711")
        await wait_until(pilot, lambda: intake.unit is not None)
        unit_text = text(app, "#unit-panel")
        assert "until 2099-12-31" in unit_text and "SC-1" in unit_text
        assert "P1" in text(app, "#priority-default")
        assert "contract SC-1" in text(app, "#priority-default")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not intake.in_call)
        result = intake.last_result
        assert result is not None and result.id == draft.id
        assert f"Saved {result.number}" in text(app, "#idle-text")
        assert app.focused.id == "open-last"
    saved = detail(db, result.id)
    assert saved.status in {"registered", "assigned"}
    assert saved.customer["id"] == ids["muller"]
    assert saved.title == "Printer jams"
    assert saved.reason == {"general": "HW", "specific": "PRINT"}
    assert saved.request_kind == "FAULT"
    assert saved.priority == "P1"  # the contract's, as the panel said
    assert saved.unit["serial"] == "SN-4711"
    call = next(e for e in saved.events if e.type == "CallIn")
    assert call.text == "Paper jams after ten pages"


async def test_known_caller_call_goes_on_the_open_incident(db, admin):
    """Runs on SQLite and PostgreSQL."""
    ids = seed(db, admin)
    app = console(db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        draft = intake.contact
        await pick_caller(pilot, "müller", name="Müller GmbH")
        table = app.screen.query_one("#existing", DataTable)
        assert table.row_count == 1
        assert "INC-" in text(app, "#existing-summary")
        await pilot.press("tab")  # title -> description: the caller's words
        await pilot.press(*"Still jams, please")
        # One open incident: it is chosen; the dialog takes what the caller said.
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "AddCallDialog")
        assert app.screen.query_one("#text").text == "Still jams, please"
        await pilot.press(*" hurry", "ctrl+s")
        await wait_until(pilot, lambda: not intake.in_call)
        assert intake.last_added and intake.last_result.id == ids["existing"]
        assert "added to" in text(app, "#idle-text")
    existing = detail(db, ids["existing"])
    call = [e for e in existing.events if e.type == "CallIn"]
    assert [e.text for e in call] == ["Still jams, please hurry"]
    linked = detail(db, draft.id)
    assert linked.status == "closed"
    assert linked.duplicate_of == existing.number
    # The call is a contact of the incident, not an incident in the lists.
    from cc_tui.services.incidents.records import list_incidents

    with db.session(write=False) as session:
        listed = [row.id for row in list_incidents(session)]
    assert draft.id not in listed and ids["existing"] in listed


async def test_several_open_incidents_let_the_agent_choose(sqlite_db, desk, sqlite_admin):
    with sqlite_db.session() as session:
        second = Incident(
            channel="email",
            request_type="action",
            status="in_process",
            title="Toner empty",
            customer_id=desk["muller"],
            created_by_id=sqlite_admin.id,
            opened_at=OPENED,
        )
        session.add(second)
        session.flush()
        second_id = second.id
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press("ctrl+o")  # first press: choose among the two, then write
        table = app.screen.query_one("#existing", DataTable)
        assert app.focused is table and intake.in_call
        assert intake._highlighted_existing().id == second_id  # newest first
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "AddCallDialog")
        dialog = app.screen
        assert "Printer jams" in str(dialog.query_one("#dialog-context").visual)
        # Escape goes back to the call: the choice is kept.
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is intake)
        assert intake._highlighted_existing().id == desk["existing"]
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "AddCallDialog")
        await pilot.press(*"Toner arrived broken", "ctrl+s")
        await wait_until(pilot, lambda: not intake.in_call)
    calls = [e.text for e in detail(sqlite_db, desk["existing"]).events if e.type == "CallIn"]
    assert calls == ["Toner arrived broken"]


async def test_blocked_customer_is_refused_with_the_banner_and_the_reason(
    sqlite_db, desk, sqlite_admin
):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        draft = intake.contact
        await pick_caller(pilot, "blockhaus", name="Blockhaus AG")
        banner = app.screen.query_one("#banner")
        assert banner.has_class("-block") and banner.display
        banner_text = text(app, "#banner")
        assert "BLOCKED" in banner_text and "Unpaid invoices over 90 days" in banner_text
        assert "Action requests are refused" in banner_text
        await pilot.press(*"Machine down", "tab", *"It stopped", "tab", *"HW", "tab")
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#caller-error", Static)
        await wait_until(pilot, lambda: "blocked" in str(error.visual))
        # The service's own words, next to the caller.
        assert "Blockhaus AG is blocked: Unpaid invoices over 90 days" in str(error.visual)
        assert intake.in_call and intake.text_of("title") == "Machine down"
        assert detail(sqlite_db, draft.id).status == "draft"
        # An information request for the same customer is still recorded.
        await pilot.press("ctrl+t")
        assert intake.request_type == "information"
        assert not str(error.visual)
        assert app.focused.id == "question"
        await pilot.press(*"Why no service?", "tab", *"Accounts receivable must clear it")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not intake.in_call)
    saved = detail(sqlite_db, draft.id)
    assert (saved.type, saved.status) == ("information", "closed")
    assert saved.answer == "Accounts receivable must clear it"


async def test_abandoned_call_keeps_the_identified_caller_and_the_refusal(
    sqlite_db, desk, sqlite_admin
):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        refused = intake.contact
        await pick_caller(pilot, "blockhaus", name="Blockhaus AG")
        await pilot.press(*"Machine down", "tab", *"It stopped", "tab", *"HW", "tab")
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#caller-error", Static)
        await wait_until(pilot, lambda: "blocked" in str(error.visual))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.press("y")
        await wait_until(pilot, lambda: not intake.in_call)
        # A known caller who hangs up before anything is saved.
        await pilot.press("f2")
        await wait_until(pilot, lambda: intake.contact is not None)
        hung_up = intake.contact
        await pick_caller(pilot, "030/1234567", name="Müller GmbH")
        await pilot.press("escape", "y")
        await wait_until(pilot, lambda: not intake.in_call)
    blocked = detail(sqlite_db, refused.id)
    assert blocked.status == "abandoned"
    assert blocked.customer["id"] == desk["blocked"]
    note = next(e.text for e in blocked.events if "abandoned" in (e.text or ""))
    assert "Unpaid invoices over 90 days" in note
    muller = detail(sqlite_db, hung_up.id)
    assert muller.status == "abandoned"
    assert muller.customer["id"] == desk["muller"]
    with sqlite_db.session(write=False) as session:
        row = session.get(Incident, hung_up.id)
        assert row.caller_phone == "030/1234567"
        assert row.caller_phone_e164 == "+49301234567"


async def test_flag_set_by_a_supervisor_during_the_call_appears_at_once(
    sqlite_db, desk, sqlite_admin
):
    from cc_tui.services.directory.customers import set_block

    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pick_caller(pilot, "click", name=HOSTILE)
        await pilot.press("ctrl+t")
        banner = app.screen.query_one("#banner")
        assert not banner.display
        await pilot.press(*"What are your hours?")
        with sqlite_db.session() as session:
            set_block(
                session,
                actor=sqlite_admin,
                customer_id=desk["hostile"],
                level="warn",
                reason="Asks for [b]bold[/b] promises",
            )
        await wait_until(pilot, lambda: banner.has_class("-warn"))
        assert "Asks for [b]bold[/b] promises" in text(app, "#banner")
        assert intake.text_of("question") == "What are your hours?"


async def test_failed_save_keeps_the_draft_and_retries(sqlite_db, desk, sqlite_admin, monkeypatch):
    import cc_tui.services.incidents.intake as intake_service

    real_save = intake_service.save_intake
    calls = {"n": 0}

    def database_away_once(session, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Unavailable("database 127.0.0.1/desk unavailable: connection refused")
        return real_save(session, **kwargs)

    monkeypatch.setattr(intake_service, "save_intake", database_away_once)
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        draft = intake.contact
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams", "tab", *"Since Monday", "tab", *"HW")
        await pilot.press("ctrl+s")
        status = app.screen.query_one("#form-status", Static)
        await wait_until(pilot, lambda: "Not saved" in str(status.visual))
        assert "Everything typed is kept" in str(status.visual)
        assert "connection refused" in text(app, "#form-error")
        # Nothing typed is lost: the caller, the form, the contact.
        assert intake.in_call and intake.contact == draft
        assert intake.caller.customer.id == desk["muller"]
        assert intake.text_of("title") == "Printer jams"
        assert intake.text_of("description") == "Since Monday"
        assert intake.text_of("reason-general") == "HW"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not intake.in_call)
    assert calls["n"] == 2
    saved = detail(sqlite_db, draft.id)
    assert (saved.title, saved.description) == ("Printer jams", "Since Monday")


async def test_refusal_is_shown_next_to_the_field_the_service_names(sqlite_db, desk, sqlite_admin):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams")
        await pilot.press("ctrl+s")  # no reason code
        line = app.screen.query_one("#reason-error", Static)
        await wait_until(pilot, lambda: bool(str(line.visual)))
        assert str(line.visual) == "an action request needs a reason code"
        assert app.focused is intake.picker("reason-general").input
        await pilot.press(*"NOPE")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "NOPE" in str(line.visual))
        assert str(line.visual) == "no general reason code NOPE"
        # A bad date is refused before anything is sent.
        intake.query_one("#close-by").focus()
        await pilot.press(*"31.02.2025")
        await pilot.press("ctrl+s")
        assert text(app, "#close-by-error") == (
            "expected close must be a date YYYY-MM-DD, not '31.02.2025'"
        )
        assert app.focused.id == "close-by"
        assert intake.in_call and intake.text_of("title") == "Printer jams"


async def test_hostile_caller_name_is_text_and_runs_nothing(sqlite_db, desk, sqlite_admin):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pilot.press(*"click")
        search = intake.caller_search
        await wait_until(pilot, lambda: any(m.name == HOSTILE for m in search.matches))
        cell = search.table.get_cell_at((0, 0))
        assert cell.plain == HOSTILE
        await pilot.click("#caller-matches")
        await pilot.press("enter")
        await wait_until(pilot, lambda: intake.caller is not None)
        await pilot.pause()
        assert HOSTILE in text(app, "#caller-card")
        assert HOSTILE in text(app, "#existing-title")
        await pilot.click("#caller-card")
        await pilot.click("#existing-title")
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_end_call_without_saving_keeps_the_contact_as_abandoned(
    sqlite_db, desk, sqlite_admin
):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        first = intake.contact
        await pilot.press(*"Wrong number")
        await pilot.press("escape")
        await pilot.pause()
        # Something was typed: asked first; "n" keeps the call.
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await pilot.pause()
        assert intake.in_call and intake.caller_search.text == "Wrong number"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: not intake.in_call)
        assert "kept as abandoned" in text(app, "#idle-text")
        # Nothing typed: escape ends the call at once.
        await pilot.press("f2")
        await wait_until(pilot, lambda: intake.contact is not None)
        second = intake.contact
        await pilot.press("escape")
        await wait_until(pilot, lambda: not intake.in_call)
    assert detail(sqlite_db, first.id).status == "abandoned"
    assert detail(sqlite_db, second.id).status == "abandoned"


async def test_unknown_caller_is_added_as_a_new_customer(sqlite_db, desk, sqlite_admin):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pilot.press(*"0171 5550123")
        hint = intake.caller_search.query_one("#caller-hint", Static)
        await wait_until(pilot, lambda: "No customer matches" in str(hint.visual))
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#phone").value == "0171 5550123"
        await pilot.press(*"Bäckerei Sommer")
        dialog.query_one("#contact_name").focus()
        await pilot.press(*"Jana Sommer")
        assert dialog.query_one("#notify").value == "email"
        dialog.query_one("#notify").value = "sms"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: intake.caller is not None)
        assert intake.caller.customer.name == "Bäckerei Sommer"
        assert intake.caller.customer.notify == "sms"
        assert intake.caller.customer.phone_e164 == "+491715550123"
        assert intake.contact_person == intake.caller.customer.contacts[0].id
        assert "added during this call" in text(app, "#caller-card")


async def test_f2_from_another_mode_looks_and_f2_on_intake_takes_a_call(
    sqlite_db, desk, sqlite_admin
):
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("colon")  # the jump field has the focus: F2 still works
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        intake = screen(app)
        await settled(pilot)
        # Only looking: no contact is started, so nothing is left behind.
        assert not intake.in_call and intake.contact is None
        with sqlite_db.session(write=False) as session:
            drafts = session.scalars(select(Incident).where(Incident.status == "draft")).all()
            assert drafts == []
        await pilot.press("f2")  # on Intake: takes the call
        await wait_until(pilot, lambda: intake.contact is not None)
        assert app.focused is intake.caller_search.input
        # F2 again returns to the call in progress; it starts no second contact.
        contact = intake.contact
        await pilot.press("f3", "f2")
        await pilot.pause()
        assert intake.contact == contact


def build_snapshot_database(url: str) -> None:
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade
    from cc_tui.services.context import actor_of

    db = Database(url)
    upgrade(db)
    with db.session() as session:
        admin = actor_of(bootstrap_admin(session, "admin"))
    seed(db, admin)
    db.dispose()


def test_intake_snapshot(snap_compare, tmp_path, monkeypatch):
    # A relative path, so the header names the same database on every machine.
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///intake.sqlite3"
    build_snapshot_database(url)
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    settings = load_settings(database_url=url, agent="admin", timezone="UTC", poll_seconds=0.2)
    app = CcTuiApp(settings=settings, start_mode="intake")

    async def in_a_call(pilot) -> None:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams", "tab", *"Paper jams after ten pages", "tab")
        await pilot.press(*"HW", "tab", *"PRINT", "tab")
        intake.picker("serial").focus()
        await pilot.press(*"SN-4711")
        await wait_until(pilot, lambda: intake.unit is not None)
        title = intake.query_one("#title", Input)
        # A steady cursor: a blinking one is drawn or not depending on when the picture is
        # taken on its half-second timer, which a loaded machine shifts.
        title.cursor_blink = False
        title.focus()
        # Let debounced look-ups and completion lists settle: the picture must not depend on
        # how fast a loaded machine delivers them.
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=in_a_call)
