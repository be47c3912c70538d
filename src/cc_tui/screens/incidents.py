"""The Incident mode's list: every incident, newest first, paged from SQL, with a field to
jump to a number. Follows the change feed, so others' work appears without a key press."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from cc_tui import clock
from cc_tui.console.calls import Connection, show_error
from cc_tui.console.local_time import display_zone, local_time
from cc_tui.console.messages import ChangeBatch
from cc_tui.errors import CcError
from cc_tui.screens.base import ConsoleScreen
from cc_tui.statuses import status_name
from cc_tui.widgets.escalation_badge import badge_content, badge_text, badge_words, clock_of
from cc_tui.widgets.list_table import ColumnSpec, ListSort, ListTable

if TYPE_CHECKING:
    from datetime import tzinfo

    from cc_tui.dialogs.assign import AssignChoice
    from cc_tui.services.incidents.each import EachOutcome, Refusal
    from cc_tui.services.incidents.listing import IncidentPage
    from cc_tui.services.incidents.records import IncidentRow

PAGE_SIZE = 100
# Start loading the next page this many rows before the cursor reaches the last one.
PRELOAD_ROWS = 5
# Changes to these entities can alter what a list row shows.
LIST_ENTITIES = ("incident", "customer", "agent", "department", "priority")
# How often the escalation column's time left is counted on (seconds).
TICK_SECONDS = 30
# A change made to several incidents names at most this many refusals (the rest stay selected).
REFUSALS_SHOWN = 6

# Fixed widths, so the table never measures its cells; they fill 120 columns (each column
# adds 2 cells of padding, the scroll bar 2). Narrower, the owner, then the customer, then
# the priority give way (Title and Opened always stay); wider, the title takes the room.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("number", "Number", 11, least=9),
    ColumnSpec("status", "Status", 11, drop=4),
    ColumnSpec("priority", "Prio", 4, drop=3),
    ColumnSpec("escalation", "Escalation", 20, least=16, grow=1, most=22),
    ColumnSpec("owner", "Owner", 12, least=8, drop=1),
    ColumnSpec("customer", "Customer", 15, least=10, drop=2, grow=1, most=32),
    ColumnSpec("title", "Title", 18, least=14, grow=4),
    ColumnSpec("opened", "Opened", 11),
)


# How each column sorts (the loaded rows, in memory).
SORT_KEYS: dict[str, Callable[[IncidentRow], object]] = {
    "number": lambda r: r.id,
    "status": lambda r: r.status,
    "priority": lambda r: r.priority,
    "escalation": lambda r: r.late_at or r.warning_at or r.resolve_due,
    "owner": lambda r: (r.owner or "").lower() or None,
    "customer": lambda r: (r.customer or "").lower() or None,
    "title": lambda r: (r.title or "").lower() or None,
    "opened": lambda r: r.opened_at,
}


def export_rows(
    rows: Iterable[IncidentRow], zone: tzinfo | None
) -> tuple[list[str], list[list[Any]]]:
    """The list's columns as CSV (full values, not the shortened cells)."""
    headers = ["number", "status", "priority", "escalation", "owner", "customer", "title",
               "department", "opened"]  # fmt: skip
    body = [
        [
            r.number,
            r.status,
            r.priority,
            r.escalation,
            r.owner,
            r.customer,
            r.title,
            r.department,
            local_time(r.opened_at, zone),
        ]
        for r in rows
    ]
    return headers, body


def incidents_text(count: int) -> str:
    return f"{count} incident" if count == 1 else f"{count} incidents"


def refusal_line(refusal: Refusal) -> str:
    """A refusal in the service's words, led by the incident's number."""
    if refusal.reason.startswith(refusal.number):
        return refusal.reason
    return f"{refusal.number}: {refusal.reason}"


def outcome_message(outcome: EachOutcome[Any], *, verb: str, where: str) -> tuple[str, str]:
    """The title and text that report a change made to several incidents, each on its own:
    how many were done, which were so already, and each refusal with its reason."""
    done, refused = len(outcome.done), outcome.refused
    chosen = done + len(outcome.unchanged) + len(refused)
    title = f"{verb} {done}" if done == chosen else f"{verb} {done} of {chosen}"
    lines = []
    if done:
        lines.append(f"{incidents_text(done)} {where} now.")
    if outcome.unchanged:
        lines.append(f"{where[:1].upper()}{where[1:]} already: {', '.join(outcome.unchanged)}.")
    if refused:
        lines.append(f"Refused {len(refused)} (they stay selected):")
        lines.extend(refusal_line(r) for r in refused[:REFUSALS_SHOWN])
        if len(refused) > REFUSALS_SHOWN:
            lines.append(f"… and {len(refused) - REFUSALS_SHOWN} more")
    return title, "\n".join(lines)


