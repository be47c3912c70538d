"""`cc-tui code ...`."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Classification codes: reason, resolution, request type, service problem codes.",
    no_args_is_help=True,
)
