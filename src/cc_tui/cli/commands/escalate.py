"""`cc-tui escalate`: an escalation sweep (cron-able)."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state

app = typer.Typer(help="Run an escalation sweep.")


def _text(result) -> str:
    if result.skipped and not result.changed:
        return "another sweep is running; nothing done"
    if not result.changed:
        return f"no escalation ({result.checked} incident(s) looked at)"
    text = (
        f"{result.changed} incident(s) escalated: {result.follow_up} follow_up, "
        f"{result.warning} warning, {result.late} late; {result.alerts} alert(s), "
        f"{result.actions} action(s)"
    )
    if result.batches > 1:
        text += f" in {result.batches} batches"
    if result.skipped:
        text += "; another sweep is doing the rest"
    return text


@app.callback(invoke_without_command=True)
@command
def escalate(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None, "--at", help="Sweep as of this ISO 8601 time (default: now)."
    ),
    batch: int = typer.Option(
        None,
        "--batch",
        min=1,
        help="Incidents per transaction (default 5000); a backlog takes several.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move incidents to follow_up, warning or late as their deadlines pass.

    Runs until nothing is due, in transactions of at most --batch incidents each (the
    longest overdue first), so a backlog never holds the incidents for long.
    """
    from cc_tui import clock
    from cc_tui.services.sla.escalation import SWEEP_BATCH, escalate_all, preview
    from cc_tui.services.worktime.calendars import parse_instant

    when = parse_instant(at, field="at") if at else None
    cli = state(ctx)
    with cli.work(write=False) as (_session, actor):
        # The login must be a known, active agent, as for every data command; sweeping as
        # of another time is for admins.
        if when is not None:
            actor.require_admin("sweep as of another time (--at)")
    if when is not None and when > clock.now():
        # The clocks have not reached it: say what would happen, change nothing.
        result = preview(cli.database(), at=when, limit=batch or SWEEP_BATCH)
        note(f"dry run: {when.isoformat()} is in the future; nothing was written")
    else:
        result = escalate_all(cli.database(), at=when, limit=batch or SWEEP_BATCH)
    emit(result, as_json=as_json, human=_text)
