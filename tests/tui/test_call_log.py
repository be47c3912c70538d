"""The caller log (F8 or the palette): today's calls newest first, filtered by number or
agent, following the change feed; enter opens the incident a call became."""

from __future__ import annotations

import pytest

from cc_tui.dialogs.call_pop import CallPopDialog
from cc_tui.screens.call_log import CallLogScreen
from cc_tui.screens.incident_detail import IncidentDetailScreen
from cc_tui.services.context import bootstrap_admin, resolve_actor
from cc_tui.services.cti.calls import simulate, take_call
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = [pytest.mark.tui, pytest.mark.commits]


def seed(db) -> None:
    with db.session() as s:
        assert bootstrap_admin(s, "admin") is not None
        f.customer(s, "Acme AG", phone="+49 30 1234567")
        f.agent(s, "bob")
        f.agent(s, "carol")


def ring(db, number: str, agent: str, **options) -> int:
    with db.session() as s:
        admin = resolve_actor(s, "admin")
        call = simulate(s, actor=admin, from_number=number, agent=agent, **options)
        if options.get("answer"):
            take_call(s, actor=resolve_actor(s, agent), call=call.id)
        return call.id


def shown(app) -> list[str]:
    screen = app.screen
    assert isinstance(screen, CallLogScreen)
    table = screen.table
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_call_log_filters_by_number_and_agent_and_follows_the_feed(db):
    seed(db)
    ring(db, "+49 30 1234567", "bob", answer=True)
    ring(db, "+49 40 7777777", "carol", hangup=True)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        await wait_until(pilot, lambda: len(shown(app)) == 2)
        assert shown(app) == ["← +49 40 7777777", "← +49 30 1234567"]
        await pilot.press("slash", *"7777", "enter")
        await wait_until(pilot, lambda: shown(app) == ["← +49 40 7777777"])
        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # the number filter cleared
        await wait_until(pilot, lambda: len(shown(app)) == 2)
        await pilot.press("u")  # mine
        await wait_until(pilot, lambda: shown(app) == ["← +49 30 1234567"])
        ring(db, "+49 89 1111111", "bob")  # rings now: it pops, and the feed lists it
        await wait_until(pilot, lambda: isinstance(app.screen, CallPopDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        await wait_until(pilot, lambda: len(shown(app)) == 2)
        assert shown(app)[0] == "← +49 89 1111111"
        await pilot.press("G", "enter")  # the answered call became an incident
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentDetailScreen))
        await settled(pilot)


async def test_the_palette_opens_the_call_log(db):
    seed(db)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("ctrl+p", *"call log")
        await settled(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CallLogScreen))
        await settled(pilot)


async def test_a_number_written_as_markup_is_shown_as_text(db):
    seed(db)
    hostile = "[@click=app.quit]x[/]"
    ring(db, hostile, "bob", hangup=True)
    app = console(db, login="bob", mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        from cc_tui.widgets.callbacks import CallbackPanel

        await wait_until(pilot, lambda: len(app.screen.query_one(CallbackPanel).callbacks) == 1)
        assert app.screen.query_one(CallbackPanel).callbacks[0].number == hostile
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        await wait_until(pilot, lambda: shown(app) == [f"← {hostile}"])
        await pilot.press("enter")  # no incident: said so, nothing runs
        await settled(pilot)
        assert app.is_running


async def test_the_count_of_calls_is_read_in_full_at_80_columns(sqlite_db):
    """At 80 columns "10 calls in the last 7 days · 3 missed" ran off the screen: it wraps
    beside the filters instead."""
    seed(sqlite_db)
    ring(sqlite_db, "+49 40 7777777", "carol", hangup=True)
    app = console(sqlite_db, login="bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        await wait_until(pilot, lambda: len(shown(app)) == 1)
        await pilot.press("w")
        status = app.screen.query_one("#call-status")
        await wait_until(pilot, lambda: "1 call in the last 7" in str(status.render()))
        await settled(pilot)
        assert app.screen.region.contains_region(status.region)
        # Every word is drawn: the lines on screen hold the whole text.
        lines = [str(line.text) for line in status.render_lines(status.region.reset_offset)]
        assert "1 missed" in " ".join(" ".join(lines).split())
