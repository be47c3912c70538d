"""The mail quarantine: messages that could not be filed, with the reason; the highlighted
one's reason in full and the start of its raw text below; `f` files it again as its mailbox
files messages (after the cause was fixed), `r` reloads the list. Reached from every screen
with F10 or the command palette ("Mail quarantine"). Everything shown comes from the
message's sender: it is shown as plain text, never as markup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from cc_tui.console.calls import Connection, error_message
from cc_tui.console.local_time import display_zone
from cc_tui.screens.base import ConsoleScreen
from cc_tui.widgets.list_table import ColumnSpec, ListTable

if TYPE_CHECKING:
    from cc_tui.services.mail.intake import Outcome, QuarantineRow

COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("id", "#", 4),
    ColumnSpec("received", "Received", 11),
    ColumnSpec("mailbox", "Mailbox", 7, drop=1),
    ColumnSpec("sender", "From", 20, least=12, grow=1, most=40),
    ColumnSpec("subject", "Subject", 22, least=10, grow=2),
    ColumnSpec("reason", "Reason", 40, least=16, grow=2),
)

QUARANTINE_CSS = """
MailQuarantineScreen #quarantine-status { height: auto; padding: 0 1; color: $text-muted; }
MailQuarantineScreen #quarantine-table { height: 1fr; }
MailQuarantineScreen #quarantine-detail {
    height: 8; border-top: solid $primary-darken-2; padding: 0 1;
}
"""


def _cells(row: QuarantineRow, zone: tzinfo | None) -> tuple[Text, ...]:
    def cell(value: object) -> Text:
        text = "–" if value in (None, "") else " ".join(str(value).split())
        return Text(text, no_wrap=True, overflow="ellipsis")

    received = getattr(row.received_at, "astimezone", None)
    when = received(zone).strftime("%d.%m %H:%M") if received else row.received_at
    return (
        cell(row.id),
        cell(when),
        cell(row.mailbox),
        cell(row.sender),
        cell(row.subject),
        cell(row.reason),
    )


class MailQuarantineScreen(ConsoleScreen):
    """Quarantined messages; `f` files the highlighted one again."""

    DEFAULT_CSS = QUARANTINE_CSS
    AUTO_FOCUS = "#quarantine-table"
    KEY_GROUPS = (
        ("Work on a message", ("quarantine.retry", "quarantine.reload")),
        ("More", ("quarantine.back",)),
    )
    BINDINGS = [
        Binding("f", "retry", "File again", id="quarantine.retry"),
        Binding("r", "reload", "Reload", id="quarantine.reload"),
        Binding("escape", "back", "Back", id="quarantine.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, QuarantineRow] = {}

    def compose_body(self) -> Iterable[Widget]:
        yield Static(Content("opening the database…"), id="quarantine-status")
        table: ListTable[Text] = ListTable(
            id="quarantine-table", cursor_type="row", zebra_stripes=True
        )
        table.add_fitted_columns(COLUMNS)
        yield table
        with VerticalScroll(id="quarantine-detail"):
            yield Static(Content(""), id="quarantine-text")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#quarantine-table", DataTable)

    def database_ready(self, connection: Connection) -> None:
        self.load()

    def load(self) -> None:
        from cc_tui.services.mail.intake import quarantine_list

        self.call(
            quarantine_list,
            on_result=self._show,
            on_error=self._failed,
            group="quarantine",
        )

    def _failed(self, error: BaseException) -> None:
        self.query_one("#quarantine-status", Static).update(Content(error_message(error)))

    def _show(self, rows: list[QuarantineRow]) -> None:
        table = self.table
        current = self._current()
        zone = display_zone(self.connection.settings if self.connection else None)
        self.rows = {str(r.id): r for r in rows}
        with self.app.batch_update():
            table.clear()
            for row in rows:
                table.add_row(*_cells(row, zone), key=str(row.id))
            if current is not None and current in self.rows:
                table.move_cursor(row=table.get_row_index(current), animate=False)
        count = len(rows)
        self.query_one("#quarantine-status", Static).update(
            Content(
                "the quarantine is empty"
                if not count
                else f"{count} message{'s' if count != 1 else ''} could not be filed · "
                "f files the highlighted one again"
            )
        )
        self._detail()

    def _current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    @on(DataTable.RowHighlighted, "#quarantine-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._detail()

    def _detail(self) -> None:
        key = self._current()
        text = self.query_one("#quarantine-text", Static)
        if key is None or key not in self.rows:
            text.update(Content(""))
            return
        from cc_tui.services.mail.intake import quarantine_show

        self.call(
            quarantine_show,
            on_result=self._shown,
            on_error=self._failed,
            group="quarantine-detail",
            message_id=int(key),
        )

    def _shown(self, shown: dict[str, Any]) -> None:
        if str(shown["id"]) != self._current():
            return
        self.query_one("#quarantine-text", Static).update(
            Content(f"Reason: {shown['reason'] or '–'}\n\n{shown['raw']}")
        )

    def action_retry(self) -> None:
        key = self._current()
        connection = self.connection
        if key is None or connection is None:
            return
        from cc_tui.services.mail.mailboxes import retry_quarantined

        self.call(
            retry_quarantined,
            on_result=self._retried,
            write=True,
            group="quarantine-retry",
            actor=connection.actor,
            message_id=int(key),
        )

    def _retried(self, outcome: Outcome) -> None:
        if outcome.outcome == "quarantined":
            self.notify(
                Content(f"Still quarantined: {outcome.reason}").plain,
                severity="warning",
                markup=False,
                timeout=6,
            )
        else:
            where = f" ({outcome.incident})" if outcome.incident else ""
            self.notify(f"Filed again: {outcome.outcome}{where}", markup=False, timeout=4)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
