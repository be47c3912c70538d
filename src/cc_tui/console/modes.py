"""The console's main areas (modes): name, label, key and the screen class, imported only when
the mode is first shown, so the first paint does not wait for screens the agent has not opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class Mode:
    """One main area of the console: its name, label, default key and screen class."""

    name: str
    label: str
    key: str
    module: str
    screen: str
    help: str
    # The tab's label when the full ones do not fit on one line (80 columns).
    short: str = ""

    @property
    def binding_id(self) -> str:
        return f"mode.{self.name}"

    def make_screen(self) -> Screen:
        return getattr(import_module(self.module), self.screen)()


MODES: tuple[Mode, ...] = (
    Mode(
        "intake",
        "Intake",
        "f2",
        "cc_tui.screens.intake",
        "IntakeScreen",
        "Take a call: identify the caller and record an incident",
    ),
    Mode(
        "incident",
        "Incident",
        "f3",
        "cc_tui.screens.incidents",
        "IncidentListScreen",
        "Find an incident: the list, newest first, or jump to a number",
    ),
    Mode(
        "queues",
        "Queues",
        "f4",
        "cc_tui.screens.queues",
        "QueuesScreen",
        "Assignment queues and the supervisor board",
    ),
    Mode(
        "kb",
        "Knowledge base",
        "f5",
        "cc_tui.screens.kb",
        "KnowledgeBaseScreen",
        "Search articles and call scripts",
        short="KB",
    ),
    Mode(
        "workorders",
        "Work orders",
        "f6",
        "cc_tui.screens.workorders",
        "WorkOrdersScreen",
        "Open work orders: start, complete, cancel, reopen",
        short="Orders",
    ),
    Mode(
        "reports",
        "Reports",
        "f7",
        "cc_tui.screens.reports",
        "ReportsScreen",
        "Reports: volumes, times, agents, SLA, backlog; export",
    ),
)

MODE_BY_NAME: dict[str, Mode] = {mode.name: mode for mode in MODES}
