"""`cc-tui unit ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Units (serial numbers), their warranty and contract.", no_args_is_help=True)
