"""The command palette (ctrl+p) lists every action of the screen shown, with its key, and
the console's own; choosing one runs it."""

from __future__ import annotations

import pytest

from cc_tui.screens.incidents import IncidentListScreen
from tests.tui.conftest import SIZE, add_incidents, console, settled, signed_in, wait_until

pytestmark = pytest.mark.tui


def offered(app) -> list[str]:
    from textual.command import CommandList

    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_lists_the_screens_actions_and_runs_one(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 3)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await settled(pilot)
        list_screen = app.screen
        assert isinstance(list_screen, IncidentListScreen)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen.query("CommandList"))
        await settled(pilot)
        await wait_until(pilot, lambda: len(offered(app)) > 5)
        names = "\n".join(offered(app))
        for action in ("Filter", "Sort", "Export CSV", "Go to number", "Open only", "Quit"):
            assert action in names, action
        assert "Go to Intake" in names  # the console's own commands too
        await pilot.press(*"sort")
        await wait_until(pilot, lambda: offered(app) and "Sort" in offered(app)[0])
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is list_screen)
        await wait_until(pilot, lambda: list_screen.sort.column == "number")
