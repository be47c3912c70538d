"""A row table that also moves with the console habits j, k, g and G, and whose columns fit
the terminal: on a narrow one the less important columns shrink, then hide; on a wide one
the flexible columns (titles) take the free width."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from textual import events
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets._data_table import Column

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

# Room kept for the vertical scroll bar, shown or not (the widths never jump with it).
SCROLLBAR = 2


class ColumnSpec(NamedTuple):
    """How a column fits: `width` as wanted; `least` the narrowest it may get before any
    column is hidden; `drop` the order columns hide in on a narrow terminal (1 first; 0:
    never); `grow` columns share the width left over in that proportion, up to `most`."""

    key: str
    heading: str
    width: int
    least: int | None = None
    drop: int = 0
    grow: int = 0
    most: int | None = None


def fit_widths(specs: Sequence[ColumnSpec], room: int, padding: int = 1) -> dict[str, int]:
    """The width of each column shown in `room` cells (hidden columns are left out)."""
    widths = {spec.key: spec.width for spec in specs}
    cost = padding * 2

    def total() -> int:
        return sum(width + cost for width in widths.values())

    # First shrink (growing columns first), then hide, then give the rest to the growing.
    for spec in sorted(specs, key=lambda s: not s.grow):
        if total() <= room:
            break
        least = spec.width if spec.least is None else spec.least
        widths[spec.key] = max(least, widths[spec.key] - (total() - room))
    for spec in sorted((s for s in specs if s.drop), key=lambda s: s.drop):
        if total() <= room:
            break
        del widths[spec.key]
    growing = [s for s in specs if s.grow and s.key in widths]
    while growing and (spare := room - total()) > 0:
        weight = sum(s.grow for s in growing)
        for spec in growing:
            share = max(1, spare * spec.grow // weight)
            limit = spec.most if spec.most is not None else widths[spec.key] + share
            widths[spec.key] = min(limit, widths[spec.key] + share, widths[spec.key] + spare)
            spare = room - total()
            if spare <= 0:
                break
        growing = [s for s in growing if s.most is None or widths[s.key] < s.most]
    return widths


@dataclass
class FitColumn(Column):
    """A column that can be hidden: it then takes no cells at all."""

    hidden: bool = False

    def get_render_width(self, data_table: DataTable[Any]) -> int:
        return 0 if self.hidden else super().get_render_width(data_table)


class ListTable(DataTable[CellType]):
    """Only while the table has the focus, so a text field still takes these letters."""

    BINDINGS = [
        Binding("j", "cursor_down", "Next row", show=False),
        Binding("k", "cursor_up", "Previous row", show=False),
        Binding("g", "scroll_top", "First row", show=False),
        Binding("G", "scroll_bottom", "Last row", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs: tuple[ColumnSpec, ...] = ()

    def add_fitted_columns(self, specs: Iterable[ColumnSpec]) -> None:
        """Add the columns; their widths follow the table's width from then on."""
        self.specs = tuple(specs)
        for spec in self.specs:
            self.add_column(spec.heading, width=spec.width, key=spec.key)
            column = self.columns[spec.key]  # type: ignore[index]
            self.columns[column.key] = FitColumn(
                column.key, column.label, column.width, column.content_width, column.auto_width
            )

    def shown_columns(self) -> list[str]:
        return [
            str(c.key.value)
            for c in self.ordered_columns
            if not (isinstance(c, FitColumn) and c.hidden)
        ]

    def fit_columns(self, width: int | None = None) -> None:
        if not self.specs:
            return
        room = (width if width is not None else self.size.width) - SCROLLBAR
        if room <= 0:
            return
        widths = fit_widths(self.specs, room, self.cell_padding)
        changed = False
        for spec in self.specs:
            column = self.columns.get(spec.key)  # type: ignore[call-overload]
            if not isinstance(column, FitColumn):
                continue
            hidden = spec.key not in widths
            width_now = widths.get(spec.key, column.width)
            if (column.hidden, column.width) != (hidden, width_now):
                column.hidden, column.width = hidden, width_now
                changed = True
        if changed:
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_columns(event.size.width)


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
