"""The Incident mode's list: paging, filters, jumping to a number, live updates, the
escalation badges, and untrusted text shown as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable, Input, Static

from cc_tui.db.changes import record_change
from cc_tui.models import Incident
from cc_tui.screens.incidents import PAGE_SIZE
from tests.factories import fake_clock
from tests.tui.conftest import SIZE, add_incidents, console, signed_in, wait_until

pytestmark = pytest.mark.tui

HOSTILE = "[@click=app.quit]x[/]"


def table(app) -> DataTable:
    return app.screen.query_one("#incident-table", DataTable)


def shown_numbers(app) -> list[str]:
    grid = table(app)
    return [grid.get_row_at(index)[0].plain for index in range(grid.row_count)]


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).visual)


async def open_list(pilot) -> None:
    await signed_in(pilot)
    app = pilot.app
    await wait_until(pilot, lambda: not app.screen.busy)


async def test_empty_database_says_so_honestly(sqlite_db, sqlite_admin):
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        assert table(app).row_count == 0
        assert not table(app).display
        empty = app.screen.query_one("#incident-empty", Static)
        assert empty.display
        assert str(empty.visual) == "No incidents yet — press F2 to take a call"


async def test_lists_newest_first_and_pages_at_the_end(db, admin):
    """Runs on SQLite and on PostgreSQL."""
    ids = add_incidents(db, admin, PAGE_SIZE + 30)
    app = console(db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        numbers = shown_numbers(app)
        assert len(numbers) == PAGE_SIZE
        assert numbers[0] == f"INC-{ids[-1]}"
        assert numbers[-1] == f"INC-{ids[30]}"
        assert "more below" in text_of(app, "#incident-status")
        await pilot.press("ctrl+end")  # the cursor reaches the last row: next page
        await wait_until(pilot, lambda: table(app).row_count == PAGE_SIZE + 30)
        assert shown_numbers(app)[-1] == f"INC-{ids[0]}"
        assert "more below" not in text_of(app, "#incident-status")
        # Row keys are the incident ids.
        assert table(app).coordinate_to_cell_key((0, 0)).row_key.value == str(ids[-1])


async def test_open_and_all_filters(sqlite_db, sqlite_admin):
    statuses = {1: "registered", 2: "closed", 3: "in_process", 4: "solved", 5: "pending"}
    add_incidents(sqlite_db, sqlite_admin, 5, status=lambda n: statuses[n])
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        assert shown_numbers(app) == ["INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]
        await pilot.press("o")
        await wait_until(pilot, lambda: table(app).row_count == 3)
        assert shown_numbers(app) == ["INC-5", "INC-3", "INC-1"]
        # The status column names a status as every screen does (the timeline too).
        grid = table(app)
        assert [grid.get_row_at(i)[1].plain for i in range(3)] == [
            "Pending",
            "In process",
            "Registered",
        ]
        assert text_of(app, "#incident-status").startswith("Open incidents")
        await pilot.press("a")
        await wait_until(pilot, lambda: table(app).row_count == 5)
        assert text_of(app, "#incident-status").startswith("All incidents")


async def test_open_filter_with_only_closed_incidents_says_how_to_see_them(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 2, status=lambda n: "closed")
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: table(app).row_count == 0)
        await wait_until(pilot, lambda: not app.screen.busy)
        assert text_of(app, "#incident-empty") == (
            "No open incidents — press a to list all incidents"
        )


async def test_jump_to_an_incident_number(sqlite_db, sqlite_admin):
    ids = add_incidents(sqlite_db, sqlite_admin, PAGE_SIZE + 50)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        # Not among the rows shown: the list starts at it.
        target = ids[10]
        await pilot.press("colon", *f"INC-{target}", "enter")
        await wait_until(pilot, lambda: shown_numbers(app)[0] == f"INC-{target}")
        assert table(app).cursor_row == 0
        assert app.focused is table(app)
        assert text_of(app, "#incident-summary-text").startswith(f"INC-{target}  Printer 11 jams")
        # Already shown: the cursor moves to it; a bare number works too.
        await pilot.press("colon", *str(ids[5]), "enter")
        await pilot.pause()
        assert table(app).cursor_row == 5
        # Back to the newest.
        await pilot.press("r")
        await wait_until(pilot, lambda: shown_numbers(app)[0] == f"INC-{ids[-1]}")


async def test_jump_to_an_unknown_or_malformed_number_says_why(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 3)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        await pilot.press("colon", *"INC-999", "enter")
        await wait_until(pilot, lambda: text_of(app, "#jump-error") != "")
        assert text_of(app, "#jump-error") == "no incident INC-999"
        assert isinstance(app.focused, Input)
        assert shown_numbers(app) == ["INC-3", "INC-2", "INC-1"]
        await pilot.press(*"printer", "enter")  # the failed text was selected: replaced
        await pilot.pause()
        assert text_of(app, "#jump-error") == (
            "not an incident number: 'printer' (expected INC-1042 or 1042)"
        )
        await pilot.press("escape")
        assert app.focused is table(app)
        assert text_of(app, "#jump-error") == ""


async def test_jump_to_a_closed_incident_drops_the_open_filter(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 3, status=lambda n: "closed" if n == 2 else "assigned")
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: table(app).row_count == 2)
        await pilot.press("colon", "2", "enter")
        await wait_until(pilot, lambda: shown_numbers(app)[:1] == ["INC-2"])
        assert shown_numbers(app) == ["INC-2", "INC-1"]
        assert text_of(app, "#incident-status").startswith("All incidents · from INC-2 down")


async def test_list_follows_the_change_feed(db, admin):
    """Another agent's new incident appears without a key press (SQLite and PostgreSQL)."""
    add_incidents(db, admin, 2)
    app = console(db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        assert shown_numbers(app) == ["INC-2", "INC-1"]
        await pilot.press("down")  # the cursor stays on its incident across refreshes
        with db.session() as session:
            incident = Incident(
                channel="email",
                request_type="information",
                status="registered",
                title="Toner question",
                created_by_id=admin.id,
            )
            session.add(incident)
            session.flush()
            record_change(session, entity="incident", action="created", incident_id=incident.id)
        await wait_until(pilot, lambda: table(app).row_count == 3, timeout=10)
        assert shown_numbers(app) == ["INC-3", "INC-2", "INC-1"]
        assert table(app).cursor_row == 2
        assert text_of(app, "#incident-summary-text").startswith("INC-1 ")


async def test_markup_in_titles_and_names_is_shown_literally(sqlite_db, sqlite_admin):
    add_incidents(sqlite_db, sqlite_admin, 1, title=HOSTILE, customer=HOSTILE)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        grid = table(app)
        assert grid.get_cell("1", "customer").plain == HOSTILE
        assert grid.get_cell("1", "title").plain == HOSTILE
        summary = text_of(app, "#incident-summary-text")
        assert f"INC-1  {HOSTILE}" in summary
        assert f"Customer {HOSTILE}" in summary
        # Clicking the text runs nothing: the app is still there.
        await pilot.click("#incident-table", offset=(50, 1))
        await pilot.click("#incident-summary-text", offset=(10, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert HOSTILE in app.export_screenshot()


# -- escalation ------------------------------------------------------------------------------

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_escalation_column_shows_the_state_and_the_time_left(db, admin, monkeypatch):
    """Runs on SQLite and on PostgreSQL."""
    clock = fake_clock(monkeypatch, NOW)
    late, on_time, responded, paused, closed = add_incidents(db, admin, 5)
    clocks = {
        late: {"escalation": "late", "response_due": NOW - timedelta(hours=2, minutes=10)},
        on_time: {"response_due": NOW + timedelta(minutes=35)},
        responded: {
            "escalation": "warning",
            "response_due": NOW - timedelta(hours=1),
            "first_response_at": NOW - timedelta(hours=2),
            "resolve_due": NOW + timedelta(hours=16, minutes=20),
        },
        paused: {"status": "pending", "paused_since": NOW, "response_due": NOW},
        closed: {"status": "closed", "escalation": "late", "response_due": NOW},
    }
    with db.session() as session:
        for incident_id, values in clocks.items():
            incident = session.get(Incident, incident_id)
            for name, value in values.items():
                setattr(incident, name, value)
    app = console(db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        grid = table(app)
        shown = {i: grid.get_cell(str(i), "escalation").plain for i in clocks}
        assert shown == {
            late: "late 2h10m overdue",
            on_time: "on time 35m left",
            responded: "warning 16h left",
            paused: "on time paused",
            closed: "–",
        }
        assert str(grid.get_cell(str(late), "escalation").style).startswith("bold ")
        # The summary under the table: the full badge of the highlighted incident.
        grid.move_cursor(row=grid.get_row_index(str(late)))
        await pilot.pause()
        assert "Escalation late · response 2h10m overdue" in text_of(app, "#incident-summary-text")
        grid.move_cursor(row=grid.get_row_index(str(closed)))
        await pilot.pause()
        assert "Escalation late · clocks stopped" in text_of(app, "#incident-summary-text")
        # The clock moves on without a reload.
        clock.now = NOW + timedelta(hours=1)
        app.screen._tick()
        assert grid.get_cell(str(on_time), "escalation").plain == "response 25m overdue"


async def test_vi_keys_move_in_the_list_and_type_in_the_jump_field(sqlite_db, sqlite_admin):
    """Issue 19, console habits: j, k, g and G move the cursor; `:` goes to a number."""
    add_incidents(sqlite_db, sqlite_admin, 4)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        grid = table(app)
        assert app.focused is grid
        await pilot.press("j", "j", "j")
        assert grid.cursor_row == 3
        await pilot.press("k")
        assert grid.cursor_row == 2
        await pilot.press("g")
        assert grid.cursor_row == 0
        await pilot.press("G")
        assert grid.cursor_row == 3
        await pilot.press("colon", "g", "j")
        assert app.focused.value == "gj"
        assert grid.cursor_row == 3


def test_opened_shows_the_year_only_for_other_years():
    from cc_tui.screens.incidents import opened_text

    moment = datetime(2026, 3, 4, 22, 53, tzinfo=UTC)
    assert opened_text(moment, UTC, NOW) == "03-04 22:53"
    assert opened_text(moment, UTC, NOW.replace(year=2027)) == "2026-03-04"


def test_a_status_reads_the_same_on_every_screen():
    """One rule (statuses.status_name) for lists, the board, the incident screen, the
    timeline and work orders; the stored value is what the command line prints."""
    from cc_tui.statuses import Status, status_name

    assert status_name(Status.IN_PROCESS) == "In process"
    assert status_name("registered") == "Registered"
    assert status_name("in_progress") == "In progress"  # a work order's
    assert status_name(None) == status_name("") == "–"
    assert all(status_name(s) == s.replace("_", " ").capitalize() for s in Status)


def test_the_table_fits_120_columns():
    from cc_tui.screens.incidents import COLUMNS

    # Each column is padded by one cell on either side; the scroll bar takes two.
    assert sum(spec.width + 2 for spec in COLUMNS) + 2 <= 120


def test_the_columns_fit_80_and_widen_the_title_at_200():
    from cc_tui.screens.incidents import COLUMNS
    from cc_tui.widgets.list_table import fit_widths

    narrow = fit_widths(COLUMNS, 80 - 2)
    assert {"number", "escalation", "title", "opened"} <= set(narrow)
    assert sum(width + 2 for width in narrow.values()) <= 78
    assert "owner" not in narrow  # the first to give way
    wide = fit_widths(COLUMNS, 200 - 2)
    assert set(wide) == {spec.key for spec in COLUMNS}
    assert sum(width + 2 for width in wide.values()) == 198
    assert wide["title"] >= 60


async def test_filter_sort_select_and_export_the_list_as_shown(
    sqlite_db, sqlite_admin, tmp_path, monkeypatch
):
    """`/` filters (words and terms), `s` sorts, `space` selects, `e` writes what is shown
    to CSV with formula-like cells kept inert."""
    add_incidents(sqlite_db, sqlite_admin, 3, title="Printer {n} jams", customer="Müller GmbH")
    add_incidents(sqlite_db, sqlite_admin, 2, title="=HYPERLINK(1) VPN {n}")
    monkeypatch.chdir(tmp_path)
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await open_list(pilot)
        assert len(shown_numbers(app)) == 5
        await pilot.press("slash")
        assert app.focused.id == "incident-filter"
        await pilot.press(*"colour:red", "enter")
        await wait_until(pilot, lambda: "unknown filter term" in text_of(app, "#jump-error"))
        filter_field = app.screen.query_one("#incident-filter", Input)
        filter_field.value = "printer customer:müller status:registered"
        filter_field.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(shown_numbers(app)) == 3 and not app.screen.busy)
        assert "filter: printer" in text_of(app, "#incident-status")
        assert app.focused is table(app)
        newest_first = shown_numbers(app)
        await pilot.press("s")  # by number, ascending
        assert shown_numbers(app) == sorted(newest_first)
        assert "sorted by Number" in text_of(app, "#incident-status")
        await pilot.press("g", "space", "space")  # select the first two
        assert len(app.screen.selected) == 2
        assert "2 selected" in text_of(app, "#incident-status")
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen.query("#path"))
        app.screen.query_one("#path", Input).value = "shown.csv"
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "shown.csv").exists())
        # Everything shown, without filter: the formula-like title is kept inert.
        await pilot.press("space", "up", "space")  # clear the selection again
        app.screen.selected.clear()
        await pilot.press("slash")
        app.screen.query_one("#incident-filter", Input).value = "vpn"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(shown_numbers(app)) == 2 and not app.screen.busy)
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen.query("#path"))
        app.screen.query_one("#path", Input).value = "shown.csv"  # exists: refused
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "exists already" in str(app.screen.query_one("#path-error").visual)
        )
        app.screen.query_one("#path", Input).value = "vpn.csv"
        await pilot.press("enter")
        await wait_until(pilot, lambda: (tmp_path / "vpn.csv").exists())
    import csv

    with (tmp_path / "shown.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["number"] for r in rows] == sorted(newest_first)[:2]
    assert all(r["customer"] == "Müller GmbH" for r in rows)
    with (tmp_path / "vpn.csv").open(newline="", encoding="utf-8") as f:
        titles = [r["title"] for r in csv.DictReader(f)]
    assert titles and all(t.startswith("'=HYPERLINK") for t in titles)
