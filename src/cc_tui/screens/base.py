"""The base of every mode screen: the console frame, service calls, live changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, TypeVar

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from cc_tui.console.calls import Connection, call_service, connected
from cc_tui.console.messages import ChangeBatch
from cc_tui.widgets.chrome import ConsoleFooter, ConsoleHeader, ModeTabs
from cc_tui.widgets.list_table import LIST_KEYS, ListTable

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session
    from textual import getters
    from textual.worker import Worker

    from cc_tui.console.app import CcTuiApp

# (group title, binding ids or literal (keys, description) pairs)
KeyGroupSpec = tuple[tuple[str, tuple[str | tuple[str, str], ...]], ...]

T = TypeVar("T")
P = ParamSpec("P")


class ConsoleScreen(Screen):
    """A mode screen. Subclasses set `MODE`, yield their content from `compose_body()`,
    load their data in `database_ready()` and follow others' work in `changes_arrived()`.
    """

    # A class attribute; the starting screen sets it per instance (the tab it shows).
    MODE: str | None = None
    # How `?` groups this screen's keys by task; described keys not named come under "More".
    KEY_GROUPS: ClassVar[KeyGroupSpec] = ()

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

    def compose(self) -> Iterable[Widget]:
        yield ConsoleHeader()
        yield ModeTabs(self.MODE)
        yield from self.compose_body()
        yield ConsoleFooter()

    def compose_body(self) -> Iterable[Widget]:
        return ()

    def key_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """This screen's own keys for `?`, grouped by task, as the agent's keymap has them."""
        bindings = {b.id: b for b in self.BINDINGS if isinstance(b, Binding) and b.id}
        used: set[str] = set()
        groups: list[tuple[str, list[tuple[str, str]]]] = []
        for title, entries in self.KEY_GROUPS:
            rows: list[tuple[str, str]] = []
            for entry in entries:
                if isinstance(entry, tuple):
                    rows.append(entry)
                elif (binding := bindings.get(entry)) is not None:
                    used.add(entry)
                    rows.append((self.app.key_display(entry, binding.key), binding.description))
            groups.append((title, rows))
        rest = [
            (self.app.key_display(binding_id, b.key), b.description)
            for binding_id, b in bindings.items()
            if binding_id not in used and b.description
        ]
        more = next((rows for title, rows in groups if title == "More"), None)
        if more is not None:
            more.extend(rest)
        elif rest:
            groups.append(("More", rest))
        if self.query(ListTable):
            groups.append(("Move in the list", list(LIST_KEYS)))
        return groups

    def on_mount(self) -> None:
        app = self.app
        app.connection_signal.subscribe(self, self._connection_changed)
        app.changes_signal.subscribe(self, self.changes_arrived)
        app.health_signal.subscribe(self, self.health_changed)
        connection = app.connection
        if connection is not None:
            self.call_next(self.database_ready, connection)

    def _connection_changed(self, connection: Connection | None) -> None:
        if connection is not None:
            self.database_ready(connection)

    @property
    def connection(self) -> Connection | None:
        return self.app.connection

    def connected(self) -> Connection | None:
        """The connection for a service call that needs the agent (`actor=`); None, and
        the agent is told, while the database is not open yet."""
        return connected(self)

    def database_ready(self, connection: Connection) -> None:
        """The database is open and the agent known: load what the screen shows."""

    def health_changed(self, offline_since: datetime | None) -> None:
        """The database stopped answering (since then) or answers again (None); the header
        says so on every screen, a screen with its own status line says it there too."""

    def changes_arrived(self, batch: ChangeBatch) -> None:
        """Someone (maybe this agent) committed changes: refresh what they touch."""

    def call(
        self,
        service: Callable[Concatenate[Session, P], T],
        on_result: Callable[[T], Any],
        on_error: Callable[[BaseException], Any] | None = None,
        write: bool = False,
        group: str = "service",
        exclusive: bool = True,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Worker[None] | None:
        """Run one user action, `service(session, **kwargs)`, in a thread worker and one
        transaction; pass everything by keyword (see `console.calls.call_service`)."""
        return call_service(
            self, service, on_result, on_error, write, group, exclusive, *args, **kwargs
        )
