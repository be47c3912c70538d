"""Getting around: F3 always shows the list, escape goes back where the agent came from,
and a dialog floats over the screen it belongs to (which stays readable behind it)."""

from __future__ import annotations

import pytest

from cc_tui.screens.incident_detail import IncidentDetailScreen
from cc_tui.screens.incidents import IncidentListScreen
from cc_tui.screens.queues import QueuesScreen
from tests.tui.conftest import SIZE, console, settled, wait_until
from tests.tui.test_queues_screen import board_loaded, build, fixed_clock  # noqa: F401

pytestmark = pytest.mark.tui


async def test_escape_returns_to_the_board_and_f3_shows_the_list(sqlite_db, fixed_clock):  # noqa: F811
    build(sqlite_db)
    app = console(sqlite_db, login="sue", mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await board_loaded(pilot)
        await pilot.press("o")  # open the highlighted queue row
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentDetailScreen))
        detail = app.screen
        await wait_until(pilot, lambda: detail.view is not None)
        # A dialog floats over the incident: the incident is still drawn behind it.
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen.query("#text"))
        dialog = app.screen
        assert dialog.styles.background.a < 1
        box = dialog.query_one("#dialog").region
        assert box.width < SIZE[0] and box.height < SIZE[1]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is detail)
        # Escape: back to the board it was opened from.
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.current_mode == "queues")
        assert isinstance(app.screen, QueuesScreen)
        # Opened again, then F3: the list, not the incident.
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentDetailScreen))
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.current_mode == "queues")
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        await settled(pilot)
        assert app.current_mode == "incident"
        # From the list: enter opens, escape comes back to the list.
        await wait_until(pilot, lambda: app.screen.query_one("DataTable").row_count > 0)
        app.screen.query_one("DataTable").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentDetailScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentListScreen))
        assert app.current_mode == "incident"


async def test_the_board_filters_its_queue_with_the_same_terms(
    sqlite_db,
    fixed_clock,  # noqa: F811
    tmp_path,
):
    import csv

    from textual.widgets import Input

    from tests.tui.test_queues_screen import shown

    ids = build(sqlite_db)["ids"]
    app = console(sqlite_db, login="sue", mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await board_loaded(pilot)
        assert set(shown(app)) == {ids["late"], ids["urgent"], ids["calm"]}
        await pilot.press("slash")
        field = app.screen.query_one("#queue-filter", Input)
        assert app.focused is field
        field.value = "prio:p1"
        await pilot.press("enter")
        assert shown(app) == [ids["urgent"]]
        assert "1 match /prio:p1" in str(app.screen.query_one("#queue-title").visual)
        # e writes the queue as shown.
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen.query("#path"))
        app.screen.query_one("#path", Input).value = str(tmp_path / "queue.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "queue.csv").exists())
        await wait_until(pilot, lambda: isinstance(app.screen, QueuesScreen))
        with (tmp_path / "queue.csv").open(newline="", encoding="utf-8") as f:
            assert [r["number"] for r in csv.DictReader(f)] == [f"INC-{ids['urgent']}"]
        await pilot.press("slash")
        field.value = "toner status:registered"
        await pilot.press("enter")
        assert shown(app) == [ids["calm"]]
        await pilot.press("slash")
        field.value = ""
        await pilot.press("enter")  # empty: the whole queue again
        assert set(shown(app)) == {ids["late"], ids["urgent"], ids["calm"]}
        assert not field.display
        await pilot.press("s")  # by number
        assert shown(app) == sorted(shown(app))
        assert "sorted by Number" in str(app.screen.query_one("#queue-title").visual)
        app.screen.sort.pick("number")  # what a second click on the header does
        app.screen._redraw()
        assert shown(app) == sorted(shown(app), reverse=True)
