"""`cc-tui timer ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Timer on an incident: start, stop, status.", no_args_is_help=True)
