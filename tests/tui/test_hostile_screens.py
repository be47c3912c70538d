"""Text stored by anyone (older rows, other writers) reaches no terminal as a command: the
incident list, the incident screen, the board and the intake look-up show control
characters as visible signs. Checked on the frame the console would write to the terminal."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.tui.conftest import SIZE, add_incidents, console, signed_in, wait_until
from tests.tui.test_intake_screen import take_call
from tests.tui.test_queues_screen import board_loaded, build

pytestmark = pytest.mark.tui

TITLE = "\x1b[2J\x1b[H\x1b]0;pwned-title\x07Evil \x1b]52;c;cHduZWQ=\x07 invoice\u202efdp.exe"
CUSTOMER = "Acme \x9b2J\x1b[31mRED\x1b[0m"
# Sequences the stored text asks for; none may be in what the console writes.
ATTACKS = ("\x1b]0;pwned", "\x1b]52;", "\x9b", "\x07", "\x1b[2J", "\x1b[31mRED", "\u202e")


def store_raw(db) -> None:
    """Write the hostile texts past the write guard, as an older row or another writer."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE incident SET title = :t, description = :t"), {"t": TITLE})
        conn.execute(text("UPDATE customer SET name = :n"), {"n": CUSTOMER})


def frame(app) -> str:
    """The whole screen as the terminal would receive it."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def assert_harmless(app) -> None:
    written = frame(app)
    for attack in ATTACKS:
        assert attack not in written, attack
    assert "\u241b" in written  # the ESC is there to see, as a sign


async def test_incident_list_and_incident_screen(sqlite_db, sqlite_admin):
    from cc_tui.screens.incident_detail import IncidentDetailScreen, OpenIncident

    [incident_id] = add_incidents(sqlite_db, sqlite_admin, 1, customer="Acme")
    store_raw(sqlite_db)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await wait_until(pilot, lambda: not app.screen.busy)
        await pilot.pause()
        assert_harmless(app)
        app.screen.post_message(OpenIncident(incident_id))
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, IncidentDetailScreen) and app.screen.view is not None,
        )
        await pilot.pause()
        assert_harmless(app)


async def test_board(sqlite_db):
    build(sqlite_db)
    store_raw(sqlite_db)
    app = console(sqlite_db, mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await board_loaded(pilot)
        await pilot.pause()
        assert_harmless(app)


async def test_intake_look_up(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 1, customer="Acme")
    store_raw(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE customer SET search_name = 'acme'"))
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pilot.press(*"acme")
        await wait_until(pilot, lambda: bool(intake.caller_search.matches))
        await pilot.pause()
        assert_harmless(app)
