"""A row table that also moves with the console habits j, k, g and G."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from textual.binding import Binding
from textual.widgets import DataTable

CellType = TypeVar("CellType")
RowT = TypeVar("RowT")

# (key, description) for the keys dialog; the bindings below are the same keys.
LIST_KEYS = (
    ("j / ↓", "Next row"),
    ("k / ↑", "Previous row"),
    ("g", "First row"),
    ("G", "Last row (loaded so far)"),
    ("enter", "Open the row"),
)


class ListTable(DataTable[CellType]):
    """Only while the table has the focus, so a text field still takes these letters."""

    BINDINGS = [
        Binding("j", "cursor_down", "Next row", show=False),
        Binding("k", "cursor_up", "Previous row", show=False),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]


class ListSort:
    """The sort of a list's loaded rows: a column (None: the list's own order) and its
    direction. `s` cycles through the columns, a click on a header picks one (again: the
    other direction)."""

    def __init__(self, getters: dict[str, Callable[[Any], Any]] | None = None) -> None:
        self.getters = getters or {}
        self.column: str | None = None
        self.descending = False
        self.labels: dict[str, str] = {}

    def cycle(self) -> None:
        keys = list(self.getters)
        if not keys:
            return
        if self.column is None:
            self.column, self.descending = keys[0], False
        elif keys.index(self.column) + 1 < len(keys):
            self.column, self.descending = keys[keys.index(self.column) + 1], False
        else:
            self.column = None

    def pick(self, column: str) -> None:
        if column not in self.getters:
            return
        if self.column == column:
            self.descending = not self.descending
        else:
            self.column, self.descending = column, False

    def apply(self, rows: Iterable[RowT]) -> list[RowT]:
        rows = list(rows)
        if self.column is None:
            return rows
        get = self.getters[self.column]
        present = [r for r in rows if get(r) is not None]
        absent = [r for r in rows if get(r) is None]
        return sorted(present, key=get, reverse=self.descending) + absent

    def describe(self) -> str:
        if self.column is None:
            return ""
        name = self.labels.get(self.column, self.column)
        return f"sorted by {name} {'↓' if self.descending else '↑'}"
