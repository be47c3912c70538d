"""`cc-tui kb ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Knowledge base: add, import, export, search, show.", no_args_is_help=True)