def opened_text(moment: datetime, zone: tzinfo | None, today: datetime) -> str:
    """Like `ls -l`: month, day and time this year (`12-04 22:53`), else the date."""
    local = moment.astimezone(zone)
    if local.year == today.astimezone(zone).year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


def escalation_cell(row: IncidentRow, variables: Mapping[str, str], moment: datetime) -> Text:
    """The compact badge of an open incident (`late 16h overdue`, `on time 35m left`); a
    dim mark once its clocks have stopped."""
    clock = clock_of(row)
    if clock.stopped:
        return Text("–", style="dim", no_wrap=True)
    return badge_text(clock, variables, moment, compact=True)


def row_cells(
    row: IncidentRow,
    zone: tzinfo | None,
    variables: Mapping[str, str] | None = None,
    moment: datetime | None = None,
) -> tuple[Text, ...]:
    """One table row. Every value is plain `Text`: a title is never read as markup."""
    moment = moment or clock.now()

    def cell(value: str | None) -> Text:
        return Text(value or "–", no_wrap=True, overflow="ellipsis")

    return (
        cell(row.number),
        cell(status_name(row.status)),
        cell(row.priority),
        escalation_cell(row, variables or {}, moment),
        cell(row.owner),
        cell(row.customer),
        Text(row.title or "", no_wrap=True, overflow="ellipsis"),
        cell(opened_text(row.opened_at, zone, moment)),
    )


def escalation_summary(row: IncidentRow, moment: datetime) -> Content:
    """The full badge: state, which clock and the time left or overdue."""
    clock = clock_of(row)
    if clock.stopped:
        return Content.styled(f" {badge_words(clock, moment)} · clocks stopped ", "dim")
    return badge_content(clock, moment)


def summary(row: IncidentRow, zone: tzinfo | None, moment: datetime | None = None) -> Content:
    """The highlighted incident, in full, under the table."""

    def pair(label: str, value: str | None) -> Content:
        return Content.assemble((f"{label} ", "dim"), value or "–", "   ")

    return Content.assemble(
        (row.number, "bold"),
        "  ",
        row.title or "(no title)",
        "\n",
        pair("Status", status_name(row.status)),
        pair("Type", row.type),
        pair("Channel", row.channel),
        ("Escalation", "dim"),
        escalation_summary(row, moment or clock.now()),
        "  ",
        pair("Opened", local_time(row.opened_at, zone)),
        "\n",
        pair("Customer", row.customer),
        pair("Priority", row.priority),
        pair("Owner", row.owner),
        pair("Department", row.department),
    )


