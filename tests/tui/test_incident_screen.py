"""The incident screen driven by keys (Pilot), on an embedded database, and one snapshot."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from cc_tui.models import Event, Incident
from cc_tui.services.context import actor_of, bootstrap_admin, resolve_actor
from cc_tui.services.incidents.intake import IntakeForm, save_call
from cc_tui.widgets.timeline import EventItem
from tests import factories as f
from tests.tui.conftest import settled

pytestmark = pytest.mark.tui

HOSTILE = "[@click=app.quit]x[/] and [b]not bold[/b]"
SIZE = (120, 40)


def make_app(url: str, login: str = "admin"):
    from cc_tui.config import Settings
    from cc_tui.console.app import CcTuiApp

    settings = Settings(database_url=url, agent=login, timezone="UTC", poll_seconds=0.2)
    return CcTuiApp(settings=settings, start_mode="incident")


async def wait_for(pilot, predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def open_detail(pilot, incident_id: int):
    from cc_tui.screens.incident_detail import IncidentDetailScreen, OpenIncident

    app = pilot.app
    await wait_for(pilot, lambda: app.connection is not None, "the database")
    app.screen.post_message(OpenIncident(incident_id))

    def loaded() -> bool:
        screen = app.screen
        return isinstance(screen, IncidentDetailScreen) and screen.view is not None

    await wait_for(pilot, loaded, "the incident screen")
    await wait_for(pilot, lambda: bool(app.screen.event_types), "the event types")
    await pilot.pause()
    return app.screen


def shown_text(screen) -> str:
    """Everything the timeline items display, as plain text."""
    from cc_tui.widgets.timeline import EventItem

    # An item mounted a moment ago may not have composed its label yet: it shows nothing so far.
    return "\n".join(
        str(label.render()) for item in screen.query(EventItem) for label in item.query("Label")[:1]
    )


def summary_text(screen) -> str:
    # Label and value are joined by no-break spaces (they never wrap apart).
    return str(screen.query_one("#incident-summary-box").render()).replace("\u00a0", " ")


@pytest.fixture
def world(sqlite_db):
    """An action request on an embedded database, with codes to solve it."""
    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        acme = f.customer(s, "Acme", number="K-00001")
        f.agent(s, "bob")
        result = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action", customer_id=acme.id, title="Disk full", reason="HW/DISK"
            ),
        )
    return {"db": sqlite_db, "url": sqlite_db.url.render_as_string(), "id": result.id}


def incident_row(db, incident_id: int) -> Incident:
    with db.session(write=False) as s:
        return s.get(Incident, incident_id)


async def test_add_an_event_by_keys(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#text"), "the event dialog")
        # The dialog opens on the type: enter there never adds a line to the text.
        await pilot.press("tab", *"Customer called", "enter", *HOSTILE)
        await pilot.press("tab")  # from the text to the duration
        await pilot.press("4")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
        await wait_for(pilot, lambda: HOSTILE in shown_text(screen), "the new event")
        assert app.is_running  # the markup in the text did not quit the app
    with world["db"].session(write=False) as s:
        event = s.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event.text == f"Customer called\n{HOSTILE}"
    assert event.duration_minutes == 4


async def test_an_empty_event_is_refused_in_the_dialog(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, world["id"])
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#text"), "the event dialog")
        dialog = app.screen
        await pilot.press("ctrl+s")
        error = dialog.query_one("#text-error")
        await wait_for(pilot, lambda: "needs its text" in str(error.render()), "the refusal")
        assert app.screen is dialog  # still open: nothing typed is lost


async def test_solve_with_missing_fields_is_refused_and_the_form_says_why(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, world["id"])
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#problem"), "the solve form")
        dialog = app.screen
        await pilot.press(*"paper path dirty")
        await pilot.press("ctrl+s")
        error = dialog.query_one("#solution-error")
        await wait_for(pilot, lambda: "actual solution" in str(error.render()), "the refusal")
        assert app.screen is dialog
        assert dialog.query_one("#problem").text == "paper path dirty"
        assert app.focused is dialog.query_one("#solution")
    row = incident_row(world["db"], world["id"])
    assert (row.status, row.actual_problem) == ("registered", None)


async def test_solve_with_all_fields(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#problem"), "the solve form")
        await pilot.press(*"paper path dirty", "tab", *"cleaned the rollers", "tab")
        await pilot.press(*"FIX/REPLACED", "ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the form to close")
        await wait_for(pilot, lambda: "Status Solved" in summary_text(screen), "solved")
        assert "o reopen" in str(screen.query_one("#incident-steps").render())
        # The timeline's status line uses the names people read, not the stored words.
        await wait_for(pilot, lambda: "-> Solved" in shown_text(screen), "the status line")
        assert "-> solved" not in shown_text(screen)
        assert "Draft -> Registered" in shown_text(screen)
    row = incident_row(world["db"], world["id"])
    assert (row.status, row.actual_solution) == ("solved", "cleaned the rollers")


async def test_refused_transition_shows_the_services_message(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query("#accepted"), "the close dialog")
        dialog = app.screen
        await pilot.press("a")
        error = dialog.query_one("#form-error")
        await wait_for(
            pilot, lambda: "only a solved incident" in str(error.render()), "the refusal"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
        await pilot.press("w")
        await wait_for(pilot, lambda: "Status In process" in summary_text(screen), "started")
        await pilot.press("w")
        message = screen.query_one("#incident-message")
        await wait_for(pilot, lambda: "in_process already" in str(message.render()), "refusal")
    assert incident_row(world["db"], world["id"]).status == "in_process"


async def test_markup_in_event_text_is_shown_literally(world):
    from cc_tui.services.incidents.timeline import add_event_to_incident

    with world["db"].session() as s:
        admin = resolve_actor(s, "admin")
        add_event_to_incident(s, actor=admin, ref=world["id"], type_code="Note", text=HOSTILE)
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        assert HOSTILE in shown_text(screen)
        assert "[@click=app.quit]x[/]" in app.export_screenshot()
        assert app.is_running


async def test_a_reload_keeps_the_screen_readable(world):
    """Reloading (a key, or a change from another agent) keeps the timeline on screen: no
    full-screen loading indicator covers it while the new view is fetched."""
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        seen: list[bool] = []
        screen.watch(screen, "loading", lambda value: seen.append(value), init=False)
        screen.reload()
        assert not screen.loading
        await pilot.press("r")
        await pilot.pause()
        assert not screen.query("LoadingIndicator")
        await wait_for(pilot, lambda: not screen._busy, "the reload")
        assert seen == []
        assert "Disk full" in summary_text(screen)


async def test_timer_key_and_live_refresh(world):
    from cc_tui.services.incidents.timeline import add_event_to_incident

    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("t")
        await wait_for(pilot, lambda: "your timer" in summary_text(screen), "the running timer")
        # Another agent adds an event: the change feed brings it without a key press.
        with world["db"].session() as s:
            bob = resolve_actor(s, "bob")
            add_event_to_incident(
                s, actor=bob, ref=world["id"], type_code="CallOut", text="bob called back"
            )
        await wait_for(pilot, lambda: "bob called back" in shown_text(screen), "live refresh")
        await pilot.press("t")
        await wait_for(pilot, lambda: "your timer" not in summary_text(screen), "timer stop")
        assert "Time spent 1 min" in summary_text(screen)


async def test_correct_the_highlighted_event_by_keys(world):
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("down")  # newest first: below intake's status change, the call
        original = screen.timeline.current
        assert original.type == "CallIn"
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.query("#text"), "the correction dialog")
        assert f"Correct event #{original.id}" in str(
            app.screen.query_one("#dialog-title").render()
        )
        contacts = screen.view.summary.counts["contact"]
        await pilot.press("tab", *"the disk is 4 TB, not 2", "ctrl+s")
        await wait_for(pilot, lambda: f"corrects #{original.id}" in shown_text(screen), "it")
        with world["db"].session(write=False) as s:
            fix = s.scalars(select(Event).order_by(Event.id.desc())).first()
        # The corrected call is marked, and struck through; the correction is no new contact.
        await wait_for(pilot, lambda: f"corrected by #{fix.id}" in shown_text(screen), "mark")
        assert screen.view.summary.counts["contact"] == contacts
        items = {item.entry.id: item for item in screen.query(EventItem)}
        assert items[original.id].has_class("-corrected")
        assert not items[fix.id].entry.is_contact
        assert str(items[fix.id].query_one("Label").render()).startswith("•")
    with world["db"].session(write=False) as s:
        assert s.get(Event, original.id).text == original.text  # the original is unchanged
    assert (fix.corrects_id, fix.text) == (original.id, "the disk is 4 TB, not 2")


async def test_paging_on_reaches_older_events(world):
    from cc_tui.services.incidents.timeline import add_event_to_incident

    with world["db"].session() as s:
        admin = resolve_actor(s, "admin")
        for n in range(120):
            add_event_to_incident(s, actor=admin, ref=world["id"], type_code="Note", text=f"n{n}")
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        assert len(screen.timeline.entries) == 50
        for _ in range(3):
            await pilot.press("end")
            await settled(pilot)
        await wait_for(pilot, lambda: len(screen.timeline.entries) == 123, "all pages")
        ids = [e.id for e in screen.timeline.entries]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 123
        await pilot.press("2")  # customer contacts only: intake's call
        await wait_for(pilot, lambda: len(screen.timeline.entries) == 1, "the contact filter")
        assert screen.timeline.entries[0].type == "CallIn"
        await pilot.press("3")
        await wait_for(
            pilot,
            lambda: {e.kind for e in screen.timeline.entries} == {"system"},
            "the system filter",
        )


# -- snapshot ---------------------------------------------------------------------------------

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def build_snapshot_database(url: str) -> int:
    """Fixed data and fixed times, written straight to the tables."""
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade
    from cc_tui.models import EventType, TimeEntry

    db = Database(url)
    upgrade(db)
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        bob = f.agent(s, "bob")
        dept = f.department(s, "DESK", "Service desk")
        prio = f.priority(s, "P2", rank=2)
        acme = f.customer(s, "Acme Drücker AG", number="K-10001")
        anna = f.contact(s, acme, "Anna Nowak")
        contract = f.contract(s, acme, "SC-ACME")
        unit = f.unit(s, acme, "SN-100", warranty_until=date(2099, 12, 31), contract=contract)
        incident = Incident(
            channel="phone",
            request_type="action",
            status="in_process",
            title="Printer jams on every page",
            customer_id=acme.id,
            contact_id=anna.id,
            unit_id=unit.id,
            contract_id=contract.id,
            under_warranty=True,
            priority_id=prio.id,
            priority_rank=2,
            department_id=dept.id,
            owner_id=bob.id,
            created_by_id=admin.id,
            opened_at=T0,
            registered_at=T0 + timedelta(minutes=4),
            assigned_at=T0 + timedelta(minutes=10),
            first_response_at=T0 + timedelta(minutes=25),
            response_due=T0 + timedelta(hours=4),
            resolve_due=T0 + timedelta(days=2),
            escalation="warning",
            escalation_rank=2,
            updated_at=T0 + timedelta(hours=3),
            updated_by_id=bob.id,
        )
        s.add(incident)
        s.flush()
        types = dict(s.execute(select(EventType.code, EventType.id)).all())
        rows = [
            ("Contact", "system", admin, "phone contact started", None, None),
            ("CallIn", "user", admin, "Printer jams after each page since Monday.", anna, None),
            ("StatusChange", "system", admin, "draft -> registered", None, None),
            ("Assignment", "system", admin, "assigned to bob", None, None),
            ("CallOut", "user", bob, "Asked for the error code: E-204.", anna, 6),
            ("Note", "user", bob, HOSTILE, None, None),
            ("StatusChange", "system", bob, "assigned -> in_process", None, None),
            ("Dispatch", "user", bob, "Technician booked for Thursday 10:00.", None, None),
        ]
        for n, (code, kind, author, text, contact, minutes) in enumerate(rows):
            s.add(
                Event(
                    incident_id=incident.id,
                    event_type_id=types[code],
                    kind=kind,
                    at=T0 + timedelta(minutes=5 + 20 * n),
                    author_id=author.id,
                    text=text,
                    contact_id=contact.id if contact else None,
                    duration_minutes=minutes,
                )
            )
        s.add(
            TimeEntry(
                incident_id=incident.id,
                agent_id=bob.id,
                started_at=T0 + timedelta(hours=1),
                ended_at=T0 + timedelta(hours=2, minutes=35),
                minutes=95,
            )
        )
        s.flush()
        incident_id = incident.id
    db.dispose()
    return incident_id


def snapshot_app(tmp_path, monkeypatch):
    """The console on the snapshot database and its incident, at a fixed clock (the
    escalation badge shows the time left), from a relative path (the header shows the same
    database name on every machine)."""
    monkeypatch.chdir(tmp_path)
    f.fake_clock(monkeypatch, T0 + timedelta(hours=5))
    url = "sqlite:///incident.sqlite3"
    incident_id = build_snapshot_database(url)
    return make_app(url), incident_id


def test_snapshot_of_the_incident_screen(snap_compare, tmp_path, monkeypatch):
    assert picture_of_the_incident_screen(snap_compare, tmp_path, monkeypatch, SIZE)


def test_snapshot_of_the_incident_screen_at_80x24(snap_compare, tmp_path, monkeypatch):
    assert picture_of_the_incident_screen(snap_compare, tmp_path, monkeypatch, (80, 24))


def picture_of_the_incident_screen(snap_compare, tmp_path, monkeypatch, size) -> bool:
    app, incident_id = snapshot_app(tmp_path, monkeypatch)

    async def run_before(pilot) -> None:
        await open_detail(pilot, incident_id)
        await settled(pilot)

    return snap_compare(app, terminal_size=size, run_before=run_before)


async def test_the_summary_folds_at_80x24_so_the_timeline_keeps_room(tmp_path, monkeypatch):
    """Issue 19, finding 1: at 80x24 the header took 12 rows and left two events."""
    app, incident_id = snapshot_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, incident_id)
        await settled(pilot)
        assert app.screen.has_class("-short")
        assert app.screen.query_one("#incident-top").region.height <= 7
        picture = app.export_screenshot()
        assert sum(f"#{n}" in picture for n in range(1, 9)) >= 4
        # Taller again: the whole summary is back.
        await pilot.resize_terminal(120, 35)
        await settled(pilot)
        assert not app.screen.has_class("-short")
        summary = str(app.screen.query_one("#incident-summary-box").visual)
        assert "Response\xa0due" in summary


@pytest.mark.parametrize("key", ["s", "e"], ids=["solve", "event"])
async def test_a_form_shows_whole_at_80x24(tmp_path, monkeypatch, key):
    """At 80x24 the Solve form scrolled its title (which incident) and its buttons out of
    sight; on a short terminal a form drops its blank lines and fits."""
    from textual.containers import VerticalScroll

    from cc_tui.dialogs.form import FormDialog

    app, incident_id = snapshot_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, incident_id)
        await settled(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, FormDialog), "the form")
        await settled(pilot)
        dialog = app.screen.query_one("#dialog", VerticalScroll)
        assert app.screen.has_class("-short")
        assert dialog.max_scroll_y == 0
        for part in ("#dialog-title", "#save", "#dialog-hint"):
            assert app.screen.region.contains_region(app.screen.query_one(part).region)
        await pilot.resize_terminal(120, 35)
        await settled(pilot)
        assert not app.screen.has_class("-short")


def test_the_next_steps_fit_80_columns_in_short_words():
    from cc_tui.screens.incident_detail import steps_content

    legal = ["assigned", "in_process", "pending", "solved", "closed"]
    wide = steps_content("registered", legal, owner=None, me="jonas").plain
    narrow = steps_content("registered", legal, owner=None, me="jonas", narrow=True).plain
    assert "m assign to me   w start work" in wide
    assert narrow == "Next  m assign me  w start  p pending  s solve  c close  "
    assert len(narrow) + len("│ d hide deadlines") <= 78


async def test_the_next_steps_stay_on_one_line_at_80_columns(tmp_path, monkeypatch):
    """At 80 columns "deadlines" fell on a line of its own below the next steps."""
    app, incident_id = snapshot_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, incident_id)
        await settled(pilot)
        steps = screen.query_one("#incident-steps")
        assert screen.has_class("-narrow")
        assert steps.region.height == 1
        assert str(steps.render()).endswith("│ d deadlines")
        await pilot.press("d")
        await wait_for(pilot, lambda: "hide deadlines" in str(steps.render()), "the panel")
        assert steps.region.height == 1
        await pilot.resize_terminal(120, 35)
        await settled(pilot)
        assert not screen.has_class("-narrow")
        assert "│  d hide deadlines" in str(steps.render())


def test_summary_lines_break_between_pairs_only():
    from textual.content import Content

    from cc_tui.screens.incident_detail import _pair, fold_pairs

    line = Content.assemble(
        _pair("Status", "registered"), _pair("Priority", "P3"), _pair("Owner", None),
        _pair("Department", "SD"),
    )  # fmt: skip
    assert fold_pairs(line, 200) is line
    assert fold_pairs(line, 50).plain == (
        "Status\xa0registered   Priority\xa0P3   Owner\xa0–\nDepartment\xa0SD"
    )
    assert fold_pairs(line, 12).plain.split("\n") == [
        "Status\xa0registered", "Priority\xa0P3", "Owner\xa0–", "Department\xa0SD",
    ]  # fmt: skip


async def test_at_99_columns_no_pair_is_split_across_lines(tmp_path, monkeypatch):
    """Textual wraps at a no-break space too: "Department" ended one line, "DESK" began the
    next."""
    app, incident_id = snapshot_app(tmp_path, monkeypatch)
    async with app.run_test(size=(99, 40)) as pilot:
        screen = await open_detail(pilot, incident_id)
        await settled(pilot)
        box = screen.query_one("#incident-summary-box")
        lines = str(box.render()).splitlines()
        # Every line of pairs fits, so the terminal never has to break one itself.
        assert max(len(line) for line in lines[1:]) <= box.content_region.width
        assert any(line.endswith("Owner\xa0bob") for line in lines)
        assert any(line.startswith("Department\xa0DESK") for line in lines)


def test_status_and_escalation_events_read_in_the_screens_words():
    """The timeline tells a stored `in_process -> solved` and `follow_up -> warning` with
    the names the lists and the badge use; other text stays as written."""
    from cc_tui.services.incidents.timeline import TimelineEntry
    from cc_tui.widgets.timeline import event_content

    def shown(text: str, data: dict | None, kind: str = "system") -> str:
        entry = TimelineEntry(
            id=1, at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), type="X", type_name="X",
            kind=kind, direction="internal", is_contact=False, author="a", author_name="A",
            text=text, contact_id=None, contact_name=None, duration_minutes=None,
            corrects_id=None, data=data,
        )  # fmt: skip
        return event_content(entry, UTC).plain.split("\n", 1)[1]

    status = {"field": "status", "from": "in_process", "to": "solved"}
    assert shown("in_process -> solved", status) == "In process -> Solved"
    escalation = {"field": "escalation", "from": "follow_up", "to": "warning"}
    assert shown("escalation follow_up -> warning", escalation) == (
        "escalation follow-up -> warning"
    )
    # An agent's note that happens to look like one is theirs.
    assert shown("on_time -> late", None, kind="internal") == "on_time -> late"
