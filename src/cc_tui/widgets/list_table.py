"""A row table that also moves with the console habits j, k, g and G."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.widgets import DataTable

CellType = TypeVar("CellType")

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
