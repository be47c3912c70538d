"""Importing history from the Reports mode (`i`), then the imported incidents in the
Incident mode's list and on the incident screen (Pilot)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import DataTable, Input

from cc_tui.services.context import bootstrap_admin
from tests.factories import fake_clock
from tests.servicenow_export import generate
from tests.tui.conftest import SIZE, console, signed_in, wait_until
from tests.tui.test_incident_screen import shown_text, summary_text

pytestmark = pytest.mark.tui

NOW = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)


async def test_import_from_the_reports_mode_and_see_the_incidents(sqlite_db, monkeypatch, tmp_path):
    from cc_tui.dialogs.history_import import ImportHistoryDialog
    from cc_tui.screens.incident_detail import IncidentDetailScreen, OpenIncident
    from cc_tui.screens.reports import ReportsScreen

    fake_clock(monkeypatch, NOW)
    with sqlite_db.session() as s:
        bootstrap_admin(s, "admin")
    export = generate(25, bad_every=10, agents=3, callers=4, start=datetime(2026, 2, 1), days=28)
    path = tmp_path / "history.csv"
    path.write_text(export.text, encoding="utf-8")
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, ReportsScreen))
        reports = app.screen
        await wait_until(pilot, lambda: reports.report is not None and not reports.busy)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportHistoryDialog))
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(path)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog.result is not None)
        summary = str(dialog.query_one("#import-summary").render())
        assert summary.startswith("25 rows: 23 imported, 0 already there, 2 bad")
        assert "line 11 INC0010010: opened_at 'yesterday at noon' is not a date" in summary
        await pilot.press("ctrl+s")  # Close
        await wait_until(pilot, lambda: app.screen is reports)
        # The report ran again over the new data.
        await wait_until(pilot, lambda: not reports.busy)

        # The Incident mode lists them; the incident screen shows where one came from.
        await pilot.press("f3")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReportsScreen))
        listing = app.screen
        table = listing.query_one("#incident-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 23)
        first = export.good[-1]
        listing.post_message(OpenIncident(23))
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, IncidentDetailScreen) and app.screen.view is not None,
        )
        detail = app.screen
        await wait_until(pilot, lambda: f"imported from {first['number']}" in shown_text(detail))
        assert summary_text(detail).startswith("INC-23")
        assert first["short_description"] in summary_text(detail)


async def test_a_file_that_cannot_be_read_is_said_at_the_field(sqlite_db, tmp_path):
    from cc_tui.dialogs.history_import import ImportHistoryDialog

    with sqlite_db.session() as s:
        bootstrap_admin(s, "admin")
    app = console(sqlite_db, mode="reports")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await wait_until(pilot, lambda: getattr(app.screen, "report", None) is not None)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ImportHistoryDialog))
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(tmp_path / "missing.csv")
        await pilot.press("ctrl+s")
        error = dialog.query_one("#path-error")
        await wait_until(pilot, lambda: "cannot read" in str(error.render()))
        assert dialog.result is None
