"""The outbox: the customer e-mail and SMS the sender has not delivered, and why.

Reached from every screen with F9 or the command palette ("Outbox"). It opens on the
failed messages (each with its error under the table); `f` failed, `q` queued, `a` all;
`p` shows or hides which events notify (the policy, read-only: `notify policy set` changes
it); `t` (supervisors) queues the highlighted message again, due now; `enter` opens its
incident; `g` reloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from cc_tui.console.calls import Connection, error_message
from cc_tui.console.local_time import display_zone
from cc_tui.screens.base import ConsoleScreen
from cc_tui.widgets.list_table import ColumnSpec, ListTable

if TYPE_CHECKING:
    from cc_tui.services.notify.sender import OutboxRow

LIMIT = 500
# What a supervisor needs first on the left: at 80 columns the address is cut short.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("id", "#", 5),
    ColumnSpec("status", "Status", 6),
    ColumnSpec("incident", "Incident", 8),
    ColumnSpec("event", "Event", 11),
    ColumnSpec("tries", "Tries", 5),
    ColumnSpec("channel", "Via", 5),
    ColumnSpec("created", "Queued", 11),
    ColumnSpec("to", "To", 30, least=12, grow=1),
)
FILTERS = {"failed": "failed", "queued": "queued", "all": None}

OUTBOX_CSS = """
OutboxScreen #outbox-status { height: auto; padding: 0 1; color: $text-muted; }
OutboxScreen #outbox-table { height: 1fr; }
OutboxScreen #outbox-error { height: auto; max-height: 5; padding: 0 1; color: $error; }
OutboxScreen #outbox-policy { height: auto; padding: 0 1; display: none; }
OutboxScreen #outbox-policy.shown { display: block; }
"""


def _cells(row: OutboxRow, zone: tzinfo | None) -> tuple[Text, ...]:
    def cell(value: object) -> Text:
        text = "–" if value in (None, "") else str(value)
        return Text(text, no_wrap=True, overflow="ellipsis")

    status = Text(row.status, no_wrap=True)
    if row.status == "failed":
        status.stylize("bold red")
    return (
        cell(row.id),
        status,
        cell(row.incident),
        cell(row.event),
        cell(row.attempts),
        cell(row.channel),
        cell(row.created_at.astimezone(zone).strftime("%d.%m %H:%M")),
        cell(row.recipient),
    )


class OutboxScreen(ConsoleScreen):
    """Failed (or queued, or all) outgoing messages; `t` tries one again."""

    DEFAULT_CSS = OUTBOX_CSS
    AUTO_FOCUS = "#outbox-table"
    KEY_GROUPS = (
        (
            "Show",
            ("outbox.failed", "outbox.queued", "outbox.all", "outbox.policy", "outbox.reload"),
        ),
        ("Work on a message", ("outbox.retry", "outbox.open")),
        ("More", ("outbox.back",)),
    )
    BINDINGS = [
        Binding("t", "retry", "Try again", id="outbox.retry"),
        Binding("enter", "open", "Open incident", id="outbox.open"),
        Binding("f", "show('failed')", "Failed", id="outbox.failed"),
        Binding("q", "show('queued')", "Queued", id="outbox.queued"),
        Binding("a", "show('all')", "All", id="outbox.all"),
        Binding("p", "policy", "Policy", id="outbox.policy"),
        Binding("g", "reload", "Reload", id="outbox.reload"),
        Binding("escape", "back", "Back", id="outbox.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.which = "failed"
        self.rows: dict[str, OutboxRow] = {}
        self._request = 0

    def compose_body(self) -> Iterable[Widget]:
        yield Static(Content("opening the database…"), id="outbox-status")
        yield Static(Content(""), id="outbox-policy")
        table: ListTable[Text] = ListTable(id="outbox-table", cursor_type="row", zebra_stripes=True)
        table.add_fitted_columns(COLUMNS)
        yield table
        yield Static(Content(""), id="outbox-error")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#outbox-table", DataTable)

    @property
    def zone(self) -> tzinfo | None:
        connection = self.connection
        return display_zone(connection.settings if connection else None)

    def database_ready(self, connection: Connection) -> None:
        self.load()

    def load(self) -> None:
        from cc_tui.services.notify.sender import list_outbox

        if self.connection is None:
            return
        self._request += 1
        request = self._request
        self.call(
            list_outbox,
            on_result=lambda rows: self._show(request, rows),
            on_error=lambda error: self._failed(request, error),
            group="outbox",
            status=FILTERS[self.which],
            limit=LIMIT,
        )

    def _failed(self, request: int, error: BaseException) -> None:
        if request == self._request:
            self.query_one("#outbox-status", Static).update(Content(error_message(error)))

    def _show(self, request: int, rows: list[OutboxRow]) -> None:
        if request != self._request:
            return
        table = self.table
        current = self._current()
        zone = self.zone
        self.rows = {str(r.id): r for r in rows}
        with self.app.batch_update():
            table.clear()
            for row in rows:
                table.add_row(*_cells(row, zone), key=str(row.id))
            if current is not None and current in self.rows:
                table.move_cursor(row=table.get_row_index(current), animate=False)
        more = "+" if len(rows) >= LIMIT else ""
        noun = "message" if len(rows) == 1 else "messages"
        what = {"failed": f"failed {noun}", "queued": f"queued {noun}", "all": noun}
        self.query_one("#outbox-status", Static).update(
            Content(f"{len(rows)}{more} {what[self.which]} · f failed  q queued  a all  p policy")
        )
        self._show_error()

    def _current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def _current_row(self) -> OutboxRow | None:
        key = self._current()
        return self.rows.get(key) if key is not None else None

    def _show_error(self) -> None:
        row = self._current_row()
        text = ""
        if row is not None and row.last_error:
            text = f"#{row.id} to {row.recipient or '–'}: {row.last_error}"
        elif row is not None and row.status == "queued" and row.next_attempt_at is not None:
            # An SMS not tried yet that waits was held: it came due in quiet hours.
            held = row.channel == "sms" and row.attempts == 0
            when = row.next_attempt_at.astimezone(self.zone).strftime("%d.%m %H:%M")
            why = "held for quiet hours until" if held else "goes at"
            text = f"#{row.id} to {row.recipient or '–'}: {why} {when}"
        self.query_one("#outbox-error", Static).update(Content(text))

    @on(DataTable.RowHighlighted, "#outbox-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_error()

    @on(DataTable.RowSelected, "#outbox-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_show(self, which: str) -> None:
        self.which = which if which in FILTERS else "failed"
        self.load()

    def action_reload(self) -> None:
        self.load()
        if self.query_one("#outbox-policy", Static).has_class("shown"):
            self._load_policy()

    def action_policy(self) -> None:
        box = self.query_one("#outbox-policy", Static)
        box.toggle_class("shown")
        if box.has_class("shown"):
            self._load_policy()

    def _load_policy(self) -> None:
        from cc_tui.services.notify.policy import summary

        if self.connection is None:
            return
        box = self.query_one("#outbox-policy", Static)
        self.call(
            summary,
            on_result=lambda lines: box.update(
                Content("\n".join(["Who hears from us (notify policy set changes it):", *lines]))
            ),
            on_error=lambda error: box.update(Content(error_message(error))),
            group="outbox-policy",
        )

    def action_open(self) -> None:
        row = self._current_row()
        if row is None or row.incident is None:
            return
        from cc_tui.screens.incident_detail import OpenIncident
        from cc_tui.services.incidents.base import parse_ref

        self.app.post_message(OpenIncident(parse_ref(row.incident)))

    def action_retry(self) -> None:
        row = self._current_row()
        connection = self.connection
        if row is None or connection is None:
            return
        from cc_tui.services.notify.sender import retry

        self.call(
            retry,
            on_result=lambda again: self._retried(again),
            on_error=lambda error: self.notify(
                error_message(error), severity="error", timeout=6, markup=False
            ),
            write=True,
            group="outbox-retry",
            row_id=row.id,
            actor=connection.actor,
        )

    def _retried(self, again: OutboxRow) -> None:
        self.notify(f"#{again.id} queued again: the sender takes it on its next pass", timeout=4)
        self.load()

    def action_back(self) -> None:
        self.dismiss()
