"""The console while it starts, and the dialog shown when it cannot: the database is
unreachable, too new or broken, or the agent is not known to it (the domain error's
message, never a traceback)."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Static

from cc_tui.errors import CcError, NotFound, RuleViolation, Unavailable, UsageError
from cc_tui.screens.base import ConsoleScreen


class StartingScreen(ConsoleScreen):
    """The first frame: header, mode tabs and footer, painted before the start mode's
    screen is built and while the database opens."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.MODE = mode  # the tab to highlight

    def compose_body(self) -> Iterable[Widget]:
        yield Static(Content("Starting…"), id="starting")


def heading(error: CcError) -> str:
    if isinstance(error, Unavailable):
        return "The database is unavailable"
    if isinstance(error, NotFound | RuleViolation):
        return "You cannot sign in"
    if isinstance(error, UsageError):
        return "The settings are not usable"
    return "Something went wrong"


class StartupErrorScreen(ModalScreen[str]):
    """Dismissed with "retry" or "quit"."""

    # Declared, not queried in on_mount: a console closing while the dialog mounts has no
    # buttons left to focus.
    AUTO_FOCUS = "#quit"
    BINDINGS = [
        Binding("r", "choose('retry')", "Retry", id="startup.retry"),
        Binding("q", "choose('quit')", "Quit", id="startup.quit"),
    ]

    def __init__(self, error: CcError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="startup-dialog"):
            yield Static(Content("cc-tui cannot start"), id="startup-heading")
            yield Static(Content(heading(self.error)), id="startup-kind")
            yield Static(Content(self.error.message), id="startup-message")
            yield Static(
                Content("r: try again (e.g. once the server is back)   q or ctrl+q: quit"),
                id="startup-hint",
            )
            with Horizontal(id="startup-buttons"):
                yield Button("Try again", id="retry", variant="primary")
                yield Button("Quit", id="quit", variant="error")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
