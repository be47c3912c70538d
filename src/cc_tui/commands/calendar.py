"""`cc-tui calendar ...`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Business calendars: hours, holidays, due-time arithmetic.", no_args_is_help=True
)
