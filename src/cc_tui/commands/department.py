"""`cc-tui department ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Departments (queues): add, list.", no_args_is_help=True)
