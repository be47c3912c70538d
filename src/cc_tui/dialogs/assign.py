"""Pickers for assigning incidents: an agent (with each agent's current load) or a
department (support or on-site), plus an optional reason for the timeline; and the same
picker for a priority code (no reason: the priority's change is its own timeline event).

Both are modal and keyboard-first: type to filter, up/down to choose, enter to assign,
escape to cancel. They show the load the board last read (it follows the change feed), so
opening them costs no database round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from cc_tui.widgets.escalation_badge import working_span

if TYPE_CHECKING:
    from cc_tui.services.routing.queues import AgentLoad, DepartmentLoad
    from cc_tui.services.sla.priorities import PriorityInfo


@dataclass(frozen=True)
class AssignChoice:
    """What the person picked: an agent login or a department code, and why."""

    target: str
    reason: str | None


# The most rows the table shows (with its header); fewer on a short terminal.
TABLE_ROWS = 16


def _cell(value: object, *, right: bool = False) -> Text:
    text = "" if value is None else str(value)
    return Text(text, no_wrap=True, overflow="ellipsis", justify="right" if right else "left")


class PickerDialog(ModalScreen[AssignChoice | None]):
    """A filterable table of targets and a reason field."""

    DEFAULT_CSS = """
    PickerDialog {
        align: center middle;
        background: $background 60%;
    }
    PickerDialog > #picker {
        width: 96;
        max-width: 98%;
        height: auto;
        max-height: 90%;
        padding: 0 1;
        border: thick $accent;
        background: $surface;
    }
    PickerDialog #picker-title {
        text-style: bold;
        padding: 0 1;
    }
    PickerDialog #picker-table {
        height: auto;
        margin: 1 0;
    }
    PickerDialog #picker-none {
        padding: 1;
        color: $text-muted;
    }
    PickerDialog #picker-hint {
        color: $text-muted;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]
    AUTO_FOCUS = "#picker-filter"
    COLUMNS: tuple[tuple[str, str, int], ...] = ()
    NOUN = "item"
    PLURAL = "items"
    VERB = "assigns"
    # Whether the picker asks why (written to the timeline with the change).
    ASKS_REASON = True

    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title
        self._keys: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content(self._title), id="picker-title")
            yield Input(placeholder=f"type to filter the {self.PLURAL}", id="picker-filter")
            table: DataTable[Text] = DataTable(id="picker-table", cursor_type="row")
            for key, heading, width in self.COLUMNS:
                table.add_column(heading, width=width, key=key)
            yield table
            yield Static(Content(f"No {self.NOUN} matches."), id="picker-none")
            if self.ASKS_REASON:
                yield Input(placeholder="reason (optional, written to the timeline)", id="reason")
            yield Static(
                Content(f"enter {self.VERB} · up/down chooses · tab moves · escape cancels"),
                id="picker-hint",
            )

    def on_mount(self) -> None:
        self._fill("")
        self._fit(self.app.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        """On a short terminal the table gives up rows, so the reason and the hint stay in
        view (the box takes 90% of the height; border, title, filter, the table's margins,
        reason and hint take the rest)."""
        around = 9 + (3 if self.ASKS_REASON else 0)
        room = max(4, min(TABLE_ROWS, height * 9 // 10 - around))
        self.query_one("#picker-table", DataTable).styles.max_height = room

    # Subclasses: the rows (key, cells) that match a filter text.
    def rows(self, text: str) -> list[tuple[str, tuple[Text, ...]]]:
        raise NotImplementedError

    def _fill(self, text: str) -> None:
        table = self.query_one("#picker-table", DataTable)
        rows = self.rows(text.strip().lower())
        table.clear()
        self._keys = []
        for key, cells in rows:
            table.add_row(*cells, key=key)
            self._keys.append(key)
        table.display = bool(rows)
        self.query_one("#picker-none").display = not rows

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        table = self.query_one("#picker-table", DataTable)
        if table.row_count:
            row = min(max(table.cursor_row + step, 0), table.row_count - 1)
            table.move_cursor(row=row, animate=False)

    def _pick(self) -> None:
        table = self.query_one("#picker-table", DataTable)
        if not table.row_count:
            self.notify(f"No {self.NOUN} to pick.", severity="warning", timeout=3)
            return
        key = self._keys[table.cursor_row]
        fields = self.query("#reason").results(Input)
        reason = next((field.value.strip() for field in fields), "") or None
        self.dismiss(AssignChoice(key, reason))

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self._pick()

    @on(DataTable.RowSelected, "#picker-table")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self._pick()

    def action_cancel(self) -> None:
        self.dismiss(None)


class AgentPicker(PickerDialog):
    """Choose an agent; each row shows the agent's open incidents and how many are late."""

    NOUN = "agent"
    PLURAL = "agents"
    COLUMNS = (
        ("login", "Agent", 12),
        ("name", "Name", 18),
        ("department", "Dept", 8),
        ("open", "Open", 5),
        ("warning", "Warn", 5),
        ("late", "Late", 5),
        ("skills", "Skills", 20),
    )

    def __init__(
        self, title: str, agents: Sequence[AgentLoad], *, department: str | None = None
    ) -> None:
        super().__init__(title)
        # The incident's own department first, then the least loaded.
        self._agents = sorted(
            (a for a in agents if a.active),
            key=lambda a: (a.department != department, a.open, a.login),
        )

    def rows(self, text: str) -> list[tuple[str, tuple[Text, ...]]]:
        found: list[tuple[str, tuple[Text, ...]]] = []
        for a in self._agents:
            words = " ".join([a.login, a.name, a.department or "", *a.skills]).lower()
            if text and text not in words:
                continue
            found.append(
                (
                    a.login,
                    (
                        _cell(a.login),
                        _cell(a.name),
                        _cell(a.department or "–"),
                        _cell(a.open, right=True),
                        _cell(a.by_escalation.get("warning", 0), right=True),
                        _cell(a.by_escalation.get("late", 0), right=True),
                        _cell(", ".join(a.skills)),
                    ),
                )
            )
        return found


class DepartmentPicker(PickerDialog):
    """Choose a department: support desks and on-site service departments."""

    NOUN = "department"
    PLURAL = "departments"
    VERB = "moves"
    COLUMNS = (
        ("code", "Dept", 8),
        ("name", "Name", 26),
        ("kind", "Work", 8),
        ("queue", "Queue", 6),
        ("open", "Open", 6),
        ("late", "Late", 5),
    )

    def __init__(
        self, title: str, departments: Sequence[DepartmentLoad], *, exclude: str | None = None
    ) -> None:
        super().__init__(title)
        self._departments = [d for d in departments if d.code and d.code != exclude]

    def rows(self, text: str) -> list[tuple[str, tuple[Text, ...]]]:
        found: list[tuple[str, tuple[Text, ...]]] = []
        for d in self._departments:
            kind = "on site" if d.on_site else "support"
            if text and text not in f"{d.code} {d.name} {kind}".lower():
                continue
            found.append(
                (
                    d.code or "",
                    (
                        _cell(d.code),
                        _cell(d.name),
                        _cell(kind),
                        _cell(d.unassigned, right=True),
                        _cell(d.open, right=True),
                        _cell(d.by_escalation.get("late", 0), right=True),
                    ),
                )
            )
        return found


class PriorityPicker(PickerDialog):
    """Choose a priority code, most urgent first, with its response and resolution times."""

    NOUN = "priority"
    PLURAL = "priorities"
    VERB = "sets"
    ASKS_REASON = False
    COLUMNS = (
        ("code", "Prio", 8),
        ("name", "Name", 26),
        ("response", "Response", 10),
        ("resolve", "Resolve", 10),
    )

    def __init__(self, title: str, priorities: Sequence[PriorityInfo]) -> None:
        super().__init__(title)
        self._priorities = [p for p in priorities if p.active]

    def rows(self, text: str) -> list[tuple[str, tuple[Text, ...]]]:
        found: list[tuple[str, tuple[Text, ...]]] = []
        for p in self._priorities:
            if text and text not in f"{p.code} {p.name}".lower():
                continue
            found.append(
                (
                    p.code,
                    (
                        _cell(p.code),
                        _cell(p.name),
                        _cell(_span(p.response_minutes), right=True),
                        _cell(_span(p.resolve_minutes), right=True),
                    ),
                )
            )
        return found


def _span(minutes: int | None) -> str:
    return "–" if minutes is None else working_span(minutes)
