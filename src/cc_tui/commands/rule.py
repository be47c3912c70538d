"""`cc-tui rule ...`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Routing rules: ordered, first match wins.", no_args_is_help=True)
