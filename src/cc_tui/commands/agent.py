"""`cc-tui agent ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Agents: add, list, change (admin).", no_args_is_help=True)
