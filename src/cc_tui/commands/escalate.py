"""`cc-tui escalate`: one escalation sweep (cron-able)."""

from __future__ import annotations

import typer

from cc_tui.commands.common import JSON_OPTION, command, emit, state

app = typer.Typer(help="Run one escalation sweep.")


def _text(result) -> str:
    if result.skipped:
        return "another sweep is running; nothing done"
    if not result.changed:
        return f"no escalation ({result.checked} incident(s) looked at)"
    return (
        f"{result.changed} incident(s) escalated: {result.follow_up} follow_up, "
        f"{result.warning} warning, {result.late} late; {result.alerts} alert(s), "
        f"{result.actions} action(s)"
    )


@app.callback(invoke_without_command=True)
@command
def escalate(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None, "--at", help="Sweep as of this ISO 8601 time (default: now)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move incidents to follow_up, warning or late as their deadlines pass."""
    from cc_tui.services.calendars import parse_instant
    from cc_tui.services.escalation import escalate as sweep

    when = parse_instant(at, field="at") if at else None
    with state(ctx).work() as (session, _actor):
        result = sweep(session, at=when)
    emit(result, as_json=as_json, human=_text)
