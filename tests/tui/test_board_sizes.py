"""The board on a desk of five departments and 31 agents, at 120x35 and 200x50: every
department panel on screen and still after an action, every agent in the agents' grid, and
columns and panel titles that use a wide terminal."""

from __future__ import annotations

import pytest
from textual.containers import HorizontalScroll
from textual.widgets import DataTable

from cc_tui.models import Agent, Department
from tests.tui.conftest import console, settled, wait_until
from tests.tui.test_queues_screen import board_loaded, build, fixed_clock, queue

pytestmark = pytest.mark.tui

DEPARTMENTS = (
    ("NOC", "Network Operations Center"),
    ("SD", "Service Desk (first level)"),
    ("DR", "Depot Repair"),
)


def big_desk(db) -> dict:
    """build()'s DESK and FIELD, three more departments, 31 agents in all (admin too)."""
    world = build(db)
    with db.session() as s:
        departments = [Department(code=code, name=name) for code, name in DEPARTMENTS]
        s.add_all(departments)
        s.flush()
        s.add_all(
            Agent(
                login=f"agent{n:02d}",
                name=f"Agent Number {n}",
                role="agent",
                department_id=departments[n % 3].id,
            )
            for n in range(26)
        )
    return world


def panels_text(app) -> list[str]:
    return [str(p.border_title) for p in app.screen.query("DepartmentPanel")]


__all__ = ["fixed_clock"]  # the fixture, used by name


async def test_five_panels_and_31_agents_fit_at_120x35(sqlite_db, sqlite_admin, fixed_clock):
    big_desk(sqlite_db)
    app = console(sqlite_db, login="sue", mode="queues")
    async with app.run_test(size=(120, 35)) as pilot:
        await board_loaded(pilot)
        await settled(pilot)
        panels = list(app.screen.query("DepartmentPanel"))
        assert len(panels) == 5
        assert all(p.region.right <= 120 and p.region.width >= 20 for p in panels)
        agents = app.screen.query_one("#agent-table", DataTable)
        assert app.screen.has_class("-agent-grid")
        logins = set(app.screen._grid.values())
        assert len(logins) == 31  # admin, sue, bob, amy, fay and 26 more
        # Every row of the grid is on screen (the header and one line per row).
        assert agents.region.height >= agents.row_count + 1
        assert agents.region.bottom <= 34
        # An action (claiming the next incident) reloads the board: the strip stays put.
        strip = app.screen.query_one("#dept-strip", HorizontalScroll)
        queue(app).focus()
        await pilot.press("c")
        await settled(pilot)
        await pilot.press("right_square_bracket")
        await settled(pilot)
        assert strip.scroll_x == 0
        assert all(p.region.right <= 120 for p in app.screen.query("DepartmentPanel"))
        # Enter on an agent in the grid shows that agent's incidents.
        agents.focus()
        where = next(k for k, v in app.screen._grid.items() if v == "bob")
        agents.move_cursor(row=where[0], column=where[1])
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.view.key == "bob")


async def test_a_wide_terminal_widens_titles_and_shows_whole_panel_titles(
    sqlite_db, sqlite_admin, fixed_clock
):
    big_desk(sqlite_db)
    app = console(sqlite_db, login="sue", mode="queues")
    async with app.run_test(size=(120, 35)) as pilot:
        await board_loaded(pilot)
        await settled(pilot)
        narrow_title = queue(app).columns["title"].width  # type: ignore[index]
        await pilot.resize_terminal(200, 50)
        await settled(pilot)
        table = queue(app)
        assert table.columns["title"].width >= narrow_title + 40  # type: ignore[index]
        # The columns fill the table's width: no empty band on the right.
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used >= table.size.width - 2
        for panel in app.screen.query("DepartmentPanel"):
            # A border title fits when the panel is wider than the title and its corners.
            assert panel.region.width >= len(str(panel.border_title)) + 4, panel.border_title
        assert "Network Operations Center" in " ".join(panels_text(app))
        await pilot.resize_terminal(80, 24)
        await settled(pilot)
        assert {"number", "escalation", "title", "waiting"} <= set(table.shown_columns())
        assert "owner" not in table.shown_columns()


async def test_an_agents_own_department_comes_first_in_sight_at_80_columns(
    sqlite_db, sqlite_admin, fixed_clock
):
    """At 80 columns three department panels fit: the agent's own (DR, the last on the
    board) comes first, numbered 1, so their queue is in sight and one key away."""
    big_desk(sqlite_db)
    app = console(sqlite_db, login="agent02", mode="queues")  # an agent of DR
    async with app.run_test(size=(80, 40)) as pilot:
        await board_loaded(pilot)
        await settled(pilot)
        panels = list(app.screen.query("DepartmentPanel"))
        assert len(panels) == 5
        assert panels[0].code == "DR"
        assert str(panels[0].border_title).startswith("1 DR")
        assert panels[0].region.right <= 80
        assert any(p.region.x >= 80 for p in panels)  # the strip does not fit: DR does
        await pilot.press("1")
        await wait_until(pilot, lambda: app.screen.view is not None and app.screen.view.key == "DR")
        await pilot.press("2")
        await wait_until(pilot, lambda: app.screen.view.key == panels[1].code)
    # A supervisor of DESK sees DESK first too; the others keep the board's order.
    app = console(sqlite_db, login="sue", mode="queues")
    async with app.run_test(size=(80, 24)) as pilot:
        await board_loaded(pilot)
        await settled(pilot)
        codes = [p.code for p in app.screen.query("DepartmentPanel")]
        assert codes[0] == "DESK"
        assert sorted(codes) == ["DESK", "DR", "FIELD", "NOC", "SD"]
