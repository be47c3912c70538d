"""`cc-tui customer ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Customers and contact persons: add, find, show.", no_args_is_help=True)
