"""The frame around every mode screen: who is at the console, which database, which modes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from cc_tui.console.modes import MODES, Mode

if TYPE_CHECKING:
    from textual import getters

    from cc_tui.console.app import CcTuiApp
    from cc_tui.console.calls import Connection


def identity_text(connection: Connection, *, name: bool = True) -> str:
    actor = connection.actor
    # An admin acting for another agent: "katrin as jonas".
    login = f"{actor.acted_by} as {actor.login}" if actor.acted_by else actor.login
    if name and actor.name and actor.name != actor.login:
        return f"{login} · {actor.name} · {actor.role}"
    return f"{login} · {actor.role}"


class IdentityText(Static):
    """Who is signed in; where the line is too short for all of it, without the name, so
    that the role is never the part cut off."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts = ("", "")

    def show(self, full: str, short: str | None = None) -> None:
        self._texts = (full, full if short is None else short)
        self._fit()

    def on_resize(self, _event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        full, short = self._texts
        room = self.content_region.width
        self.update(Content(short if room and len(full) > room else full))


def database_text(connection: Connection) -> str:
    db = connection.db
    kind = "SQLite" if db.is_sqlite else "PostgreSQL"
    return f"{kind} {db.describe()}"


class ConsoleHeader(Horizontal):
    """One line: the product, the agent (login, name, role) and the database in use."""

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

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
        yield IdentityText(id="header-identity")
        yield Static(id="header-database")

    def on_mount(self) -> None:
        self.app.connection_signal.subscribe(self, self._show)
        self.app.health_signal.subscribe(self, lambda _since: self._show(self.app.connection))
        self._show(self.app.connection)

    def _show(self, connection: Connection | None) -> None:
        identity = self.query_one("#header-identity", IdentityText)
        database = self.query_one("#header-database", Static)
        failed = getattr(self.app, "startup_error", None) is not None
        offline = self.app.offline_text() if connection is not None else None
        self.set_class((failed and connection is None) or offline is not None, "-failed")
        if connection is not None:
            identity.show(identity_text(connection), identity_text(connection, name=False))
            shown = database_text(connection)
            database.update(Content(f"{shown} · {offline}" if offline else shown))
            return
        settings = self.app.settings
        who = f"{settings.login} · " if settings is not None else ""
        if failed:
            identity.show(f"{who}not signed in")
            database.update(Content("database not open"))
        else:
            identity.show(f"{who}signing in…")
            database.update(Content("opening the database…"))


class ModeTab(Static):
    """One mode's name with its key; a click switches to it."""

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

    def __init__(self, mode: Mode, *, active: bool) -> None:
        super().__init__(id=f"tab-{mode.name}", classes="-active" if active else "")
        self.mode = mode
        self.tooltip = mode.help
        # "full", "short" (KB, Orders) or "key" (the key alone; the active tab keeps its name).
        self.fit = "full"

    def words(self, fit: str) -> str:
        key = self.app.key_display(self.mode.binding_id, self.mode.key)
        if fit == "key" and not self.has_class("-active"):
            return key
        label = self.mode.short or self.mode.label if fit != "full" else self.mode.label
        return f"{key} {label}"

    def show_key(self) -> None:
        key, _, label = self.words(self.fit).partition(" ")
        self.update(Content.assemble((key, "bold"), " " if label else "", label))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.app.switch_mode(self.mode.name)


class ModeTabs(Horizontal):
    """The console's modes and their keys; the current one highlighted."""

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

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
            yield ModeTab(mode, active=mode.name == self.active)

    def on_mount(self) -> None:
        # The agent's keymap may arrive with the settings, after the first paint.
        self.app.connection_signal.subscribe(self, self._show_keys)
        self._show_keys()

    def on_resize(self, event: events.Resize) -> None:
        self._show_keys()

    def _show_keys(self, _connection: object = None) -> None:
        """The longest labels that fit on the line: full, short, or keys alone."""
        tabs = list(self.query(ModeTab))
        width = self.size.width or 80
        fit = "key"
        for candidate in ("full", "short"):
            # Each tab: its words, one cell of padding either side and a margin of one.
            if sum(len(tab.words(candidate)) + 3 for tab in tabs) <= width:
                fit = candidate
                break
        for tab in tabs:
            tab.fit = fit
            tab.show_key()


# The palette's key at the right end (`^p Commands`, its border and padding).
PALETTE_WIDTH = 14


class ConsoleFooter(Footer):
    """Textual's footer, never cut off: on a narrow terminal it goes compact, then shows the
    screen's first keys only (`?` lists them all)."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        yield from self.fitted(widgets, self.size.width or self.app.size.width)

    def fitted(self, widgets: list[Widget], width: int) -> Iterable[Widget]:
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        plain = [k for k in keys if not k.has_class("-command-palette")]
        room = width - (PALETTE_WIDTH if len(plain) < len(keys) else 0)

        def need(items: list[FooterKey], compact: bool) -> int:
            # Wide: " key " and "desc "; compact: "key desc" and a margin of one.
            extra = 2 if compact else 3
            return sum(len(k.key_display) + len(k.description) + extra for k in items)

        compact = need(plain, compact=False) > room
        self.compact = compact
        shown = list(plain)
        while shown and need(shown, compact) > room:
            shown.pop()
        hidden = set(map(id, plain[len(shown) :]))
        return [w for w in widgets if id(w) not in hidden]

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready:
            self.call_after_refresh(self.recompose)
