"""`cc-tui priority ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Priority codes.", no_args_is_help=True)
