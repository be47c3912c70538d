"""Dialogs of the incident screen: add (or correct) an event, solve, close.

Each dialog calls its service itself, in a thread worker. A refusal is shown next to the
field the service named (or above the buttons), and the dialog stays open with everything
typed, so nothing is lost; on success it closes with the service's result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from cc_tui.console.calls import call_service, connected, error_message
from cc_tui.dialogs.form import FormDialog, MessageLine
from cc_tui.errors import Conflict
from cc_tui.statuses import status_name

if TYPE_CHECKING:
    from cc_tui.models import Incident
    from cc_tui.services.directory.codes import CodeInfo
    from cc_tui.services.directory.event_types import EventTypeInfo
    from cc_tui.services.incidents.timeline import TimelineEntry


def _text(area: TextArea) -> str:
    return area.text.strip()


class EventDialog(FormDialog[Any]):
    """Add an event (type, text, optional duration), or a correction of one."""

    FIELDS = ("type", "text", "minutes")
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"corrects": "text", "contact": "text"}
    # The type first: enter there opens its list (it never adds a line to the text); tab
    # goes on to the text, ctrl+s saves from anywhere.
    AUTO_FOCUS = "#type"

    def __init__(
        self,
        *,
        incident_id: int,
        number: str,
        types: Iterable[EventTypeInfo],
        corrects: TimelineEntry | None = None,
        default_type: str = "Note",
    ) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.types = list(types)
        self.corrects = corrects
        codes = [t.code for t in self.types]
        if corrects is not None and corrects.type in codes:
            default_type = corrects.type
        self.default_type: str | None = (
            default_type if default_type in codes else (codes[0] if codes else None)
        )

    def compose(self) -> ComposeResult:
        title = (
            f"Correct event #{self.corrects.id} of {self.number}"
            if self.corrects
            else f"Add an event to {self.number}"
        )
        with VerticalScroll(id="dialog"):
            yield Static(Content(title), id="dialog-title")
            if self.corrects is not None:
                yield Static(
                    Content.assemble(
                        "The original stays in the timeline; this event refers to it:\n",
                        (self.corrects.text or "(no text)", "italic"),
                    ),
                    id="dialog-context",
                )
            yield Label(Content("Type"), classes="field-label")
            yield Select(
                [(Content(f"{t.name} ({t.code})"), t.code) for t in self.types],
                value=self.default_type if self.default_type else Select.BLANK,
                allow_blank=not self.types,
                id="type",
            )
            yield self.field_error("type")
            yield Label(Content("Text"), classes="field-label")
            yield TextArea(id="text", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("text")
            yield Label(Content("Duration in minutes (optional)"), classes="field-label")
            yield Input(id="minutes", type="integer", max_length=4, placeholder="e.g. 5")
            yield self.field_error("minutes")
            yield from self.buttons("Add event")

    def action_save(self) -> None:
        select = self.query_one("#type", Select)
        type_code = select.value if isinstance(select.value, str) else ""
        text = self.query_one("#text", TextArea).text
        raw = self.query_one("#minutes", Input).value.strip()
        minutes = int(raw) if raw else None
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.incidents.timeline import add_event_to_incident

        self.run(
            add_event_to_incident,
            actor=connection.actor,
            ref=self.incident_id,
            type_code=type_code,
            text=text,
            duration_minutes=minutes,
            corrects_id=self.corrects.id if self.corrects else None,
        )


class IncidentChangeDialog(FormDialog[Any]):
    """A dialog that changes the incident as of the version it opened with. When someone
    changed it since (a conflict), ctrl+r reloads the incident's version and keeps what was
    typed; the next ctrl+s saves against the reloaded version."""

    BINDINGS: ClassVar = [
        *FormDialog.BINDINGS,
        Binding("ctrl+r", "reload", "Reload the incident", priority=True),
    ]
    incident_id: int
    version: int

    def show_error(self, error: BaseException) -> None:
        if not isinstance(error, Conflict):
            super().show_error(error)
            return
        self.saving = False
        self.query_one("#form-error", MessageLine).show(
            Content.assemble(
                error_message(error),
                " — ",
                ("ctrl+r", "bold"),
                " reloads the incident; what you typed stays.",
            )
        )

    def action_reload(self) -> None:
        from cc_tui.services.incidents.base import get_incident

        call_service(self, get_incident, self._reloaded, self.show_error, ref=self.incident_id)

    def _reloaded(self, incident: Incident) -> None:
        self.version = incident.version
        self.reloaded(incident.status)
        self.query_one("#form-error", MessageLine).show(
            Content(f"Reloaded: version {self.version}. Check, then save again.")
        )

    def reloaded(self, status: str) -> None:
        """What a dialog shows of the reloaded incident besides its version."""

    def change_status(self, to: str, **fields: Any) -> None:
        """Ask the lifecycle for `to` as of the version this dialog holds."""
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.incidents.lifecycle import change_status

        self.run(
            change_status,
            actor=connection.actor,
            ref=self.incident_id,
            to=to,
            expected_version=self.version,
            **fields,
        )


class SolveDialog(IncidentChangeDialog):
    """Solved needs the actual problem, the actual solution and GENERAL/SPECIFIC
    resolution codes: the service says which is missing, shown at that field."""

    FIELDS = ("problem", "solution", "resolution")
    AUTO_FOCUS = "#problem"

    def __init__(
        self,
        *,
        incident_id: int,
        number: str,
        version: int,
        problem: str | None = None,
        solution: str | None = None,
        resolution: str | None = None,
    ) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.version = version
        self.initial = (problem or "", solution or "", resolution or "")

    def compose(self) -> ComposeResult:
        problem, solution, resolution = self.initial
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Solve {self.number}"), id="dialog-title")
            yield Label(Content("Actual problem"), classes="field-label")
            yield TextArea(problem, id="problem", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("problem")
            yield Label(Content("Actual solution"), classes="field-label")
            yield TextArea(solution, id="solution", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("solution")
            yield Label(Content("Resolution code (GENERAL/SPECIFIC)"), classes="field-label")
            yield Input(resolution, id="resolution", placeholder="e.g. FIX/REPLACED")
            yield self.field_error("resolution")
            yield from self.buttons("Solve")

    def on_mount(self) -> None:
        from cc_tui.services.directory.codes import list_codes

        call_service(self, list_codes, self._suggest, lambda _e: None, kind="resolution")

    def _suggest(self, codes: list[CodeInfo]) -> None:
        paths = [c.path for c in codes if "/" in c.path]
        self.query_one("#resolution", Input).suggester = SuggestFromList(
            paths, case_sensitive=False
        )

    def action_save(self) -> None:
        problem = _text(self.query_one("#problem", TextArea))
        solution = _text(self.query_one("#solution", TextArea))
        resolution = self.query_one("#resolution", Input).value.strip()
        self.change_status(
            "solved",
            problem=problem or None,
            solution=solution or None,
            resolution=resolution or None,
        )


class CloseDialog(IncidentChangeDialog):
    """Close as accepted by the customer, or as a coordinator (supervisors)."""

    FIELDS = ("note",)
    AUTO_FOCUS = "#accepted"
    BINDINGS: ClassVar = [
        *IncidentChangeDialog.BINDINGS,
        Binding("a", "close(False)", "Customer accepted", show=False),
        Binding("k", "close(True)", "As coordinator", show=False),
    ]

    def __init__(self, *, incident_id: int, number: str, version: int, status: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.version = version
        self.status = status

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Close {self.number}"), id="dialog-title")
            yield Static(self._status_text(), id="dialog-context")
            yield Label(Content("Note for the timeline (optional)"), classes="field-label")
            yield Input(id="note", placeholder="why")
            yield self.field_error("note")
            yield MessageLine(id="form-error")
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(Content("As coordinator (k)"), id="coordinator")
                yield Button(Content("Customer accepted (a)"), id="accepted", variant="primary")
            yield Static(
                Content("a: customer accepted · k: as coordinator · esc cancels"),
                id="dialog-hint",
            )

    def _status_text(self) -> Content:
        return Content(
            f"Status: {status_name(self.status)}. A solved incident closes when the "
            "customer accepts the solution; a coordinator can close it at any time."
        )

    def reloaded(self, status: str) -> None:
        self.status = status
        self.query_one("#dialog-context", Static).update(self._status_text())

    def action_save(self) -> None:
        self.action_close(False)

    def action_close(self, coordinator: bool) -> None:
        note = self.query_one("#note", Input).value.strip() or None
        self.change_status(
            "closed",
            accepted=None if coordinator else True,
            coordinator=coordinator,
            note=note,
        )

    @on(Button.Pressed, "#accepted")
    def _accepted(self) -> None:
        self.action_close(False)

    @on(Button.Pressed, "#coordinator")
    def _coordinator(self) -> None:
        self.action_close(True)


class AddCallDialog(FormDialog[Any]):
    """Add the call in progress to the open incident chosen before: what the caller said
    becomes an event on it (the call's contact is linked to it, not listed on its own).
    A refusal keeps the dialog open with the text; escape goes back to the call with the
    incident still chosen."""

    FIELDS = ("text",)
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"contact": "text"}
    AUTO_FOCUS = "#text"

    def __init__(self, *, number: str, title: str | None, text: str, arguments: dict[str, Any]):
        super().__init__()
        self.number = number
        self.incident_title = title
        self.initial_text = text
        # add_call_to_incident's arguments but the text: who, the contact, the channel.
        self.arguments = arguments

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Add this call to {self.number}"), id="dialog-title")
            if self.incident_title:
                yield Static(Content(self.incident_title), id="dialog-context")
            yield Label(Content("What the caller said"), classes="field-label")
            yield TextArea(self.initial_text, id="text", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("text")
            yield from self.buttons(f"Add to {self.number}")

    def on_mount(self) -> None:
        super().on_mount()
        area = self.query_one("#text", TextArea)
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        from cc_tui.services.incidents.intake import add_call_to_incident

        self.run(
            add_call_to_incident,
            text=self.query_one("#text", TextArea).text,
            **self.arguments,
        )
