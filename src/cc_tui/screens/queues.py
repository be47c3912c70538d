"""The Queues mode: the supervisor board and "My work".

At the top one panel per department (its queue, open incidents by status and escalation,
the oldest waiting item), the agent's own department first so it stays in sight on a narrow
terminal; in the middle the chosen queue's incidents, most urgent first, paged from SQL; at
the bottom every agent's load. Agents open it on their own open incidents ("My work");
supervisors on their department's queue. Everything follows the change feed: an incident
someone else claims leaves the queue without a key press.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import HorizontalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from cc_tui import clock
from cc_tui.console.calls import Connection, show_error
from cc_tui.console.local_time import display_zone
from cc_tui.console.messages import ChangeBatch
from cc_tui.errors import CcError
from cc_tui.screens.base import ConsoleScreen
from cc_tui.statuses import status_name
from cc_tui.widgets.board import DepartmentPanel
from cc_tui.widgets.callbacks import CallbackPanel
from cc_tui.widgets.escalation_badge import badge_text, clock_of, span_text
from cc_tui.widgets.list_table import ColumnSpec, ListSort, ListTable

if TYPE_CHECKING:
    from cc_tui.dialogs.assign import AssignChoice
    from cc_tui.services.incidents.list_filter import IncidentFilter
    from cc_tui.services.routing.board import Board, QueuePage, QueueView
    from cc_tui.services.routing.queues import (
        AgentLoad,
        AssignResult,
        DepartmentLoad,
        Load,
        QueueRow,
    )

PAGE_SIZE = 50
# On a refresh keep at most this many rows (what was shown, paged in again).
MAX_REFRESH = 500
PRELOAD_ROWS = 5
# Changes to these entities can alter what the board shows.
BOARD_ENTITIES = ("incident", "agent", "department", "priority", "routing_rule")
SELECTED = "●"
# Below this many rows the panels shrink to one line each and the agents' table to three
# rows, so that the queue keeps rows to read (80x24 included).
SHORT_HEIGHT = 32
# Agents the table shows one per row (short terminals: fewer); more turn it into a grid of
# GRID_CELL-wide cells, several agents per row.
AGENT_ROWS = 7
AGENT_ROWS_SHORT = 3
GRID_CELL = 27
GRID_HEADING = f"{'Agent':<10}{'Open':>4}{'Late':>5}{'Wait':>8}"
# How often the time columns (waiting, time left, overdue) are counted on (seconds).
TICK_SECONDS = 30

# Fixed widths, so the table never measures its cells; narrower terminals hide the least
# needed first, wider ones give the title (and the customer, the agent's name) the room.
QUEUE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("sel", " ", 1),
    ColumnSpec("number", "Number", 10, least=8),
    ColumnSpec("escalation", "Escalation", 20, least=16, grow=1, most=22),
    ColumnSpec("priority", "Prio", 4, drop=4),
    ColumnSpec("status", "Status", 11, drop=3),
    ColumnSpec("owner", "Owner", 10, least=8, drop=1),
    ColumnSpec("customer", "Customer", 15, least=10, drop=2, grow=1, most=32),
    ColumnSpec("title", "Title", 21, least=14, grow=4),
    ColumnSpec("waiting", "Waiting", 8, least=7),
)
BOARD_SORT: dict[str, Callable[[QueueRow], object]] = {
    "number": lambda r: r.id,
    "escalation": lambda r: r.late_at or r.warning_at or r.response_due,
    "priority": lambda r: r.priority,
    "status": lambda r: r.status,
    "owner": lambda r: (r.owner or "").lower() or None,
    "customer": lambda r: (r.customer or "").lower() or None,
    "title": lambda r: (r.title or "").lower() or None,
    "waiting": lambda r: r.registered_at or r.opened_at,
}
AGENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("login", "Agent", 12),
    ColumnSpec("name", "Name", 18, least=12, drop=1, grow=1, most=30),
    ColumnSpec("department", "Dept", 7, least=5),
    ColumnSpec("open", "Open", 5),
    ColumnSpec("assigned", "Asg", 4, drop=2),
    ColumnSpec("in_process", "Inp", 4, drop=3),
    ColumnSpec("pending", "Pen", 4, drop=4),
    ColumnSpec("follow_up", "F/up", 4, drop=5),
    ColumnSpec("warning", "Warn", 4),
    ColumnSpec("late", "Late", 4),
    ColumnSpec("oldest", "Oldest", 10, least=8, drop=6),
    ColumnSpec("since", "Waiting", 7),
)


def _cell(value: object, *, right: bool = False) -> Text:
    text = "–" if value is None or value == "" else str(value)
    return Text(text, no_wrap=True, overflow="ellipsis", justify="right" if right else "left")


class QueuesScreen(ConsoleScreen):
    """Claim, open, assign, move (one or many); switch queues; follow everyone's work."""

    MODE = "queues"
    AUTO_FOCUS = "#queue-table"
    KEY_GROUPS = (
        ("Work on incidents", ("queues.open", "queues.claim", "queues.assign", "queues.move")),
        ("Select several", ("queues.select", "queues.clear")),
        ("Filter the list", ("queues.filter", "queues.sort", "queues.export")),
        (
            "Choose the list",
            ("queues.mine", "queues.prev", "queues.next", ("1…9", "Queue by number")),
        ),
        ("More", ("queues.callbacks", "queues.refresh")),
    )
    BINDINGS = [
        Binding("c", "claim", "Claim next", id="queues.claim"),
        Binding("o", "open", "Open", id="queues.open"),
        Binding("a", "assign", "Assign", id="queues.assign"),
        Binding("m", "move", "Move", id="queues.move"),
        Binding("space", "toggle_select", "Select", id="queues.select"),
        Binding("slash", "focus_filter", "Filter", id="queues.filter"),
        Binding("e", "export", "Export CSV", show=False, id="queues.export"),
        Binding("s", "sort", "Sort", show=False, id="queues.sort"),
        Binding("w", "my_work", "My work", id="queues.mine"),
        Binding("left_square_bracket", "step_queue(-1)", "Prev queue", id="queues.prev"),
        Binding("right_square_bracket", "step_queue(1)", "Next queue", id="queues.next"),
        Binding("b", "callbacks", "Call backs", show=False, id="queues.callbacks"),
        Binding("r", "refresh", "Refresh", show=False, id="queues.refresh"),
        Binding("escape", "clear_selection", "Clear selection", show=False, id="queues.clear"),
        *(
            Binding(str(n), f"pick_queue({n})", show=False, id=f"queues.queue{n}")
            for n in range(1, 10)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: QueueView | None = None
        self.board: Board | None = None
        self.busy = False
        self.has_more = False
        self.refreshed_at: datetime | None = None
        self._rows: dict[int, QueueRow] = {}
        self._order: list[int] = []
        self.selected: set[int] = set()
        # Every load gets a number; only the answer to the newest one is shown.
        self._request = 0
        self._variables: dict[str, str] = {}
        self._ticking = False
        # The `/` filter (services/incidents/list_filter.py), on the rows loaded.
        self.filter_text = ""
        self._filter: IncidentFilter | None = None
        self._scrolled_to: str | None = None
        # The agents' grid: (row, column) -> login, and how many agents a row holds.
        self._grid: dict[tuple[int, int], str] = {}
        self._per_row = 0
        # `s` or a header click: the loaded rows sorted by a column (None: queue order).
        self.sort = ListSort(BOARD_SORT)
        self.sort.labels = {spec.key: spec.heading for spec in QUEUE_COLUMNS}

    def compose_body(self) -> Iterable[Widget]:
        yield Static(Content("opening the database…"), id="board-status")
        yield HorizontalScroll(id="dept-strip")
        yield Static(Content(""), id="queue-title")
        yield Input(
            placeholder="/ words status: owner: customer: prio: dept: (enter; empty: all)",
            id="queue-filter",
            max_length=200,
        )
        table: ListTable[Text] = ListTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        table.add_fitted_columns(QUEUE_COLUMNS)
        yield table
        yield Static(Content(""), id="queue-empty")
        yield CallbackPanel()
        yield Static(Content("Agents"), id="agent-title")
        agents: ListTable[Text] = ListTable(id="agent-table", cursor_type="row")
        agents.add_fitted_columns(AGENT_COLUMNS)
        yield agents

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#queue-table", DataTable)

    def action_callbacks(self) -> None:
        """Between the callback list (when someone waits) and the queue."""
        panel = self.query_one(CallbackPanel)
        if panel.table.has_focus or not panel.callbacks:
            self.table.focus()
            if not panel.callbacks:
                self.notify("Nobody to call back.", timeout=3)
        else:
            panel.table.focus()

    # -- loading -----------------------------------------------------------------------------

    def health_changed(self, offline_since: datetime | None) -> None:
        self._show_status()

    def database_ready(self, connection: Connection) -> None:
        if not self._ticking:
            self._ticking = True
            self.set_interval(TICK_SECONDS, self._tick)
        self.refresh_board()

    def _tick(self) -> None:
        """Count the time columns on without a reload: the change feed keeps the rows
        true, so the shown values are as of now and "updated" says so. Not while the
        database does not answer: then nothing is known to be true now."""
        if self.board is None or self.busy or self.app.offline_text() is not None:
            return
        self.refreshed_at = clock.now()
        table = self.table
        for incident_id in self._order:
            key = str(incident_id)
            cells = dict(
                zip(
                    (c[0] for c in QUEUE_COLUMNS), self._cells(self._rows[incident_id]), strict=True
                )
            )
            for column in ("escalation", "waiting"):
                if table.get_cell(key, column).plain != cells[column].plain:
                    table.update_cell(key, column, cells[column])
        agents = self.query_one("#agent-table", DataTable)
        if self.has_class("-agent-grid"):
            self._show_agents(self.board.load.agents)
        for agent in self.board.load.agents if not self.has_class("-agent-grid") else ():
            if agent.oldest is not None:
                since = span_text(self.refreshed_at - agent.oldest.since)
                agents.update_cell(agent.login, "since", _cell(since, right=True))
        self._show_panels(self.board.load)
        self._show_status()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.incident_ids or batch.touches(*BOARD_ENTITIES):
            self.refresh_board(keep_position=True)

    def refresh_board(self, *, keep_position: bool = False) -> None:
        """(Re)load every count and the view's first rows (as many as are shown now)."""
        count = min(max(PAGE_SIZE, len(self._order)), MAX_REFRESH) if keep_position else PAGE_SIZE
        from cc_tui.services.routing.board import board

        request = self._next_request()
        connection = self.connected()
        if connection is None:
            return
        self.call(
            board,
            on_result=lambda loaded: self._replace(request, loaded, keep_position),
            on_error=lambda error: self._failed(request, error),
            group="queues-board",
            actor=connection.actor,
            view=self.view,
            count=count,
        )

    def load_more(self) -> None:
        if self.busy or not self.has_more or not self._order or self.view is None:
            return
        from cc_tui.services.routing.board import queue_page

        request = self._next_request()
        self.call(
            queue_page,
            on_result=lambda page: self._append(request, page),
            on_error=lambda error: self._failed(request, error),
            group="queues-board",
            view=self.view,
            after=self._rows[self._order[-1]].key,
            count=PAGE_SIZE,
        )

    def _next_request(self) -> int:
        self._request += 1
        self.busy = True
        return self._request

    def _failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self.busy = False
        self._show_status()
        show_error(self, error)

    def _replace(self, request: int, board: Board, keep_position: bool) -> None:
        if request != self._request:
            return
        self.busy = False
        same_view = board.view == self.view
        self.board, self.view, self.has_more = board, board.view, board.has_more
        self.refreshed_at = clock.now()
        self._variables = self.app.theme_variables
        table = self.table
        current = self._current_id() if keep_position and same_view else None
        old_row = table.cursor_row
        self._rows = {row.id: row for row in board.rows}
        self._order = [row.id for row in board.rows]
        self.selected &= set(self._rows) if same_view else set()
        with self.app.batch_update():
            table.clear()
            for row in self.sort.apply(board.rows):
                if self._passes(row):
                    table.add_row(*self._cells(row), key=str(row.id))
            if current is not None and current in self._rows:
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
            elif keep_position and same_view and board.rows:
                table.move_cursor(row=min(old_row, len(board.rows) - 1), animate=False)
            else:
                table.move_cursor(row=0, animate=False)
            self._show_panels(board.load)
            self._show_agents(board.load.agents)
        self._show_empty()
        self._show_status()

    def _append(self, request: int, page: QueuePage) -> None:
        if request != self._request or page.view != self.view:
            return
        self.busy = False
        self.has_more = page.has_more
        for row in page.rows:
            if row.id in self._rows:
                continue  # already shown (the queue moved while paging)
            self._rows[row.id] = row
            self._order.append(row.id)
            if self._passes(row) and self.sort.column is None:
                self.table.add_row(*self._cells(row), key=str(row.id))
        if self.sort.column is not None:
            self._redraw()
        self._show_status()

    # -- showing -----------------------------------------------------------------------------

    def _cells(self, row: QueueRow) -> tuple[Text, ...]:
        """One queue row; every value is plain `Text`, never markup."""
        moment = self.refreshed_at or clock.now()
        since = row.registered_at or row.opened_at
        return (
            self._mark(row.id),
            _cell(row.number),
            badge_text(clock_of(row), self._variables, moment),
            _cell(row.priority),
            _cell(status_name(row.status)),
            _cell(row.owner),
            _cell(row.customer),
            Text(row.title or "", no_wrap=True, overflow="ellipsis"),
            _cell(span_text(moment - since), right=True),
        )

    def _mark(self, incident_id: int) -> Text:
        if incident_id not in self.selected:
            return Text(" ")
        return Text(SELECTED, style=self._variables.get("accent", "bold"))

    def _show_panels(self, board: Load) -> None:
        strip = self.query_one("#dept-strip", HorizontalScroll)
        moment = self.refreshed_at or clock.now()
        wanted = [d for d in self._strip_order(board.departments) if d.open or d.code]
        panels = {p.code: p for p in strip.query(DepartmentPanel)}
        codes = [d.code for d in wanted]
        if list(panels) != codes:
            strip.remove_children()
            strip.mount_all(
                DepartmentPanel(d, moment, i + 1 if d.code else None, compact=self.short)
                for i, d in enumerate(wanted)
            )
        else:
            for i, d in enumerate(wanted):
                panels[d.code].show(d, moment, i + 1 if d.code else None)
        chosen = self.view.key if self.view and self.view.kind == "department" else None
        # Scrolled to only when another queue is chosen: a refresh never moves the strip.
        move = chosen != self._scrolled_to
        self._scrolled_to = chosen
        for panel in strip.query(DepartmentPanel):
            selected = panel.code is not None and panel.code == chosen
            panel.set_class(selected, "-selected")
            if selected and move:
                self.call_after_refresh(strip.scroll_to_widget, panel, animate=False)

    @property
    def short(self) -> bool:
        return self.has_class("-short")

    def on_resize(self, event: events.Resize) -> None:
        short = event.size.height < SHORT_HEIGHT
        if short != self.short:
            self.set_class(short, "-short")
            for panel in self.query(DepartmentPanel):
                panel.set_compact(short)
        if self.board is not None:
            # The agents' grid holds as many agents per row as the width allows.
            self.call_after_refresh(self._show_agents, self.board.load.agents)

    def _show_agents(self, agents: list[AgentLoad]) -> None:
        """One row per agent while they fit; more agents than rows: a grid of several agents
        per row (login, open, late, how long the oldest waits), so that a whole desk shows."""
        table = self.query_one("#agent-table", ListTable)
        # Grouped by team, so a supervisor reads their own people together.
        agents = sorted(agents, key=lambda a: (a.department is None, a.department or "", a.login))
        per_row = max(1, (table.size.width or self.size.width) - 2) // (GRID_CELL + 2)
        rows = AGENT_ROWS_SHORT if self.short else AGENT_ROWS
        grid = len(agents) > rows and per_row >= 2
        current = self._current_agent()
        if grid != self.has_class("-agent-grid") or (grid and per_row != self._per_row):
            table.clear(columns=True)
            if grid:
                table.specs = ()
                table.cursor_type = "cell"
                for n in range(per_row):
                    table.add_column(GRID_HEADING, width=GRID_CELL, key=f"c{n}")
            else:
                table.cursor_type = "row"
                table.add_fitted_columns(AGENT_COLUMNS)
                table.fit_columns()
            self.set_class(grid, "-agent-grid")
            self._per_row = per_row
        table.clear()
        moment = self.refreshed_at or clock.now()
        self._grid = {}
        if grid:
            for r in range(0, len(agents), per_row):
                group = agents[r : r + per_row]
                cells = [self._agent_cell(a, moment) for a in group]
                cells += [Text("")] * (per_row - len(group))
                table.add_row(*cells, key=f"r{r // per_row}")
                for c, a in enumerate(group):
                    self._grid[(r // per_row, c)] = a.login
            where = next((k for k, v in self._grid.items() if v == current), None)
            if where is not None:
                table.move_cursor(row=where[0], column=where[1], animate=False)
            return
        for a in agents:
            oldest = a.oldest
            table.add_row(
                _cell(a.login),
                _cell(a.name),
                _cell(a.department),
                _cell(a.open, right=True),
                _cell(a.by_status.get("assigned", 0), right=True),
                _cell(a.by_status.get("in_process", 0), right=True),
                _cell(a.by_status.get("pending", 0), right=True),
                _cell(a.by_escalation.get("follow_up", 0), right=True),
                _cell(a.by_escalation.get("warning", 0), right=True),
                _cell(a.by_escalation.get("late", 0), right=True),
                _cell(oldest.number if oldest else None),
                _cell(span_text(moment - oldest.since) if oldest else None, right=True),
                key=a.login,
            )
        if current is not None and any(a.login == current for a in agents):
            table.move_cursor(row=table.get_row_index(current), animate=False)

    def _agent_cell(self, agent: AgentLoad, moment: datetime) -> Text:
        """`maria        3    1   4h10m`: login, open, late (in the late colour), waiting."""
        late = agent.by_escalation.get("late", 0)
        since = span_text(moment - agent.oldest.since) if agent.oldest else "–"
        text = Text(no_wrap=True, overflow="ellipsis")
        login = agent.login if len(agent.login) <= 10 else agent.login[:9] + "…"
        text.append(f"{login:<10}")
        text.append(f"{agent.open:>4}")
        late_style = f"bold {self._variables.get('error', '')}".strip() if late else "dim"
        text.append(f"{late:>5}", style=late_style)
        text.append(f"{since:>8}")
        return text

    def _current_agent(self) -> str | None:
        table = self.query_one("#agent-table", DataTable)
        if not table.row_count:
            return None
        if self.has_class("-agent-grid"):
            return self._grid.get((table.cursor_row, table.cursor_column))
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    def _view_label(self) -> str:
        if self.view is None:
            return ""
        if self.view.kind == "agent":
            me = self.connection.actor.login if self.connection else None
            return "My work" if self.view.key == me else f"{self.view.key}'s open incidents"
        return f"{self.view.key} queue (unassigned)"

    def _show_status(self) -> None:
        parts = []
        board = self.board
        if board is not None:
            departments = sum(1 for d in board.load.departments if d.code)
            parts.append(f"{board.load.total_open:,} open in {departments} departments")
        offline = self.app.offline_text()
        if offline is not None:
            # Not "live", and no "updated" time that reads as fresh: what is shown is old.
            parts.append(offline)
        elif self.connection is not None:
            parts.append("live" if not self.connection.db.is_sqlite else "live (polling)")
        if self.refreshed_at is not None and offline is None:
            zone = display_zone(self.connection.settings if self.connection else None)
            stamp = self.refreshed_at.astimezone(zone).strftime("%H:%M:%S")
            parts.append(f"updated {stamp}")
        if self.busy:
            parts.append("loading…")
        self.query_one("#board-status", Static).update(Content(" · ".join(parts)))
        title = [self._view_label()]
        if self._order:
            title.append(f"{len(self._order)} shown" + (", more below" if self.has_more else ""))
        if self._filter is not None:
            title.append(f"{self.table.row_count} match /{self.filter_text}")
        if self.sort.column is not None:
            title.append(self.sort.describe())
        if self.selected:
            move, assign = self._key("queues.move", "m"), self._key("queues.assign", "a")
            title.append(f"{len(self.selected)} selected ({move} moves, {assign} assigns them)")
        self.query_one("#queue-title", Static).update(Content(" · ".join(t for t in title if t)))

    def _show_empty(self) -> None:
        empty = self.query_one("#queue-empty", Static)
        has_rows = bool(self._order)
        self.table.display = has_rows
        empty.display = not has_rows
        if has_rows or self.view is None:
            return
        if self.view.kind == "agent":
            empty.update(Content("Nothing open on this list."))
        else:
            empty.update(Content(f"The {self.view.key} queue is empty: nobody is waiting."))

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    # -- the `/` filter ----------------------------------------------------------------------

    def _passes(self, row: QueueRow) -> bool:
        if self._filter is None:
            return True
        from cc_tui.services.incidents.list_filter import matches

        return matches(self._filter, row)

    def action_export(self) -> None:
        """The queue as shown (filter applied; the selection, if any) to a CSV file."""
        from datetime import datetime as _dt

        from cc_tui.dialogs.export import ExportDialog
        from cc_tui.services.reports.export import write_rows_csv

        shown = self.sort.apply(
            self._rows[i]
            for i in self._order
            if self._passes(self._rows[i]) and (not self.selected or i in self.selected)
        )
        if not shown:
            self.notify("Nothing to export.", severity="warning", timeout=3)
            return
        zone = display_zone(self.connection.settings if self.connection else None)
        headers = ["number", "status", "priority", "escalation", "owner", "department",
                   "customer", "title", "opened"]  # fmt: skip
        body: list[list[object]] = [
            [r.number, r.status, r.priority, r.escalation, r.owner, r.department, r.customer,
             r.title, r.opened_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")]
            for r in shown
        ]  # fmt: skip

        def written(path: object) -> None:
            if path is not None:
                self.notify(f"{len(shown)} rows written to {path}", title="Exported", markup=False)

        self.app.push_screen(
            ExportDialog(
                what=self._view_label() or "the queue",
                count=len(shown),
                default=f"queue-{_dt.now().strftime('%Y%m%d-%H%M')}.csv",
                write=lambda path: write_rows_csv(headers, body, path),
            ),
            written,
        )

    def action_focus_filter(self) -> None:
        field = self.query_one("#queue-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#queue-filter")
    def _filtered(self, event: Input.Submitted) -> None:
        from cc_tui.services.incidents.list_filter import parse_filter

        try:
            parsed = parse_filter(event.value)
        except CcError as error:
            self.notify(error.message, title="Filter", severity="warning", markup=False)
            return
        self.filter_text = event.value.strip()
        self._filter = None if parsed.empty else parsed
        event.input.display = self._filter is not None
        self._redraw()
        self.table.focus()

    def _redraw(self) -> None:
        """The loaded rows again, filtered and sorted; the cursor stays on its incident."""
        table = self.table
        current = self._current_id()
        rows = [self._rows[i] for i in self._order if self._passes(self._rows[i])]
        with self.app.batch_update():
            table.clear()
            for row in self.sort.apply(rows):
                table.add_row(*self._cells(row), key=str(row.id))
            if current is not None and any(r.id == current for r in rows):
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        self._show_status()

    def action_sort(self) -> None:
        self.sort.cycle()
        self._redraw()

    @on(DataTable.HeaderSelected, "#queue-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value is not None:
            self.sort.pick(event.column_key.value)
            self._redraw()

    def _current_id(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    @on(DataTable.RowHighlighted, "#queue-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.table.row_count - 1 - PRELOAD_ROWS:
            self.load_more()

    @on(DataTable.RowSelected, "#queue-table")
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(int(event.row_key.value))

    @on(DataTable.RowSelected, "#agent-table")
    def _agent_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._switch("agent", str(event.row_key.value))
            self.table.focus()

    @on(DataTable.CellSelected, "#agent-table")
    def _agent_cell_selected(self, event: DataTable.CellSelected) -> None:
        login = self._grid.get((event.coordinate.row, event.coordinate.column))
        if login is not None:
            self._switch("agent", login)
            self.table.focus()

    @on(DepartmentPanel.Chosen)
    def _panel_chosen(self, event: DepartmentPanel.Chosen) -> None:
        self._switch("department", event.code)

    # -- keys --------------------------------------------------------------------------------

    def _switch(self, kind: str, key: str) -> None:
        from cc_tui.services.routing.board import QueueView

        view = QueueView(kind, key)
        if view == self.view:
            return
        self.view = view
        self.selected.clear()
        self._order = []
        self.refresh_board()

    def action_refresh(self) -> None:
        self.refresh_board(keep_position=True)

    def action_my_work(self) -> None:
        if self.connection is not None:
            self._switch("agent", self.connection.actor.login)

    def _strip_order(self, departments: list[DepartmentLoad]) -> list[DepartmentLoad]:
        """The panels' order (and their number keys): the agent's own department first, so
        it stays in sight on a narrow terminal; the others as the board lists them."""
        own = self.connection.actor.department_id if self.connection is not None else None
        return sorted(departments, key=lambda d: own is None or d.id != own)

    def _department_codes(self) -> list[str]:
        if self.board is None:
            return []
        return [d.code for d in self._strip_order(self.board.load.departments) if d.code]

    def action_step_queue(self, step: int) -> None:
        codes = self._department_codes()
        if not codes:
            return
        if self.view is not None and self.view.kind == "department" and self.view.key in codes:
            index = (codes.index(self.view.key) + step) % len(codes)
        else:
            index = 0 if step > 0 else len(codes) - 1
        self._switch("department", codes[index])

    def action_pick_queue(self, number: int) -> None:
        codes = self._department_codes()
        if 1 <= number <= len(codes):
            self._switch("department", codes[number - 1])

    def action_toggle_select(self) -> None:
        incident_id = self._current_id()
        if incident_id is None:
            return
        self.selected ^= {incident_id}
        self.table.update_cell(str(incident_id), "sel", self._mark(incident_id))
        self.table.action_cursor_down()
        self._show_status()

    def action_clear_selection(self) -> None:
        if not self.selected:
            return
        shown = [i for i in self.selected if i in self._rows]
        self.selected.clear()
        for incident_id in shown:
            self.table.update_cell(str(incident_id), "sel", self._mark(incident_id))
        self._show_status()

    def action_open(self) -> None:
        incident_id = self._current_id()
        if incident_id is not None:
            self._open(incident_id)

    def _open(self, incident_id: int) -> None:
        from cc_tui.screens.incident_detail import OpenIncident

        self.app.post_message(OpenIncident(incident_id))

    def action_claim(self) -> None:
        from cc_tui.services.routing.queues import claim_next

        connection = self.connected()
        if connection is None:
            return
        department = self.view.key if self.view and self.view.kind == "department" else None

        def claimed(result: AssignResult) -> None:
            mine = self._key("queues.mine", "w")
            self.notify(
                f"{result.number} is yours now ({mine}: My work).",
                title="Claimed",
                markup=False,
            )
            self.refresh_board(keep_position=True)

        self.call(
            claim_next,
            on_result=claimed,
            write=True,
            group="queues-write",
            actor=connection.actor,
            department=department,
        )

    def _targets(self) -> list[QueueRow]:
        """The selected rows, else the highlighted one."""
        if self.selected:
            return [self._rows[i] for i in self._order if i in self.selected]
        current = self._current_id()
        return [self._rows[current]] if current is not None else []

    def action_assign(self) -> None:
        from cc_tui.dialogs.assign import AgentPicker

        rows = self._targets()
        if not rows or self.board is None:
            self.notify("No incident to assign.", severity="warning", timeout=3)
            return
        what = rows[0].number if len(rows) == 1 else f"{len(rows)} incidents"
        picker = AgentPicker(
            f"Assign {what} to", self.board.load.agents, department=rows[0].department
        )
        self.app.push_screen(picker, lambda choice: self._apply(rows, choice, agent=True))

    def action_move(self) -> None:
        from cc_tui.dialogs.assign import DepartmentPicker

        rows = self._targets()
        if not rows or self.board is None:
            self.notify("No incident to move.", severity="warning", timeout=3)
            return
        what = rows[0].number if len(rows) == 1 else f"{len(rows)} incidents"
        # Unowned incidents all in one queue cannot move to that same queue.
        places = {(r.department, r.owner) for r in rows}
        exclude = rows[0].department if len(places) == 1 and rows[0].owner is None else None
        picker = DepartmentPicker(
            f"Move {what} to the queue of", self.board.load.departments, exclude=exclude
        )
        self.app.push_screen(picker, lambda choice: self._apply(rows, choice, agent=False))

    def _apply(self, rows: list[QueueRow], choice: AssignChoice | None, *, agent: bool) -> None:
        """Assign/move one incident (version-checked) or many (all or nothing)."""
        if choice is None:
            return
        from cc_tui.services.routing.queues import assign_chosen

        connection = self.connected()
        if connection is None:
            return

        def done(results: list[AssignResult]) -> None:
            self.selected.clear()
            where = choice.target if agent else f"the {choice.target} queue"
            if len(results) == 1:
                text = f"{results[0].number} is with {where} now."
            else:
                text = f"{len(results)} incidents are with {where} now."
            self.notify(text, title="Assigned" if agent else "Moved", markup=False)
            self.refresh_board(keep_position=True)

        def refused(error: BaseException) -> None:
            show_error(self, error)
            self.refresh_board(keep_position=True)

        self.call(
            assign_chosen,
            on_result=done,
            on_error=refused,
            write=True,
            group="queues-write",
            actor=connection.actor,
            chosen=[(row.id, row.version) for row in rows],
            to_agent=choice.target if agent else None,
            to_department=None if agent else choice.target,
            reason=choice.reason,
        )
