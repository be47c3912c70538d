"""`cc-tui demo`: load the demo data set."""

from __future__ import annotations

import typer

app = typer.Typer(help="Load demo data (idempotent).")
