"""The frame around every mode screen: who is at the console, which database, which modes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from cc_tui.screens import MODES, Mode

if TYPE_CHECKING:
    from cc_tui.tui_support import Connection


def identity_text(connection: Connection) -> str:
    actor = connection.actor
    if actor.name and actor.name != actor.login:
        return f"{actor.login} · {actor.name} · {actor.role}"
    return f"{actor.login} · {actor.role}"


def database_text(connection: Connection) -> str:
    db = connection.db
    kind = "SQLite" if db.is_sqlite else "PostgreSQL"
    return f"{kind} {db.describe()}"


class ConsoleHeader(Horizontal):
    """One line: the product, the agent (login, name, role) and the database in use."""

    DEFAULT_CSS = """
    ConsoleHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    ConsoleHeader > #header-app {
        width: auto;
        padding: 0 1;
        text-style: bold;
        color: $accent;
    }
    ConsoleHeader > #header-identity {
        width: 1fr;
        padding: 0 1;
        text-overflow: ellipsis;
        text-wrap: nowrap;
    }
    ConsoleHeader > #header-database {
        width: auto;
        max-width: 60%;
        padding: 0 1;
        color: $text-muted;
        text-overflow: ellipsis;
        text-wrap: nowrap;
    }
    ConsoleHeader.-failed > #header-database {
        color: $error;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(Content("cc-tui"), id="header-app")
        yield Static(id="header-identity")
        yield Static(id="header-database")

    def on_mount(self) -> None:
        self.app.connection_signal.subscribe(self, self._show)  # type: ignore[attr-defined]
        self._show(self.app.connection)  # type: ignore[attr-defined]

    def _show(self, connection: Connection | None) -> None:
        identity = self.query_one("#header-identity", Static)
        database = self.query_one("#header-database", Static)
        failed = getattr(self.app, "startup_error", None) is not None
        self.set_class(failed and connection is None, "-failed")
        if connection is not None:
            identity.update(Content(identity_text(connection)))
            database.update(Content(database_text(connection)))
            return
        login = self.app.settings.login  # type: ignore[attr-defined]
        if failed:
            identity.update(Content(f"{login} · not signed in"))
            database.update(Content("database not open"))
        else:
            identity.update(Content(f"{login} · signing in…"))
            database.update(Content("opening the database…"))


class ModeTab(Static):
    """One mode's name with its key; a click switches to it."""

    def __init__(self, mode: Mode, key: str, *, active: bool) -> None:
        super().__init__(
            Content.assemble((key, "bold"), " ", mode.label),
            id=f"tab-{mode.name}",
            classes="-active" if active else "",
        )
        self.mode = mode
        self.tooltip = mode.help

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.app.switch_mode(self.mode.name)


class ModeTabs(Horizontal):
    """The console's modes and their keys; the current one highlighted."""

    DEFAULT_CSS = """
    ModeTabs {
        height: 1;
        background: $boost;
    }
    ModeTabs > ModeTab {
        width: auto;
        padding: 0 1;
        margin-right: 1;
        color: $text-muted;
    }
    ModeTabs > ModeTab:hover {
        color: $foreground;
        background: $panel;
    }
    ModeTabs > ModeTab.-active {
        color: $foreground;
        background: $primary-muted;
        text-style: bold;
    }
    """

    def __init__(self, active: str | None) -> None:
        super().__init__()
        self.active = active

    def compose(self) -> ComposeResult:
        for mode in MODES:
            key = self.app.key_display(mode.binding_id, mode.key)  # type: ignore[attr-defined]
            yield ModeTab(mode, key, active=mode.name == self.active)
