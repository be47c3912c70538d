"""The console through database faults: a call taken while the database is down keeps the
time it began (finding 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.errors import Unavailable
from tests import factories
from tests.tui.conftest import SIZE, console, wait_until
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
        await wait_until(pilot, lambda: calls["n"] == 1 and not intake.contact_pending)
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
