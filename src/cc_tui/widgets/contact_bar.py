"""The line above the intake form: the call's progress, its channel and request type."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from textual import getters

    from cc_tui.console.app import CcTuiApp

CHANNELS: tuple[tuple[str, str], ...] = (
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("fax", "Fax"),
    ("web", "Web"),
    ("walk-in", "Walk-in"),
    ("cti", "CTI"),
)
REQUEST_TYPES: tuple[tuple[str, str], ...] = (
    ("action", "Action"),
    ("information", "Information"),
    ("comment", "Comment"),
)


class CallProgress(Enum):
    """Where the call at the Intake screen is."""

    # No call: the next one is taken with the intake key.
    IDLE = "idle"
    # A call was taken; its contact is being recorded.
    RECORDING = "recording"
    # Save was pressed while the contact was being recorded: it saves once it is.
    SAVE_WHEN_RECORDED = "save-when-recorded"
    # In the call: the contact is recorded (or the database was away; saving records it).
    IN_CALL = "in-call"
    # Saving, adding to an open incident or ending the call: one at a time.
    SAVING = "saving"

    @property
    def in_call(self) -> bool:
        return self is not CallProgress.IDLE

    @property
    def recording(self) -> bool:
        return self in (CallProgress.RECORDING, CallProgress.SAVE_WHEN_RECORDED)


# Below this width the bar drops its words ("Channel", "Type", "(this call)") so that every
# request type and its key stay on the line (80 columns included).
NARROW_WIDTH = 100


class ContactBar(Horizontal):
    """Shows what the screen says; owns no state of the call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._call: tuple[CallProgress, str | None, str] | None = None
        self._type: str | None = None

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.narrow:
            self.set_class(narrow, "-narrow")
            if self._call is not None:
                self.show_call(*self._call)
            if self._type is not None:
                self.show_type(self._type)

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="contact-state")
        yield Static(Content(""), id="contact-channel")
        yield Static(Content(""), id="contact-type")

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    def show_call(self, progress: CallProgress, number: str | None, channel: str) -> None:
        """The progress (and the contact's number once recorded) and the channel."""
        self._call = (progress, number, channel)
        state = self.query_one("#contact-state", Static)
        if not progress.in_call:
            key = self._key("mode.intake", "f2")
            state.update(Content.assemble(("○ No call", "dim"), f" · {key} takes one"))
        elif number is not None:
            state.update(Content.assemble(("● Call ", "bold $success"), (number, "bold")))
        elif progress.recording:
            state.update(Content.assemble(("● Call ", "bold $success"), "recording…"))
        else:
            state.update(Content.assemble(("● Call ", "bold $warning"), "not recorded yet"))
        label = dict(CHANNELS)[channel]
        key = self._key("intake.channel", "ctrl+l")
        fixed = " (this call)" if progress.in_call and not self.narrow else ""
        word = "" if self.narrow else "Channel "
        self.query_one("#contact-channel", Static).update(
            Content.assemble((word, "dim"), (label, "bold"), (f"{fixed}  {key}", "dim"))
        )

    def show_type(self, request_type: str) -> None:
        self._type = request_type
        key = self._key("intake.type", "ctrl+t")
        parts: list[Content | tuple[str, str] | str] = [("" if self.narrow else "Type ", "dim")]
        for value, label in REQUEST_TYPES:
            if value == request_type:
                parts.append((f" {label} ", "bold reverse"))
            else:
                parts.append((f" {label} ", "dim"))
        parts.append((f"  {key}", "dim"))
        self.query_one("#contact-type", Static).update(Content.assemble(*parts))
