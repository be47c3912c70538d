"""80x24, the smallest terminal an agent works in: the mode tabs and the footer fit on their
line, the incident list keeps its Title and Opened columns, intake keeps every request type
and its key; widened again, the list's title takes the room."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from cc_tui.config import load_settings
from cc_tui.console.app import CcTuiApp
from cc_tui.widgets.chrome import ModeTab
from tests import factories as f
from tests.tui.conftest import console, settled, signed_in, wait_until
from tests.tui.test_intake_screen import take_call
from tests.tui.test_snapshots import INCIDENTS, OPENED, build_database

pytestmark = pytest.mark.tui

SMALL = (80, 24)


def screen_text(app) -> str:
    """What the screen shows, as text (the picture's no-break spaces made plain)."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def assert_chrome_fits(app, width: int = 80) -> None:
    """Every mode tab and every footer key lies inside the screen, none under another."""
    tabs = list(app.screen.query(ModeTab))
    assert tabs and all(tab.region.right <= width for tab in tabs), [str(t.visual) for t in tabs]
    keys = [k for k in app.screen.query(FooterKey) if k.display]
    assert keys, "no footer keys"
    palette = [k for k in keys if k.has_class("-command-palette")]
    others = [k for k in keys if not k.has_class("-command-palette")]
    assert all(k.region.right <= width for k in keys)
    if palette:
        assert all(k.region.right <= palette[0].region.x for k in others)


async def test_the_incident_list_keeps_title_and_opened_at_80x24(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f.fake_clock(monkeypatch, OPENED + timedelta(hours=2))
    url = "sqlite:///list.sqlite3"
    build_database(url)
    settings = load_settings(database_url=url, agent="maria", timezone="UTC", poll_seconds=0.2)
    app = CcTuiApp(settings=settings, start_mode="incident")
    async with app.run_test(size=SMALL) as pilot:
        await signed_in(pilot)
        table = app.screen.query_one("#incident-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(INCIDENTS) and not app.screen.busy)
        await settled(pilot)
        shown = table.shown_columns()
        assert {"number", "status", "escalation", "title", "opened"} <= set(shown)
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.size.width
        picture = screen_text(app)
        assert "Title" in picture and "Opened" in picture and "03-04 08:00" in picture
        assert_chrome_fits(app)
        narrow_title = table.columns["title"].width  # type: ignore[index]
        await pilot.resize_terminal(200, 50)
        await settled(pilot)
        assert set(table.shown_columns()) == {key for key, *_ in table.specs}
        assert table.columns["title"].width >= narrow_title + 60  # type: ignore[index]
        assert "Printer on floor 3 jams on every page" in screen_text(app)


async def test_intake_keeps_every_request_type_at_80x24(sqlite_db, sqlite_admin):
    from tests.tui.test_intake_screen import seed

    seed(sqlite_db, sqlite_admin)
    app = console(sqlite_db, mode="intake")
    async with app.run_test(size=SMALL) as pilot:
        await take_call(pilot)
        await settled(pilot)
        bar = app.screen.query_one("#contact-type")
        assert bar.region.right <= 80
        shown = str(bar.visual)
        assert "Comment" in shown and "^t" in shown
        assert bar.region.width >= len(shown.rstrip())
        assert_chrome_fits(app)
        await pilot.resize_terminal(120, 35)
        await settled(pilot)
        assert "Channel" in str(app.screen.query_one("#contact-channel").visual)


@pytest.mark.parametrize("mode", ["queues", "kb", "workorders", "reports"])
async def test_tabs_and_footer_fit_at_80x24_on_every_mode(sqlite_db, sqlite_admin, mode):
    app = console(sqlite_db, mode=mode)
    async with app.run_test(size=SMALL) as pilot:
        await signed_in(pilot)
        await settled(pilot)
        assert_chrome_fits(app)
        # Short labels at 80 columns, the full ones where they fit.
        assert "KB" in str(app.screen.query_one("#tab-kb").visual)
        await pilot.resize_terminal(120, 35)
        await settled(pilot)
        assert "Knowledge base" in str(app.screen.query_one("#tab-kb").visual)
        assert_chrome_fits(app, 120)


@pytest.mark.parametrize(
    ("key", "table_id"),
    [("f8", "#call-table"), ("f9", "#outbox-table"), ("f10", "#quarantine-table")],
)
async def test_the_other_lists_fit_80_and_widen_at_200(sqlite_db, sqlite_admin, key, table_id):
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SMALL) as pilot:
        await signed_in(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: bool(app.screen.query(table_id)))
        await settled(pilot)
        table = app.screen.query_one(table_id, DataTable)
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.size.width
        assert_chrome_fits(app)
        await pilot.resize_terminal(200, 50)
        await settled(pilot)
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert table.size.width - 2 <= used <= table.size.width
