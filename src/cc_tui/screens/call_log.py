"""The caller log: today's calls (or the last seven days'), newest first, filtered by agent
or number; `enter` opens the incident a call became, `c` calls the number back. Reached from
every screen with F8 or the command palette ("Call log"); it follows the change feed, so a
call shows while it rings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from cc_tui import clock
from cc_tui.console.calls import Connection, error_message
from cc_tui.console.local_time import display_zone
from cc_tui.console.messages import ChangeBatch
from cc_tui.screens.base import ConsoleScreen
from cc_tui.widgets.list_table import ColumnSpec, ListTable

if TYPE_CHECKING:
    from cc_tui.services.cti.calls import CallInfo

LIMIT = 500
# Narrower terminals hide the queue, then the agent; wider ones give the caller the room.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("time", "Rang", 11),
    ColumnSpec("number", "  Number", 19, least=16),
    ColumnSpec("caller", "Caller", 14, least=10, grow=1),
    ColumnSpec("state", "State", 8),
    ColumnSpec("agent", "Agent", 14, least=8, drop=2),
    ColumnSpec("incident", "Incident", 8),
    ColumnSpec("queue", "Queue", 8, drop=1),
)

CALL_LOG_CSS = """
CallLogScreen #call-bar { height: auto; padding: 0 1; }
CallLogScreen #call-bar Input { width: 18; }
CallLogScreen #call-bar Label { padding: 1 1 0 1; }
CallLogScreen #call-status { width: 1fr; height: auto; padding: 1 1 0 1; color: $text-muted; }
CallLogScreen #call-table { height: 1fr; }
"""


@dataclass(frozen=True)
class Filters:
    agent: str = ""
    number: str = ""
    week: bool = False
    missed: bool = False


def start_of_day(now: datetime, zone: tzinfo | None) -> datetime:
    """Midnight of the agent's day (in their display zone), as an aware time."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _cells(call: CallInfo, zone: tzinfo | None, today: datetime) -> tuple[Text, ...]:
    def cell(value: object) -> Text:
        text = "–" if value in (None, "") else str(value)
        return Text(text, no_wrap=True, overflow="ellipsis")

    rang = call.rang_at.astimezone(zone)
    when = rang.strftime("%H:%M:%S") if rang >= today else rang.strftime("%d.%m %H:%M")
    number = call.from_number if call.direction == "in" else call.to_number
    who = call.agent or (", ".join(call.ringing) if call.state == "missed" else None)
    state = Text(call.state, no_wrap=True)
    if call.state == "missed":
        state.stylize("bold red")
    arrow = "← " if call.direction == "in" else "→ "  # in from the caller, out to them
    return (
        cell(when),
        cell(arrow + (number or "–")),
        cell(call.customer.name if call.customer else None),
        state,
        cell(who),
        cell(call.incident),
        cell(call.queue),
    )


