"""`cc-tui escalate`: one escalation sweep (cron-able)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run one escalation sweep.")
