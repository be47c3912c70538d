"""Export a list as shown (its filter, sort and selection applied) to a CSV file: the path
is asked, an existing file is never overwritten, and a cell that would start a spreadsheet
formula is kept inert (`services.reports.export`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static

from cc_tui.dialogs.form import FormDialog, MessageLine


class ExportDialog(FormDialog[Path]):
    """Ask where to write; `write(path)` writes the rows. Closes with the path written."""

    FIELDS = ("path",)
    AUTO_FOCUS = "#path"
    BINDINGS: ClassVar = [*FormDialog.BINDINGS]

    def __init__(self, *, what: str, count: int, default: str, write: Callable[[Path], None]):
        super().__init__()
        self.what = what
        self.count = count
        self.default = default
        self.write = write

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Export {self.what} as CSV"), id="dialog-title")
            yield Static(
                Content(f"{self.count} row{'' if self.count == 1 else 's'}, as shown."),
                id="dialog-context",
            )
            yield Label(Content("File"), classes="field-label")
            yield Input(self.default, id="path", max_length=500)
            yield self.field_error("path")
            yield from self.buttons("Export")

    @on(Input.Submitted, "#path")
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        self.clear_errors()
        text = self.query_one("#path", Input).value.strip()
        error = self.query_one("#path-error", MessageLine)
        if not text:
            error.show("Give a file name.")
            return
        path = Path(text).expanduser()
        if path.exists():
            error.show(f"{path} exists already; choose another name.")
            return
        if not path.parent.is_dir():
            error.show(f"There is no folder {path.parent}.")
            return
        try:
            self.write(path)
        except OSError as problem:
            error.show(f"Not written: {problem.strerror or problem}")
            return
        self.dismiss(path)
