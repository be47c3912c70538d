"""`cc-tui time ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Time entries: book time by hand.", no_args_is_help=True)
