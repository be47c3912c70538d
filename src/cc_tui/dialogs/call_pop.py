"""The screen pop: a call rings for the agent at this console. `enter` takes it (intake
opens with the contact recorded and the caller identified), `escape` lets it ring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from cc_tui.services.cti.calls import CallPop


def pop_text(pop: CallPop) -> Content:
    """Who is calling, what is open for them, and any block or warning."""
    parts: list[str | tuple[str, str]] = [(pop.number or "unknown number", "bold")]
    if pop.customer_name:
        parts += ["\n", pop.customer_name]
        if pop.contact_name:
            parts += [f" ({pop.contact_name})"]
        parts += [f"\nopen incidents: {pop.open_incidents}"]
    else:
        parts += ["\n", ("caller not known", "dim")]
    if pop.block_level:
        style = "$error" if pop.block_level == "block" else "$warning"
        reason = f": {pop.block_reason}" if pop.block_reason else ""
        parts += ["\n", (f"{pop.block_level.upper()}{reason}", f"bold {style}")]
    return Content.assemble(*parts)


class CallPopDialog(ModalScreen[bool]):
    """Dismisses with True (take the call) or False (leave it ringing)."""

    DEFAULT_CSS = """
    CallPopDialog {
        align: right top;
        background: $background 30%;
    }
    CallPopDialog > #call-pop {
        width: 48;
        height: auto;
        margin: 2 2;
        padding: 1 2;
        border: thick $accent;
        background: $surface;
    }
    CallPopDialog #call-pop-title {
        text-style: bold;
    }
    CallPopDialog #call-pop-keys {
        margin-top: 1;
        color: $text-muted;
    }
    """

    BINDINGS = [
        Binding("enter", "answer(True)", "Take the call", id="call_pop.take"),
        Binding("escape", "answer(False)", "Let it ring", id="call_pop.dismiss"),
    ]

    def __init__(self, pop: CallPop) -> None:
        super().__init__()
        self.pop = pop

    def compose(self) -> ComposeResult:
        with Vertical(id="call-pop"):
            yield Static(Content("Incoming call"), id="call-pop-title")
            yield Static(pop_text(self.pop), id="call-pop-text")
            yield Static(Content("enter: take it   escape: let it ring"), id="call-pop-keys")

    def action_answer(self, take: bool) -> None:
        self.dismiss(take)
