"""Import a closed incident history from a CSV export (the Reports screen's `i`).

The import is several transactions (names first, then chunks of incidents), so it runs in a
thread worker of its own with the open database, not as one service call; its progress
moves the bar, and the summary (with the first bad rows and their reasons) stays in the
dialog until it is closed. Admins only: the service refuses anyone else.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, ProgressBar, Static

from cc_tui.console.calls import connected, error_message
from cc_tui.console.local_time import display_zone
from cc_tui.dialogs.form import FormDialog, MessageLine

if TYPE_CHECKING:
    from cc_tui.services.importing.incidents import ImportResult

SHOWN_BAD = 5  # bad rows listed in the dialog; the command line lists them all

IMPORT_CSS = """
ImportHistoryDialog #import-progress { margin-top: 1; display: none; }
ImportHistoryDialog #import-progress.-running { display: block; }
ImportHistoryDialog #import-summary { margin-top: 1; height: auto; }
ImportHistoryDialog #import-summary.-empty { display: none; }
"""


class ImportHistoryDialog(FormDialog["ImportResult | None"]):
    """A CSV file's path; ctrl+s imports it, then closes the dialog."""

    DEFAULT_CSS = FormDialog.DEFAULT_CSS + IMPORT_CSS
    AUTO_FOCUS = "#path"
    FIELDS = ("path",)
    FIELD_ALIASES = {"file": "path", "map": "path"}

    def __init__(self) -> None:
        super().__init__()
        self.result: ImportResult | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content("Import incident history"), id="dialog-title")
            yield Static(
                Content(
                    "A CSV export of closed incidents (ServiceNow columns: number, opened_at, "
                    "resolved_at, closed_at, state, priority, category, ...). Rows imported "
                    "before are skipped."
                ),
                id="dialog-context",
            )
            yield Label(Content("File"))
            yield Input(placeholder="/path/to/incidents.csv", id="path")
            yield self.field_error("path")
            yield ProgressBar(id="import-progress", show_eta=True)
            yield MessageLine(id="import-summary")
            yield from self.buttons("Import")

    def action_save(self) -> None:
        if self.result is not None:
            self.dismiss(self.result)
            return
        if self.saving:
            return
        path = self.query_one("#path", Input).value.strip()
        if not path:
            self.query_one("#path-error", MessageLine).show("the CSV file to import")
            return
        connection = connected(self)
        if connection is None:
            return
        self.saving = True
        self.clear_errors()
        self.query_one("#import-progress", ProgressBar).add_class("-running")
        self.query_one("#import-summary", MessageLine).show("reading the file…")
        zone = display_zone(connection.settings)
        app = self.app

        def progress(done: int, total: int) -> None:
            with contextlib.suppress(RuntimeError):  # the console is closing
                app.call_from_thread(self._progress, done, total)

        def body() -> None:
            from cc_tui.services.importing.incidents import import_incidents

            try:
                result = import_incidents(
                    connection.db,
                    actor=connection.actor,
                    path=path,
                    zone=zone,
                    progress=progress,
                )
            except Exception as error:
                with contextlib.suppress(RuntimeError):
                    app.call_from_thread(self._failed, error)
                return
            with contextlib.suppress(RuntimeError):
                app.call_from_thread(self._done, result)

        self.run_worker(body, name="import history", group="import", thread=True)

    def _progress(self, done: int, total: int) -> None:
        if not self.is_attached:
            return
        self.query_one("#import-progress", ProgressBar).update(total=total, progress=done)
        self.query_one("#import-summary", MessageLine).show(f"importing: {done} of {total} rows")

    def _failed(self, error: BaseException) -> None:
        if not self.is_attached:
            return
        self.query_one("#import-summary", MessageLine).show("")
        if not isinstance(error, Exception):
            error = RuntimeError(error_message(error))
        self.show_error(error)

    def _done(self, result: ImportResult) -> None:
        if not self.is_attached:
            return
        self.saving = False
        self.result = result
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(bar.total or 0, 1), progress=max(bar.total or 0, 1))
        self.query_one("#import-summary", MessageLine).show(summary_text(result))
        save = self.query_one("#save", Button)
        save.label = Content("Close")
        save.focus()


def summary_text(result: ImportResult) -> str:
    created = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.created.items() if n)
    lines = [
        f"{result.rows} rows: {result.imported} imported, {result.skipped_existing} already "
        f"there, {len(result.bad)} bad"
        + (f" (read as {result.encoding})" if result.encoding != "utf-8" else ""),
    ]
    if created:
        lines.append(f"created: {created}")
    for bad in result.bad[:SHOWN_BAD]:
        lines.append(f"line {bad.line} {bad.number or ''}: {bad.reason}")
    if len(result.bad) > SHOWN_BAD:
        lines.append(f"… {len(result.bad) - SHOWN_BAD} more (cc-tui import incidents lists all)")
    return "\n".join(lines)
