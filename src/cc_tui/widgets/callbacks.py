"""The callback list on the board: numbers whose calls ended unanswered and nobody reached
since (who, when, how often they tried). `enter` calls the highlighted one back: the call
is logged and a CallOut event recorded (on the caller's open incident, shown at once, or on
a new contact that intake opens with the number filled in).

The panel loads itself and follows the change feed; it is hidden while nobody waits, so the
board looks as before until a call is missed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from cc_tui.console.calls import call_service
from cc_tui.console.local_time import display_zone
from cc_tui.widgets.list_table import ColumnSpec, ListTable

if TYPE_CHECKING:
    from cc_tui.console.calls import Connection
    from cc_tui.console.messages import ChangeBatch
    from cc_tui.services.cti.callbacks import Callback

# Fixed widths, so the table never measures its cells; the caller takes a wide terminal's room.
CALLBACK_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("number", "Number", 16),
    ColumnSpec("customer", "Caller", 18, least=10, grow=1, most=40),
    ColumnSpec("tries", "Tries", 5),
    ColumnSpec("last", "Last try", 11),
    ColumnSpec("queue", "Queue", 8, drop=1),
    ColumnSpec("ringing", "Rang for", 16, least=10, drop=2, grow=1, most=30),
)


def _cell(value: object, *, right: bool = False) -> Text:
    text = "–" if value is None or value == "" else str(value)
    return Text(text, no_wrap=True, overflow="ellipsis", justify="right" if right else "left")


class CallbackPanel(Vertical):
    """Title line and a short table; `enter` calls back."""

    DEFAULT_CSS = """
    CallbackPanel {
        height: auto;
        display: none;
    }
    CallbackPanel.-waiting {
        display: block;
    }
    CallbackPanel > #callback-title {
        height: 1;
        padding: 0 1;
        text-style: bold;
        background: $panel;
        color: $warning;
    }
    CallbackPanel > #callback-table {
        height: auto;
        max-height: 6;
    }
    """

    BINDINGS = [
        Binding("enter", "call_back", "Call back", id="callbacks.call_back"),
    ]

    def __init__(self, *, id: str | None = "callbacks") -> None:
        super().__init__(id=id)
        self.callbacks: list[Callback] = []

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="callback-title")
        table: ListTable[Text] = ListTable(id="callback-table", cursor_type="row")
        table.add_fitted_columns(CALLBACK_COLUMNS)
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#callback-table", DataTable)

    def on_mount(self) -> None:
        app: Any = self.app
        app.connection_signal.subscribe(self, self._connection_changed)
        app.changes_signal.subscribe(self, self._changes)
        if app.connection is not None:
            self.call_next(self.reload)

    def _connection_changed(self, connection: Connection | None) -> None:
        if connection is not None:
            self.reload()

    def _changes(self, batch: ChangeBatch) -> None:
        if batch.touches("call"):
            self.reload()

    def reload(self) -> None:
        connection: Connection | None = getattr(self.app, "connection", None)
        if connection is None:
            return
        from cc_tui.services.cti.callbacks import callback_list

        call_service(
            self,
            callback_list,
            on_result=self.show,
            on_error=lambda _error: None,  # the board says when the database is away
            group="callbacks",
            actor=connection.actor,
        )

    def show(self, callbacks: list[Callback]) -> None:
        self.callbacks = callbacks
        connection: Connection | None = getattr(self.app, "connection", None)
        zone = display_zone(connection.settings if connection else None)
        table = self.table
        current = self.current
        with self.app.batch_update():
            table.clear()
            for c in callbacks:
                table.add_row(
                    _cell(c.number),
                    _cell(c.customer or "unknown"),
                    _cell(c.tries, right=True),
                    _cell(c.last_at.astimezone(zone).strftime("%d.%m %H:%M")),
                    _cell(c.queue),
                    _cell(", ".join(c.ringing)),
                    key=c.number,
                )
            numbers = [c.number for c in callbacks]
            if current in numbers:
                table.move_cursor(row=numbers.index(current), animate=False)
        tries = sum(c.tries for c in callbacks)
        self.query_one("#callback-title", Static).update(
            Content(
                f"To call back: {len(callbacks)} "
                f"{'caller' if len(callbacks) == 1 else 'callers'}, {tries} missed"
                " · enter calls back"
            )
        )
        self.set_class(bool(callbacks), "-waiting")

    @property
    def current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def action_call_back(self) -> None:
        number = self.current
        pops = getattr(self.app, "call_pops", None)
        if number is None or pops is None:
            return
        pops.call_back(number)

    @on(DataTable.RowSelected, "#callback-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_call_back()
