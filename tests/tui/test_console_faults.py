"""The console through database faults: a call taken while the database is down keeps the
time it began (finding 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.errors import Unavailable
from tests import factories
from tests.tui.conftest import SIZE, console, wait_until
from tests.tui.test_incident_screen import world  # noqa: F401
from tests.tui.test_intake_screen import desk, detail, pick_caller, signed_in  # noqa: F401

pytestmark = pytest.mark.tui

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("desk")
async def test_a_call_taken_while_the_database_is_down_starts_when_f2_was_pressed(
    sqlite_db, sqlite_admin, monkeypatch
):
    import cc_tui.services.incidents.intake as intake_service

    clock = factories.fake_clock(monkeypatch, T0)
    real_open = intake_service.open_contact
    calls = {"n": 0}

    def database_away_once(session, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Unavailable("database unavailable: connection refused")
        return real_open(session, **kwargs)

    monkeypatch.setattr(intake_service, "open_contact", database_away_once)
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f2")
        intake = app.screen
        await wait_until(pilot, lambda: calls["n"] == 1 and not intake.progress.recording)
        assert intake.contact is None
        clock.now = T0 + timedelta(minutes=12)  # the agent talks; the database comes back
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams", "tab", *"Since Monday", "tab", *"HW")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: intake.last_result is not None)
        number = intake.last_result.number
    saved = detail(sqlite_db, number)
    assert saved.opened_at == T0


async def test_every_screen_says_offline_until_the_database_answers(sqlite_db, monkeypatch):
    """Finding 9: the board does not go on saying "live · updated HH:MM" in an outage."""
    from textual.widgets import Static

    from cc_tui.db.changes import ChangeListener
    from tests.tui.test_queues_screen import board_loaded, build

    build(sqlite_db)
    down = {"now": False}
    real_wait = ChangeListener.wait

    def wait(self, *args, **kwargs):
        if down["now"]:
            raise Unavailable("database unavailable: connection refused")
        return real_wait(self, *args, **kwargs)

    monkeypatch.setattr(ChangeListener, "wait", wait)
    app = console(sqlite_db, mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await board_loaded(pilot)

        def status() -> str:
            return str(app.screen.query_one("#board-status", Static).visual)

        def header() -> str:
            return str(app.screen.query_one("#header-database", Static).visual)

        assert "live" in status()
        db = app.connection.db
        real_session = db.session

        def session(*args, **kwargs):
            if down["now"]:
                raise Unavailable("database unavailable: connection refused")
            return real_session(*args, **kwargs)

        monkeypatch.setattr(db, "session", session)
        down["now"] = True
        await wait_until(pilot, lambda: app.offline_since is not None)
        await pilot.pause()
        since = f"offline since {app.offline_since:%H:%M}, retrying"
        assert since in status() and "live" not in status() and "updated" not in status()
        assert since in header()
        await pilot.press("f3")  # another screen says it as well
        await wait_until(pilot, lambda: since in header())
        down["now"] = False
        await wait_until(pilot, lambda: app.offline_since is None)
        await pilot.pause()
        assert "offline" not in header()
        await pilot.press("f4")
        await wait_until(pilot, lambda: "live" in status())


async def test_the_solve_dialog_reloads_after_a_conflict_and_keeps_what_was_typed(world):  # noqa: F811
    """Finding 5: after someone else's change ctrl+r reloads the incident; the typed problem
    and solution stay, and the next ctrl+s solves it."""
    from cc_tui.services.context import resolve_actor
    from cc_tui.services.incidents.edit import update_incident
    from tests.tui.test_incident_screen import incident_row, make_app, open_detail, wait_for

    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("s")
        await wait_for(pilot, lambda: app.screen.query("#problem"), "the solve form")
        dialog = app.screen
        with world["db"].session() as session:  # someone else changes it meanwhile
            admin = resolve_actor(session, "admin")
            update_incident(
                session, actor=admin, ref=world["id"], expected_version=None, title="Disk full!"
            )
        await pilot.press(*"paper path dirty", "tab", *"cleaned the rollers", "tab")
        await pilot.press(*"FIX/REPLACED", "ctrl+s")
        error = dialog.query_one("#form-error")
        await wait_for(pilot, lambda: "ctrl+r" in str(error.render()), "the conflict")
        await pilot.press("ctrl+s")  # the same version again: refused again
        await wait_for(pilot, lambda: "ctrl+r" in str(error.render()), "the conflict")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "Reloaded" in str(error.render()), "the reload")
        assert app.screen is dialog
        assert dialog.query_one("#problem").text == "paper path dirty"
        assert dialog.query_one("#solution").text == "cleaned the rollers"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the form to close")
    row = incident_row(world["db"], world["id"])
    assert (row.status, row.title, row.actual_solution) == (
        "solved",
        "Disk full!",
        "cleaned the rollers",
    )


async def test_closing_a_dialog_with_typed_text_asks_first(world):  # noqa: F811
    from tests.tui.test_incident_screen import make_app, open_detail, wait_for

    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#text"), "the event form")
        dialog = app.screen
        await pilot.press("tab", *"Customer called")  # from the type to the text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.press("n")  # keep typing
        await wait_until(pilot, lambda: app.screen is dialog)
        assert dialog.query_one("#text").text == "Customer called"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        # Nothing typed: escape closes at once.
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#text"), "the event form")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