class IncidentListScreen(ConsoleScreen):
    """All incidents, newest first; `o`/`a` filter, `:` jumps to a number."""

    MODE = "incident"
    AUTO_FOCUS = "#incident-table"
    KEY_GROUPS = (
        (
            "Choose the list",
            ("incidents.open", "incidents.all", "incidents.reload", "incidents.filter"),
        ),
        ("Find an incident", ("incidents.goto", "incidents.back")),
        (
            "Change the selected (or the highlighted one)",
            (
                "incidents.select",
                "incidents.assign_me",
                "incidents.assign",
                "incidents.move",
                "incidents.priority",
            ),
        ),
        ("Sort, export", ("incidents.sort", "incidents.export")),
    )
    BINDINGS = [
        Binding("o", "filter(True)", "Open only", id="incidents.open"),
        Binding("a", "filter(False)", "All", id="incidents.all"),
        Binding("slash", "focus_filter", "Filter", id="incidents.filter"),
        # `:` as in vi (`:42`): g and G move in the list.
        Binding("colon", "go_to", "Go to number", id="incidents.goto"),
        Binding("r", "reload", "Newest first", id="incidents.reload"),
        Binding("s", "sort", "Sort", id="incidents.sort"),
        Binding("space", "toggle_select", "Select", id="incidents.select"),
        Binding("e", "export", "Export CSV", id="incidents.export"),
        # Listed by `?` and F1, not in the footer: at 120 columns it is full (quit and help
        # are its last keys).
        Binding("m", "bulk_assign_me", "Assign me", show=False, id="incidents.assign_me"),
        Binding("t", "bulk_assign", "Assign to", show=False, id="incidents.assign"),
        Binding("d", "bulk_move", "Move to queue", show=False, id="incidents.move"),
        Binding("p", "bulk_priority", "Priority", show=False, id="incidents.priority"),
        Binding("escape", "back_to_list", "Back to list", show=False, id="incidents.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.open_only = False
        self.before_id: int | None = None
        self.has_more = False
        # A load is under way (not Textual's `loading`, which would cover the screen).
        self.busy = False
        self._rows: dict[int, IncidentRow] = {}
        # Every load gets a number; only the answer to the newest one is shown.
        self._request = 0
        self._zone: tzinfo | None = None
        # Theme colours for the badge cells (Rich text, resolved when a row is built).
        self._variables: Mapping[str, str] = {}
        # The `/` filter as typed (applied in SQL), the sort of the rows loaded, selection.
        self.filter_text = ""
        self.sort = ListSort(SORT_KEYS)
        self.sort.labels = {spec.key: spec.heading for spec in COLUMNS}
        self.selected: set[int] = set()

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="incident-bar"):
            yield Label(Content("Go to"), id="jump-label")
            yield Input(placeholder="INC-1042 or 1042", id="jump", max_length=24)
            yield Input(
                placeholder="/ words status: owner: customer: prio: dept:",
                id="incident-filter",
                max_length=200,
            )
            yield Static(Content("opening the database…"), id="incident-status")
        yield Static(Content(""), id="jump-error")
        table: ListTable[Text] = ListTable(
            id="incident-table", cursor_type="row", zebra_stripes=True
        )
        table.add_fitted_columns(COLUMNS)
        yield table
        yield Static(Content(""), id="incident-empty")
        with Vertical(id="incident-summary"):
            yield Static(Content(""), id="incident-summary-text")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#incident-table", DataTable)

    # -- loading ---------------------------------------------------------------------------

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        self.set_interval(TICK_SECONDS, self._tick)
        self.load()

    def _cells(self, row: IncidentRow, moment: datetime) -> tuple[Text, ...]:
        cells = row_cells(row, self._zone, self._variables, moment)
        if row.id in self.selected:
            cells = (Text("● ", style="bold") + cells[0], *cells[1:])
        return cells

    def _tick(self) -> None:
        """Count the shown badges on; rows whose text stays the same are left alone."""
        table, moment = self.table, clock.now()
        for row_id, row in self._rows.items():
            cell = escalation_cell(row, self._variables, moment)
            key = str(row_id)
            if table.get_cell(key, "escalation").plain != cell.plain:
                table.update_cell(key, "escalation", cell)
        self._show_summary()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.incident_ids or batch.touches(*LIST_ENTITIES):
            self.load(keep_position=True)

    def load(self, *, keep_position: bool = False) -> None:
        """(Re)load the list from its start; keep as many rows as are shown now."""
        count = max(PAGE_SIZE, len(self._rows)) if keep_position else PAGE_SIZE
        from cc_tui.services.incidents.listing import incident_page

        request = self._next_request()
        self.call(
            incident_page,
            on_result=lambda page: self._replace(request, page, keep_position),
            on_error=lambda error: self._failed(request, error),
            group="incident-list",
            open_only=self.open_only,
            before_id=self.before_id,
            count=count,
            filter_text=self.filter_text,
        )

    def load_more(self) -> None:
        if self.busy or not self.has_more or not self._rows:
            return
        from cc_tui.services.incidents.listing import next_incident_page

        request = self._next_request()
        self.call(
            next_incident_page,
            on_result=lambda page: self._append(request, page),
            on_error=lambda error: self._failed(request, error),
            group="incident-list",
            open_only=self.open_only,
            before_id=self.before_id,
            after_id=min(self._rows),
            count=PAGE_SIZE,
            filter_text=self.filter_text,
        )

    def _next_request(self) -> int:
        self._request += 1
        self.busy = True
        self._show_status()
        return self._request

    def _failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self.busy = False
        self._show_status()
        show_error(self, error)

    def _replace(self, request: int, page: IncidentPage, keep_position: bool) -> None:
        if request != self._request:
            return
        table = self.table
        current = self._current_id() if keep_position else None
        old_row = table.cursor_row
        self.busy = False
        self.open_only, self.before_id = page.open_only, page.before_id
        self.has_more = page.has_more
        self._rows = {row.id: row for row in page.rows}
        self.selected &= set(self._rows)
        self._variables = self.app.theme_variables
        moment = clock.now()
        with self.app.batch_update():
            table.clear()
            for row in self.sort.apply(page.rows):
                table.add_row(*self._cells(row, moment), key=str(row.id))
            target = page.target if page.target is not None else current
            if target is not None and target in self._rows:
                table.move_cursor(row=table.get_row_index(str(target)), animate=False)
            elif keep_position and page.rows:
                table.move_cursor(row=min(old_row, len(page.rows) - 1), animate=False)
            else:
                table.move_cursor(row=0, animate=False)
        self._show_empty(page)
        self._show_status()
        self._show_summary()

    def _append(self, request: int, page: IncidentPage) -> None:
        if request != self._request:
            return
        self.busy = False
        self.has_more = page.has_more
        table, moment = self.table, clock.now()
        for row in page.rows:
            if row.id in self._rows:
                continue  # already shown (it moved down while new ones arrived)
            self._rows[row.id] = row
            table.add_row(*self._cells(row, moment), key=str(row.id))
        self._show_status()

    # -- showing -----------------------------------------------------------------------------

    def _current_id(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def _show_empty(self, page: IncidentPage) -> None:
        empty = self.query_one("#incident-empty", Static)
        has_rows = bool(page.rows)
        self.table.display = has_rows
        self.query_one("#incident-summary").display = has_rows
        empty.display = not has_rows
        if has_rows:
            return
        if not page.any_incident:
            key = self.app.key_display("mode.intake", "f2")
            empty.update(Content(f"No incidents yet — press {key} to take a call"))
        elif page.open_only:
            all_key = self._key("incidents.all", "a")
            empty.update(Content(f"No open incidents — press {all_key} to list all incidents"))
        else:
            empty.update(Content("No incidents here."))

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    def _show_status(self) -> None:
        status = self.query_one("#incident-status", Static)
        parts = ["Open incidents" if self.open_only else "All incidents"]
        if self.before_id is not None:
            newest = self._key("incidents.reload", "r")
            parts.append(f"from INC-{self.before_id - 1} down ({newest}: newest first)")
        else:
            parts.append("newest first")
        if self._rows:
            parts.append(f"{len(self._rows)} shown" + (", more below" if self.has_more else ""))
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.sort.column:
            parts.append(self.sort.describe())
        if self.selected:
            parts.append(f"{len(self.selected)} selected")
        if self.busy:
            parts.append("loading…")
        status.update(Content(" · ".join(parts)))

    def _show_summary(self) -> None:
        text = self.query_one("#incident-summary-text", Static)
        current = self._current_id()
        row = self._rows.get(current) if current is not None else None
        text.update(summary(row, self._zone) if row is not None else Content(""))

    @on(DataTable.RowSelected, "#incident-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        from cc_tui.screens.incident_detail import show_incident

        if event.row_key.value is not None:
            show_incident(self.app, int(event.row_key.value))

    @on(DataTable.RowHighlighted, "#incident-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_summary()
        if event.cursor_row >= self.table.row_count - 1 - PRELOAD_ROWS:
            self.load_more()

    # -- keys ----------------------------------------------------------------------------------

    def action_filter(self, open_only: bool) -> None:
        if open_only == self.open_only and self.before_id is None:
            return
        self.open_only = open_only
        self.before_id = None
        self.load()

    def action_reload(self) -> None:
        self.before_id = None
        self.load()

    # -- the console habits: filter, sort, select, export ------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one("#incident-filter", Input).focus()

    @on(Input.Submitted, "#incident-filter")
    def _filter(self, event: Input.Submitted) -> None:
        from cc_tui.services.incidents.list_filter import parse_filter

        error_line = self.query_one("#jump-error", Static)
        error_line.update(Content(""))
        try:
            parse_filter(event.value)
        except CcError as error:
            error_line.update(Content(error.message))
            return
        self.filter_text = event.value.strip()
        self.before_id = None
        self.load()
        self.table.focus()

    def _shown_rows(self) -> list[IncidentRow]:
        """The rows in the order shown."""
        return self.sort.apply(self._rows.values())

    def _redraw(self) -> None:
        table, moment = self.table, clock.now()
        current = self._current_id()
        with self.app.batch_update():
            table.clear()
            for row in self._shown_rows():
                table.add_row(*self._cells(row, moment), key=str(row.id))
            if current is not None and current in self._rows:
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        self._show_status()

    def action_sort(self) -> None:
        self.sort.cycle()
        self._redraw()

    @on(DataTable.HeaderSelected, "#incident-table")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        if event.column_key.value is not None:
            self.sort.pick(event.column_key.value)
            self._redraw()

    def action_toggle_select(self) -> None:
        current = self._current_id()
        if current is None:
            return
        self.selected ^= {current}
        row = self._rows[current]
        cells = self._cells(row, clock.now())
        self.table.update_cell(str(current), "number", cells[0])
        self.table.action_cursor_down()
        self._show_status()

    def action_export(self) -> None:
        from datetime import datetime as _dt

        from cc_tui.dialogs.export import ExportDialog
        from cc_tui.services.reports.export import write_rows_csv

        rows = [r for r in self._shown_rows() if not self.selected or r.id in self.selected]
        if not rows:
            self.notify("Nothing to export.", severity="warning", timeout=3)
            return
        headers, body = export_rows(rows, self._zone)
        what = "the selected incidents" if self.selected else "the incident list"

        def written(path: object) -> None:
            if path is not None:
                self.notify(f"{len(rows)} rows written to {path}", title="Exported", markup=False)

        self.app.push_screen(
            ExportDialog(
                what=what,
                count=len(rows),
                default=f"incidents-{_dt.now().strftime('%Y%m%d-%H%M')}.csv",
                write=lambda path: write_rows_csv(headers, body, path),
            ),
            written,
        )

    # -- changing the selected incidents, each on its own --------------------------------

    def _targets(self) -> list[IncidentRow]:
        """The selected incidents in the order shown, else the highlighted one."""
        if self.selected:
            return [row for row in self._shown_rows() if row.id in self.selected]
        current = self._current_id()
        row = self._rows.get(current) if current is not None else None
        return [row] if row is not None else []

    def _what(self, rows: list[IncidentRow]) -> str:
        return rows[0].number if len(rows) == 1 else incidents_text(len(rows))

    def action_bulk_assign_me(self) -> None:
        """The selected incidents (or the highlighted one) to me."""
        connection = self.connected()
        rows = self._targets()
        if connection is None or not rows:
            return
        self._assign(rows, connection.actor.login, agent=True, reason=None)

    def action_bulk_assign(self) -> None:
        """Choose an agent (with each one's load), then assign the selected to them."""
        from cc_tui.services.routing.queues import Load
        from cc_tui.services.routing.queues import load as read_load

        rows = self._targets()
        if self.connected() is None or not rows:
            return

        def pick(found: Load) -> None:
            from cc_tui.dialogs.assign import AgentPicker

            departments = {row.department for row in rows}
            picker = AgentPicker(
                f"Assign {self._what(rows)} to",
                found.agents,
                department=departments.pop() if len(departments) == 1 else None,
            )
            self.app.push_screen(picker, lambda choice: self._chosen(rows, choice, agent=True))

        self.call(read_load, on_result=pick, group="incident-pick")

    def action_bulk_move(self) -> None:
        """Choose a department, then move the selected into its queue (nobody owns them)."""
        from cc_tui.services.routing.queues import Load
        from cc_tui.services.routing.queues import load as read_load

        rows = self._targets()
        if self.connected() is None or not rows:
            return

        def pick(found: Load) -> None:
            from cc_tui.dialogs.assign import DepartmentPicker

            # Unowned incidents all in one queue cannot move to that same queue.
            places = {(row.department, row.owner) for row in rows}
            exclude = rows[0].department if len(places) == 1 and rows[0].owner is None else None
            picker = DepartmentPicker(
                f"Move {self._what(rows)} to the queue of", found.departments, exclude=exclude
            )
            self.app.push_screen(picker, lambda choice: self._chosen(rows, choice, agent=False))

        self.call(read_load, on_result=pick, group="incident-pick")

    def action_bulk_priority(self) -> None:
        """Choose a priority, then give it to the selected (their deadlines follow)."""
        from cc_tui.services.sla.priorities import PriorityInfo, list_priorities

        rows = self._targets()
        connection = self.connected()
        if connection is None or not rows:
            return

        def pick(priorities: list[PriorityInfo]) -> None:
            from cc_tui.dialogs.assign import PriorityPicker

            picker = PriorityPicker(f"Priority of {self._what(rows)}", priorities)
            self.app.push_screen(picker, lambda choice: self._prioritize(rows, choice))

        self.call(list_priorities, on_result=pick, group="incident-pick")

    def _chosen(self, rows: list[IncidentRow], choice: AssignChoice | None, *, agent: bool) -> None:
        if choice is not None:
            self._assign(rows, choice.target, agent=agent, reason=choice.reason)

    def _assign(
        self, rows: list[IncidentRow], target: str, *, agent: bool, reason: str | None
    ) -> None:
        from cc_tui.services.routing.queues import assign_each

        where = f"with {target}" if agent else f"in the {target} queue"
        self._each(
            assign_each,
            rows,
            "Assigned" if agent else "Moved",
            where,
            to_agent=target if agent else None,
            to_department=None if agent else target,
            reason=reason,
        )

    def _prioritize(self, rows: list[IncidentRow], choice: AssignChoice | None) -> None:
        from cc_tui.services.incidents.edit import set_priority_each

        if choice is not None:
            where = f"at {choice.target}"
            self._each(set_priority_each, rows, "Priority set", where, priority=choice.target)

    def _each(
        self,
        change: Callable[..., EachOutcome[Any]],
        rows: list[IncidentRow],
        verb: str,
        where: str,
        **options: Any,
    ) -> None:
        """One change to each of `rows` (at the version the list read), reported as a whole."""
        connection = self.connected()
        if connection is None:
            return
        self.call(
            change,
            on_result=lambda outcome: self._report(outcome, verb, where),
            on_error=self._refused,
            write=True,
            group="incident-bulk",
            # Each change is reported, also when another is asked for meanwhile.
            exclusive=False,
            actor=connection.actor,
            chosen=[(row.id, row.version) for row in rows],
            **options,
        )

    def _report(self, outcome: EachOutcome[Any], verb: str, where: str) -> None:
        """Say what became of each incident; the refused ones stay selected."""
        title, text = outcome_message(outcome, verb=verb, where=where)
        refused = outcome.refused
        self.notify(
            text,
            title=title,
            severity=("error" if not outcome.done else "warning") if refused else "information",
            timeout=20 if refused else 5,
            markup=False,
        )
        self.selected = {r.id for r in refused}
        self.load(keep_position=True)

    def _refused(self, error: BaseException) -> None:
        """The whole change was refused (the agent, department or priority, the database)."""
        show_error(self, error)
        self.load(keep_position=True)

    def action_go_to(self) -> None:
        self.query_one("#jump", Input).focus()

    def action_back_to_list(self) -> None:
        self.query_one("#jump-error", Static).update(Content(""))
        self._done_jumping()

    @on(Input.Submitted, "#jump")
    def _jump(self, event: Input.Submitted) -> None:
        error_line = self.query_one("#jump-error", Static)
        error_line.update(Content(""))
        text = event.value.strip()
        if not text:
            return
        if self.connection is None:
            error_line.update(Content("The database is not open yet."))
            return
        from cc_tui.services.incidents.base import parse_ref

        try:
            incident_id = parse_ref(text)
        except CcError as error:
            self._jump_refused(error)
            return
        if incident_id in self._rows:
            self.table.move_cursor(row=self.table.get_row_index(str(incident_id)))
            self._done_jumping()
            return
        open_only = self.open_only
        request = self._next_request()

        def shown(page: IncidentPage) -> None:
            self._replace(request, page, keep_position=False)
            if request == self._request:
                self._done_jumping()

        def refused(error: BaseException) -> None:
            if request != self._request:
                return
            self.busy = False
            self._show_status()
            if isinstance(error, CcError):
                self._jump_refused(error)
            else:
                show_error(self, error)

        from cc_tui.services.incidents.listing import incident_page_at

        self.call(
            incident_page_at,
            on_result=shown,
            on_error=refused,
            group="incident-list",
            incident_id=incident_id,
            open_only=open_only,
            count=PAGE_SIZE,
        )

    def _jump_refused(self, error: CcError) -> None:
        """Say why next to the field; keep the text selected, so typing replaces it."""
        self.query_one("#jump-error", Static).update(Content(error.message))
        self.query_one("#jump", Input).select_all()

    def _done_jumping(self) -> None:
        self.query_one("#jump", Input).value = ""
        self.table.focus()
