"""`cc-tui contract ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Service contracts and subcontract agreements.", no_args_is_help=True)
