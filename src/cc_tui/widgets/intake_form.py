"""The intake form and its side panel (the caller's open incidents and unit).

Only the layout lives here; the Intake screen fills it and reads it. It is built when the
first call is taken, so the console's first frame does not wait for a form nobody has
used yet.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea

from cc_tui.dialogs.new_customer import FieldError
from cc_tui.widgets.caller_search import CallerSearch
from cc_tui.widgets.code_picker import CodePicker
from cc_tui.widgets.unit_panel import UnitPanel

# (key, heading, width): fixed widths, so the table never measures its cells.
EXISTING_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("number", "Number", 9),
    ("status", "Status", 11),
    ("title", "Title", 15),
)


def _row(name: str, label: str, *widgets: Widget, group: bool = False) -> ComposeResult:
    """A labelled line of the form and its error line; `group` starts a new block."""
    with Horizontal(id=f"row-{name}", classes="row -group" if group else "row"):
        yield Label(Content(label), id=f"label-{name}", classes="field-label")
        yield from widgets
    yield FieldError(id=f"{name}-error")


def _text_area(name: str) -> TextArea:
    return TextArea(id=name, soft_wrap=True, tab_behavior="focus", compact=True)


class IntakeForm(Horizontal):
    """Every field of a call, in `tab` order, and the side panel."""

    def compose(self) -> ComposeResult:
        # Not a tab stop itself: focusing a field scrolls it into view.
        with VerticalScroll(id="intake-form", can_focus=False):
            yield CallerSearch(id="caller")
            yield Static(Content(""), id="caller-card", classes="-empty")
            yield FieldError(id="caller-error")
            yield from _row(
                "title", "Title", Input(id="title", max_length=200, compact=True), group=True
            )
            yield from _row("description", "Description", _text_area("description"))
            yield from _row("question", "Question", _text_area("question"), group=True)
            yield from _row("answer", "Answer", _text_area("answer"))
            yield from _row(
                "reason",
                "Reason",
                CodePicker(id="reason-general", placeholder="general"),
                Label(Content(" / "), classes="joiner"),
                CodePicker(id="reason-specific", placeholder="specific"),
                group=True,
            )
            yield from _row("request-kind", "Request type", CodePicker(id="request-kind"))
            yield from _row(
                "problem", "Problem code", CodePicker(id="problem", placeholder="department/…/code")
            )
            yield from _row(
                "priority",
                "Priority",
                CodePicker(id="priority", max_length=20),
                Static(Content(""), id="priority-default"),
            )
            contact: Select[int] = Select(
                [], prompt="contact person", id="contact-person", compact=True
            )
            yield from _row("contact", "Contact", contact, group=True)
            yield from _row(
                "responsible",
                "Responsible",
                CodePicker(id="responsible", placeholder="agent login"),
                Label(Content("Close by"), classes="inline-label"),
                Input(id="close-by", placeholder="YYYY-MM-DD", max_length=10, compact=True),
            )
            yield FieldError(id="close-by-error")
            yield from _row("serial", "Serial", CodePicker(id="serial", max_length=80), group=True)
            yield FieldError(id="form-error")
            yield Static(Content(""), id="form-status")
        with Vertical(id="intake-side"):
            yield Static(Content("Open incidents"), id="existing-title", classes="side-title")
            table: DataTable[Text] = DataTable(id="existing", cursor_type="row", zebra_stripes=True)
            for key, heading, width in EXISTING_COLUMNS:
                table.add_column(heading, width=width, key=key)
            yield table
            yield Static(Content(""), id="existing-summary")
            yield Static(Content("Unit"), classes="side-title")
            yield UnitPanel(Content(""), id="unit-panel")
