"""The Queues mode: who works on what next. What it will hold is said on screen; nothing
here is invented."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from cc_tui.screens.base import ConsoleScreen


class QueuesScreen(ConsoleScreen):
    MODE = "queues"

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(classes="mode-intro"):
            yield Static(Content("Queues"), classes="mode-intro-title")
            yield Static(
                Content(
                    "Each department's unassigned incidents in order of urgency, your own "
                    "open work, and a live supervisor board with every agent's load."
                ),
                classes="mode-intro-text",
            )
            yield Static(
                Content(
                    "Queues and assignment are not built yet. The Incident mode lists all "
                    "incidents, newest first."
                ),
                classes="mode-intro-status",
            )
