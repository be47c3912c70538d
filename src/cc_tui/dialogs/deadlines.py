"""Deadlines by hand (supervisors): the five clocks of one incident typed in the agent's
zone, kept from then on; or back to the deadlines the rules compute.

The dialog calls `services.deadlines.set_deadlines` in a thread worker with the version the
incident screen read. A time that cannot be read is shown at its field before anything is
sent; the service's refusals (not a supervisor, a stale version, a closed incident) are
shown above the buttons. The dialog stays open with everything typed until it succeeds.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from cc_tui.console.calls import connected
from cc_tui.console.local_time import TIME_EXAMPLE, local_time, parse_local_time, zone_name
from cc_tui.dialogs.form import FormDialog, MessageLine
from cc_tui.errors import UsageError
from cc_tui.widgets.escalation_badge import DEADLINE_NAMES

if TYPE_CHECKING:
    from datetime import datetime

    from cc_tui.services.sla.deadlines import DeadlineView

DEADLINES = tuple(DEADLINE_NAMES)

DEADLINE_DIALOG_CSS = """
DeadlinesDialog .deadline-row {
    height: 1;
    margin-top: 1;
}
DeadlinesDialog .deadline-row Label {
    width: 14;
    color: $text-muted;
}
DeadlinesDialog .deadline-row Input {
    width: 20;
}
DeadlinesDialog .deadline-row .computed {
    width: 1fr;
    padding-left: 2;
    color: $text-muted;
}
DeadlinesDialog .field-error {
    padding-left: 14;
}
"""


class DeadlinesDialog(FormDialog[Any]):
    """Set an incident's deadlines by hand, or return to the computed ones."""

    DEFAULT_CSS = FormDialog.DEFAULT_CSS + DEADLINE_DIALOG_CSS
    FIELDS = DEADLINES
    AUTO_FOCUS = "#response_due"
    BINDINGS: ClassVar = [
        *FormDialog.BINDINGS,
        Binding("ctrl+r", "computed", "Back to computed", priority=True),
    ]

    def __init__(
        self,
        *,
        incident_id: int,
        number: str,
        version: int,
        view: DeadlineView,
        zone: tzinfo | None,
    ) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.version = version
        self.view = view
        self.zone = zone
        # What the fields start with: only fields changed from these are sent.
        self.initial = {name: local_time(view.deadlines.get(name), zone) for name in DEADLINES}

    def compose(self) -> ComposeResult:
        now = "set by hand" if self.view.manual else "computed by the rules"
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Deadlines of {self.number} by hand"), id="dialog-title")
            yield Static(
                Content(
                    f"Its deadlines are {now}. Times in {zone_name(self.zone)}, "
                    f"e.g. {TIME_EXAMPLE}; empty means none. Deadlines set by hand are kept "
                    "when the priority, contract or calendar changes."
                ),
                id="dialog-context",
            )
            for name, label in DEADLINE_NAMES.items():
                computed = local_time(self.view.plan.deadlines.get(name), self.zone) or "none"
                with Horizontal(classes="deadline-row"):
                    yield Label(Content(label))
                    yield Input(
                        self.initial[name], id=name, placeholder="none", max_length=24, compact=True
                    )
                    yield Static(Content(f"computed {computed}"), classes="computed")
                yield self.field_error(name)
            yield MessageLine(id="form-error")
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(Content("Back to computed"), id="computed")
                yield Button(Content("Set by hand"), id="save", variant="primary")
            yield Static(
                Content("ctrl+s sets by hand · ctrl+r back to computed · esc cancels"),
                id="dialog-hint",
            )

    def changed(self) -> dict[str, datetime | None] | None:
        """The fields typed differently from what they showed, read as UTC times; None
        (and each problem shown at its field) when one cannot be read."""
        given: dict[str, datetime | None] = {}
        wrong: list[str] = []
        for name in DEADLINES:
            text = self.query_one(f"#{name}", Input).value.strip()
            if text == self.initial[name]:
                continue
            try:
                given[name] = parse_local_time(text, self.zone)
            except UsageError as error:
                self.query_one(f"#{name}-error", MessageLine).show(Content(error.message))
                wrong.append(name)
        if wrong:
            self.query_one(f"#{wrong[0]}", Input).focus()
            return None
        return given

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        given = self.changed()
        if given is None:
            return
        if not given:
            self.query_one("#form-error", MessageLine).show(
                "Nothing changed: type a new time (or empty a field), "
                "or ctrl+r to go back to the computed deadlines."
            )
            return
        self._send(given, automatic=False)

    def action_computed(self) -> None:
        self._send({}, automatic=True)

    def _send(self, given: dict[str, datetime | None], *, automatic: bool) -> None:
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.sla.deadlines import set_deadlines

        self.run(
            set_deadlines,
            actor=connection.actor,
            ref=self.incident_id,
            expected_version=self.version,
            automatic=automatic,
            **given,
        )

    @on(Button.Pressed, "#computed")
    def _computed_pressed(self) -> None:
        self.action_computed()