class CallLogScreen(ConsoleScreen):
    """Today's calls; `/` filters by number, `a` by agent, `m` missed only, `w` the week."""

    DEFAULT_CSS = CALL_LOG_CSS
    AUTO_FOCUS = "#call-table"
    KEY_GROUPS = (
        (
            "Filter the list",
            ("calls.number", "calls.agent", "calls.missed", "calls.week", "calls.mine"),
        ),
        ("Work on a call", ("calls.open", "calls.call_back")),
        ("More", ("calls.back",)),
    )
    BINDINGS = [
        Binding("enter", "open", "Open incident", id="calls.open"),
        Binding("c", "call_back", "Call back", id="calls.call_back"),
        Binding("slash", "focus_number", "Number", id="calls.number"),
        Binding("a", "focus_agent", "Agent", id="calls.agent"),
        Binding("u", "mine", "Mine", id="calls.mine"),
        Binding("m", "missed", "Missed", id="calls.missed"),
        Binding("w", "week", "Today/week", id="calls.week"),
        Binding("escape", "back", "Back", id="calls.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.calls: dict[str, CallInfo] = {}
        self._request = 0

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="call-bar"):
            yield Label(Content("Number"))
            yield Input(placeholder="digits", id="call-number", max_length=40)
            yield Label(Content("Agent"))
            yield Input(placeholder="login", id="call-agent", max_length=80)
            yield Static(Content("opening the database…"), id="call-status")
        table: ListTable[Text] = ListTable(id="call-table", cursor_type="row", zebra_stripes=True)
        table.add_fitted_columns(COLUMNS)
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#call-table", DataTable)

    @property
    def zone(self) -> tzinfo | None:
        connection = self.connection
        return display_zone(connection.settings if connection else None)

    def database_ready(self, connection: Connection) -> None:
        self.load()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches("call"):
            self.load()

    def load(self) -> None:
        from cc_tui.services.cti.calls import list_calls

        connection = self.connection
        if connection is None:
            return
        self._request += 1
        request = self._request
        today = start_of_day(clock.now(), self.zone)
        since = today - timedelta(days=6) if self.filters.week else today
        f = self.filters
        self.call(
            list_calls,
            on_result=lambda calls: self._show(request, calls),
            on_error=lambda error: self._failed(request, error),
            group="call-log",
            since=since,
            agent=f.agent or None,
            number=f.number or None,
            missed=f.missed,
            limit=LIMIT,
            default_country=connection.settings.default_country,
        )

    def _failed(self, request: int, error: BaseException) -> None:
        if request == self._request:
            self.query_one("#call-status", Static).update(Content(error_message(error)))

    def _show(self, request: int, calls: list[CallInfo]) -> None:
        if request != self._request:
            return
        table = self.table
        current = self._current()
        zone = self.zone
        today = start_of_day(clock.now(), zone)
        self.calls = {c.call_id: c for c in calls}
        with self.app.batch_update():
            table.clear()
            for call in calls:
                table.add_row(*_cells(call, zone, today), key=call.call_id)
            if current is not None and current in self.calls:
                table.move_cursor(row=table.get_row_index(current), animate=False)
        self._status(calls)

    def _status(self, calls: list[CallInfo]) -> None:
        f = self.filters
        noun = "call" if len(calls) == 1 else "calls"
        what = [f"{noun} in the last 7 days" if f.week else f"{noun} today"]
        if f.missed:
            what.insert(0, "missed")
        if f.agent:
            what.append(f"of {f.agent}")
        if f.number:
            what.append(f"with {f.number}")
        missed = sum(1 for c in calls if c.state == "missed")
        more = "+" if len(calls) >= LIMIT else ""
        text = f"{len(calls)}{more} {' '.join(what)}"
        if missed and not f.missed:
            text += f" · {missed} missed"
        self.query_one("#call-status", Static).update(Content(text))

    def _current(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def _current_call(self) -> CallInfo | None:
        key = self._current()
        return self.calls.get(key) if key is not None else None

    @on(DataTable.RowSelected, "#call-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        call = self._current_call()
        if call is None:
            return
        if call.incident_id is None:
            self.notify("This call is not on an incident.", timeout=3)
            return
        from cc_tui.screens.incident_detail import OpenIncident

        self.app.post_message(OpenIncident(call.incident_id))

    def action_call_back(self) -> None:
        call = self._current_call()
        pops = self.app.call_pops
        if call is None or pops is None:
            return
        pops.call_back(call.from_number if call.direction == "in" else call.to_number)

    @on(Input.Submitted, "#call-number")
    def _number(self, event: Input.Submitted) -> None:
        self.filters = replace(self.filters, number=event.value.strip())
        self.table.focus()
        self.load()

    @on(Input.Submitted, "#call-agent")
    def _agent(self, event: Input.Submitted) -> None:
        self.filters = replace(self.filters, agent=event.value.strip())
        self.table.focus()
        self.load()

    def action_focus_number(self) -> None:
        self.query_one("#call-number", Input).focus()

    def action_focus_agent(self) -> None:
        self.query_one("#call-agent", Input).focus()

    def action_mine(self) -> None:
        connection = self.connection
        if connection is None:
            return
        mine = "" if self.filters.agent == connection.actor.login else connection.actor.login
        self.query_one("#call-agent", Input).value = mine
        self.filters = replace(self.filters, agent=mine)
        self.load()

    def action_missed(self) -> None:
        self.filters = replace(self.filters, missed=not self.filters.missed)
        self.load()

    def action_week(self) -> None:
        self.filters = replace(self.filters, week=not self.filters.week)
        self.load()

    def action_back(self) -> None:
        if not self.table.has_focus:
            self.table.focus()
            return
        self.dismiss()
