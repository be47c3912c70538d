"""The Work orders mode: open orders newest first, paged, filtered by text, department or
technician; an order's screen with its incidents, tasks and timeline and the keys that move
it. Both follow the change feed, so others' work shows without a key press."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from cc_tui.console.calls import Connection, error_message, error_title
from cc_tui.console.local_time import display_zone, local_time
from cc_tui.console.messages import ChangeBatch
from cc_tui.dialogs.form import MessageLine
from cc_tui.dialogs.workorder import CompleteOrderDialog
from cc_tui.screens.base import ConsoleScreen
from cc_tui.screens.incident_detail import fold_pairs
from cc_tui.statuses import status_name
from cc_tui.widgets.list_table import ColumnSpec, ListTable

if TYPE_CHECKING:
    from cc_tui.services.workorders.orders import WorkOrderInfo, WorkOrderRow

PAGE_SIZE = 100
# Changes to these entities can alter what the screens show.
ENTITIES = ("work_order", "incident", "department", "agent")
# Narrower terminals hide the kind, then the count of incidents; wider ones widen the title.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("number", "Number", 10, least=8),
    ColumnSpec("status", "Status", 11),
    ColumnSpec("kind", "Kind", 11, drop=1),
    ColumnSpec("department", "Dept", 8, least=5),
    ColumnSpec("technician", "Technician", 12, least=10, drop=3, grow=1, most=24),
    ColumnSpec("incidents", "Inc", 4, drop=2),
    ColumnSpec("title", "Title", 50, least=16, grow=4),
)

WORK_ORDERS_CSS = """
WorkOrdersScreen #wo-bar { height: auto; padding: 0 1; }
WorkOrderScreen #wo-message { height: auto; padding: 0 1; color: $error; }
WorkOrderScreen #wo-message.-empty { display: none; }
WorkOrdersScreen #wo-bar Input { width: 1fr; min-width: 12; max-width: 24; }
WorkOrdersScreen #wo-bar Label { padding: 1 1 0 1; }
WorkOrdersScreen #wo-status { width: auto; padding: 1 1 0 1; color: $text-muted; }
WorkOrdersScreen #wo-table { height: 1fr; }
WorkOrderScreen #wo-detail { height: 1fr; padding: 0 1; }
"""


@dataclass(frozen=True)
class Filters:
    text: str = ""
    department: str = ""
    technician: str = ""
    open_only: bool = True


def _cells(row: WorkOrderRow) -> tuple[Text, ...]:
    def cell(value: object) -> Text:
        text = "–" if value in (None, "") else str(value)
        return Text(text, no_wrap=True, overflow="ellipsis")

    return (
        cell(row.number),
        cell(status_name(row.status)),
        cell(row.kind + (f"/{row.repair_kind}" if row.repair_kind else "")),
        cell(row.department),
        cell(row.assignee),
        cell(row.incidents),
        cell(row.title),
    )


class WorkOrdersScreen(ConsoleScreen):
    """Open work orders (or all with `a`), newest first; `/` filters by text, `ctrl+d` by
    department, `m` shows mine; `enter` opens one."""

    MODE = "workorders"
    DEFAULT_CSS = WORK_ORDERS_CSS
    AUTO_FOCUS = "#wo-table"
    KEY_GROUPS = (
        ("Filter the list", ("workorders.filter", "workorders.department", "workorders.mine")),
        ("Open or all", ("workorders.open", "workorders.all")),
        ("More", ("workorders.back",)),
    )
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="workorders.filter"),
        Binding("ctrl+d", "focus_department", "Department", id="workorders.department"),
        Binding("m", "mine", "Mine", id="workorders.mine"),
        Binding("o", "open_only(True)", "Open", id="workorders.open"),
        Binding("a", "open_only(False)", "All", id="workorders.all"),
        Binding("escape", "back_to_table", "Back to list", show=False, id="workorders.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = Filters()
        self.rows: dict[str, WorkOrderRow] = {}
        self.has_more = False
        self.busy = False
        self._request = 0
        self._me = ""

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="wo-bar"):
            yield Label(Content("Filter"))
            yield Input(placeholder="text or WO-17", id="wo-filter", max_length=80)
            yield Label(Content("Department"))
            yield Input(placeholder="code", id="wo-department", max_length=40)
            yield Static(Content("opening the database…"), id="wo-status")
        table: ListTable[Text] = ListTable(id="wo-table", cursor_type="row", zebra_stripes=True)
        table.add_fitted_columns(COLUMNS)
        yield table

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#wo-table", DataTable)

    def database_ready(self, connection: Connection) -> None:
        self._me = connection.actor.login
        self.load()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches(*ENTITIES):
            self.load(keep=True)

    def load(self, *, keep: bool = False) -> None:
        count = max(PAGE_SIZE, len(self.rows)) if keep else PAGE_SIZE
        self._request += 1
        request = self._request
        self.busy = True
        self._list(
            lambda rows: self._show(request, rows, count, append=False),
            lambda error: self._failed(request, error),
            before=None,
            count=count + 1,
        )

    def _list(
        self,
        on_result: Callable[[list[WorkOrderRow]], Any],
        on_error: Callable[[BaseException], Any],
        *,
        before: str | None,
        count: int,
    ) -> None:
        from cc_tui.services.workorders.orders import list_orders

        f = self.filters
        self.call(
            list_orders,
            on_result=on_result,
            on_error=on_error,
            group="wo-list",
            open_only=f.open_only,
            text=f.text or None,
            department=f.department or None,
            assignee=f.technician or None,
            limit=count,
            before=before,
        )

    def load_more(self) -> None:
        if self.busy or not self.has_more or not self.rows:
            return
        last = list(self.rows)[-1]
        self._request += 1
        request = self._request
        self.busy = True
        self._list(
            lambda rows: self._show(request, rows, PAGE_SIZE, append=True),
            lambda error: self._failed(request, error),
            before=last,
            count=PAGE_SIZE + 1,
        )

    def _failed(self, request: int, error: BaseException) -> None:
        if request == self._request:
            self.busy = False
            self.query_one("#wo-status", Static).update(Content(error_message(error)))

    def _show(self, request: int, rows: list[WorkOrderRow], count: int, *, append: bool) -> None:
        if request != self._request:
            return
        self.busy = False
        self.has_more = len(rows) > count
        rows = rows[:count]
        table = self.table
        current = self._current()
        if not append:
            self.rows = {}
            table.clear()
        for row in rows:
            self.rows[row.number] = row
            table.add_row(*_cells(row), key=row.number)
        if not append and current in self.rows:
            table.move_cursor(row=table.get_row_index(current), animate=False)
        self._status()

    def _status(self) -> None:
        f = self.filters
        what = ["open orders" if f.open_only else "all orders"]
        if f.department:
            what.append(f"department {f.department}")
        if f.technician:
            what.append(f"of {f.technician}")
        if f.text:
            what.append(f"matching {f.text!r}")
        more = "+" if self.has_more else ""
        text = f"{len(self.rows)}{more} {' '.join(what)}"
        self.query_one("#wo-status", Static).update(Content(text))

    def _current(self) -> str | None:
        table = self.table
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)

    @on(DataTable.RowHighlighted, "#wo-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.table.row_count - 5:
            self.load_more()

    @on(DataTable.RowSelected, "#wo-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        number = str(event.row_key.value)
        self.app.push_screen(WorkOrderScreen(number))

    @on(Input.Submitted, "#wo-filter")
    def _filter(self, event: Input.Submitted) -> None:
        self.filters = Filters(
            event.value.strip(), self.filters.department, self.filters.technician,
            self.filters.open_only,
        )  # fmt: skip
        self.table.focus()
        self.load()

    @on(Input.Submitted, "#wo-department")
    def _department(self, event: Input.Submitted) -> None:
        self.filters = Filters(
            self.filters.text, event.value.strip().upper(), self.filters.technician,
            self.filters.open_only,
        )  # fmt: skip
        self.table.focus()
        self.load()

    def action_focus_filter(self) -> None:
        self.query_one("#wo-filter", Input).focus()

    def action_focus_department(self) -> None:
        self.query_one("#wo-department", Input).focus()

    def action_back_to_table(self) -> None:
        self.table.focus()

    def action_mine(self) -> None:
        mine = "" if self.filters.technician else self._me
        f = self.filters
        self.filters = Filters(f.text, f.department, mine, f.open_only)
        self.load()

    def action_open_only(self, value: bool) -> None:
        f = self.filters
        self.filters = Filters(f.text, f.department, f.technician, value)
        self.load()


def order_content(order: WorkOrderInfo, zone: tzinfo | None, width: int | None = None) -> Content:
    """The order in full: what, who, its incidents, tasks and timeline. The lines of
    facts break between their pairs to fit `width` (a date is never split from its label)."""

    def pair(label: str, value: object) -> Content:
        shown = "–" if value in (None, "") else str(value)
        return Content.assemble((f"{label} ", "dim"), shown, "   ")

    def facts(*pairs: Content) -> Content:
        return fold_pairs(Content.assemble(*pairs), width)

    kind = order.kind + (f" ({order.repair_kind})" if order.repair_kind else "")
    parts: list[Any] = [
        (order.number, "bold"),
        "  ",
        order.title,
        "\n",
        facts(
            pair("Status", status_name(order.status)),
            pair("Kind", kind),
            pair("Department", order.department),
            pair("Technician", order.assignee),
        ),
        "\n",
        facts(
            pair("Template", order.template),
            pair("Problem code", order.problem_code),
            pair("Created", local_time(order.created_at, zone)),
        ),
    ]
    if order.subcontract:
        parts.extend(["\n", pair("Subcontractor", order.subcontract["subcontractor"])])
    if order.billable:
        parts.extend(
            ["\n", pair("Billable", f"{order.cross_reference} {order.destination_type or ''}")]
        )
    if order.actual_solution:
        parts.extend(
            ["\n", pair("Problem", order.actual_problem), pair("Solution", order.actual_solution)]
        )
    parts.extend(["\n\n", ("Incidents  ", "bold"), ", ".join(order.incidents) or "–", "\n"])
    if order.tasks:
        parts.extend(["\n", ("Tasks", "bold"), "\n"])
        for task in order.tasks:
            mark = "x" if task.get("done") else " "
            parts.append(f"  [{mark}] {task.get('text', '')}\n")
    parts.extend(["\n", ("Timeline", "bold"), "\n"])
    for event in reversed(order.events):
        parts.extend(
            [(local_time(event.at, zone), "dim"), f"  {event.author:<10} ", event.text, "\n"]
        )
    return Content.assemble(*parts)


class WorkOrderScreen(ConsoleScreen):
    """One work order: `s` start, `c` complete (form), `x` cancel, `o` reopen."""

    MODE = "workorders"
    DEFAULT_CSS = WORK_ORDERS_CSS
    BINDINGS = [
        Binding("escape", "back", "Back", id="workorder.back"),
        Binding("s", "move('in_progress')", "Start", id="workorder.start"),
        Binding("c", "complete", "Complete", id="workorder.complete"),
        Binding("x", "move('cancelled')", "Cancel order", id="workorder.cancel"),
        Binding("o", "move('open')", "Reopen", id="workorder.reopen"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number
        self.order: WorkOrderInfo | None = None
        self._zone: tzinfo | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield MessageLine(id="wo-message")
        with VerticalScroll(id="wo-detail"):
            yield Static(Content(f"{self.number}  loading…"), id="wo-summary")

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        self.reload()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches("work_order") or (
            self.order is not None and batch.incident_ids & _ids(self.order.incidents)
        ):
            self.reload()

    def reload(self) -> None:
        from cc_tui.services.workorders.orders import show_order

        self.call(
            show_order, on_result=self._show, on_error=self.say, group="wo-load", ref=self.number
        )

    def _show(self, order: WorkOrderInfo) -> None:
        self.order = order
        summary = self.query_one("#wo-summary", Static)
        width = summary.content_region.width or None
        summary.update(order_content(order, self._zone, width))

    def on_resize(self, _event: events.Resize) -> None:
        # The facts break between their pairs at the new width, once it is laid out.
        if self.order is not None:
            self.call_after_refresh(self._show, self.order)

    def say(self, error: BaseException) -> None:
        self.query_one("#wo-message", MessageLine).show(
            Content.assemble((f"{error_title(error)}: ", "bold"), error_message(error))
        )

    def done(self, result: Any) -> None:
        self.query_one("#wo-message", MessageLine).show("")
        moved = ", ".join(f"{i['number']} {status_name(i['status'])}" for i in result.incidents)
        text = (
            f"{result.work_order.number}: {status_name(result.previous)} → "
            f"{status_name(result.work_order.status)}"
        )
        self.notify(text + (f" ({moved})" if moved else ""), timeout=4, markup=False)
        self._show(result.work_order)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_move(self, to: str) -> None:
        if self.order is None:
            return
        connection = self.connected()
        if connection is None:
            return
        from cc_tui.services.workorders.orders import set_status

        self.call(
            set_status,
            on_result=self.done,
            on_error=self.say,
            write=True,
            group="wo-action",
            actor=connection.actor,
            wo=self.number,
            to=to,
            expected_version=self.order.version,
        )

    def action_complete(self) -> None:
        if self.order is None:
            return
        dialog = CompleteOrderDialog(number=self.number, version=self.order.version)
        self.app.push_screen(dialog, lambda result: self.done(result) if result else None)


def _ids(numbers: list[str]) -> set[int]:
    return {int(n.removeprefix("INC-")) for n in numbers}
