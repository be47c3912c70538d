"""Pieces of the supervisor board: one panel per department with its counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from cc_tui.widgets.escalation_badge import STYLE, span_text

if TYPE_CHECKING:
    from cc_tui.services.routing.queues import DepartmentLoad

# Short labels so that a panel stays narrow (the board shows them side by side).
STATUS_SHORT = (
    ("registered", "reg"),
    ("assigned", "asg"),
    ("in_process", "inp"),
    ("pending", "pen"),
    ("transferred", "trf"),
)
ESCALATION_SHORT = (("late", "late"), ("warning", "warn"), ("follow_up", "f/up"))


def panel_content(dept: DepartmentLoad, now: datetime) -> Content:
    """Queue and open counts, open by status, escalations, the oldest waiting item.

    Every value is plain text (department names come from the database)."""
    counts = [
        Content.assemble((short, "dim"), f" {dept.by_status.get(name, 0)}")
        for name, short in STATUS_SHORT
    ]
    escalated = [
        Content.styled(f"{label} {dept.by_escalation.get(name, 0)}", STYLE[name])
        for name, label in ESCALATION_SHORT
        if dept.by_escalation.get(name, 0)
    ]
    escalation = (
        Content(" ").join(escalated)
        if escalated
        else Content.styled("all on time", STYLE["on_time"])
    )
    oldest = dept.oldest_waiting
    waiting = (
        Content.assemble(("oldest ", "dim"), oldest.number, " · ", span_text(now - oldest.since))
        if oldest is not None
        else Content.styled("nobody waiting", "dim")
    )
    return Content("\n").join(
        [
            Content.assemble(
                ("queue ", "dim"),
                (str(dept.unassigned), "bold"),
                ("  open ", "dim"),
                str(dept.open),
            ),
            Content("  ").join(counts[:3]),
            Content("  ").join(counts[3:]),
            escalation,
            waiting,
        ]
    )


def compact_content(dept: DepartmentLoad, index: int | None) -> Content:
    """The panel on one line, for short terminals: key, code, queue, open, escalations."""
    key = f"{index} " if index is not None and index < 10 else ""
    escalated = [
        Content.styled(f"{label} {dept.by_escalation.get(name, 0)}", STYLE[name])
        for name, label in ESCALATION_SHORT
        if dept.by_escalation.get(name, 0)
    ]
    return Content(" ").join(
        [
            Content.styled(f"{key}{dept.code or '–'}", "bold"),
            Content.assemble(("q", "dim"), str(dept.unassigned), ("/", "dim"), str(dept.open)),
            *escalated,
        ]
    )


class DepartmentPanel(Static):
    """A department's counts; the selected one is the queue listed below the panels.
    A click chooses it (the board's keys do the same without a mouse)."""

    DEFAULT_CSS = """
    DepartmentPanel {
        /* The panels share the width (five fit at 120 columns, titles show in full on wide
           terminals); more than fit scroll sideways. */
        width: 1fr;
        min-width: 22;
        max-width: 48;
        height: 7;
        border-title-align: left;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        border: round $primary 50%;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    DepartmentPanel.-selected {
        border: round $accent;
        background: $boost;
    }
    DepartmentPanel.-unrouted {
        border: round $warning 60%;
    }
    DepartmentPanel.-compact {
        width: auto;
        min-width: 0;
        height: 1;
        border: none;
        margin-right: 1;
    }
    DepartmentPanel.-compact.-selected {
        border: none;
        background: $accent 40%;
    }
    """

    @dataclass
    class Chosen(Message):
        code: str

    def __init__(
        self, dept: DepartmentLoad, now: datetime, index: int | None, *, compact: bool = False
    ) -> None:
        super().__init__(panel_content(dept, now))
        self.code = dept.code
        self.compact = compact
        self.show(dept, now, index)

    def show(self, dept: DepartmentLoad, now: datetime, index: int | None) -> None:
        self._shown = (dept, now, index)
        self.set_class(self.compact, "-compact")
        self.update(compact_content(dept, index) if self.compact else panel_content(dept, now))
        key = f"{index} " if index is not None and index < 10 else ""
        self.border_title = Content(f"{key}{dept.code or '–'} {dept.name}")
        self.border_subtitle = Content("on site" if dept.on_site else "")
        self.set_class(dept.code is None, "-unrouted")

    def set_compact(self, compact: bool) -> None:
        """One line (short terminals) or the full panel."""
        if compact != self.compact:
            self.compact = compact
            self.show(*self._shown)

    def on_click(self, event: events.Click) -> None:
        if self.code is not None:
            event.stop()
            self.post_message(self.Chosen(self.code))
