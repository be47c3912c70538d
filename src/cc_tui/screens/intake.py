"""The Intake mode: where a call becomes an incident. What it will hold is said on screen;
nothing here is invented."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from cc_tui.screens.base import ConsoleScreen


class IntakeScreen(ConsoleScreen):
    MODE = "intake"

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(classes="mode-intro"):
            yield Static(Content("Intake"), classes="mode-intro-title")
            yield Static(
                Content(
                    "Answer a call: identify the caller by phone, e-mail, name or serial "
                    "number, see their open incidents, classify the request and save it."
                ),
                classes="mode-intro-text",
            )
            yield Static(
                Content(
                    "Taking calls here is not built yet. The Incident mode lists the "
                    "incidents already recorded."
                ),
                classes="mode-intro-status",
            )
