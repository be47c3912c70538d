"""The Knowledge base mode: answers while the caller is talking. What it will hold is said
on screen; nothing here is invented."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from cc_tui.screens.base import ConsoleScreen


class KnowledgeBaseScreen(ConsoleScreen):
    MODE = "kb"

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(classes="mode-intro"):
            yield Static(Content("Knowledge base"), classes="mode-intro-title")
            yield Static(
                Content(
                    "Search articles, phone numbers and call scripts while the caller is "
                    "still talking, and record which one answered the question."
                ),
                classes="mode-intro-text",
            )
            yield Static(
                Content("Searching the knowledge base here is not built yet."),
                classes="mode-intro-status",
            )
