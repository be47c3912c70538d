"""`cc-tui event-type ...`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Event types (user-definable; system kinds are fixed).", no_args_is_help=True
)
