"""`cc-tui queue ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Assignment queues and load.", no_args_is_help=True)
