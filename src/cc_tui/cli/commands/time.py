"""`cc-tui time ...`."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Time entries: book time by hand, sum it up.", no_args_is_help=True)


def _summary_text(s) -> str:
    if not s.by:
        return f"{s.scope}: no time booked"
    rows = [[t.key, t.minutes, t.entries] for t in s.by]
    rows.append(["total", s.total_minutes, s.entries])
    return f"{s.scope}\n" + table(rows, ["", "minutes", "entries"])


def _day(value: str | None, option: str) -> datetime | None:
    from cc_tui.errors import UsageError

    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise UsageError(f"{option} is YYYY-MM-DD, not {value!r}") from None
    return day.replace(tzinfo=UTC)


@app.command()
@command
def add(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    minutes: int = typer.Option(..., help="Minutes worked (1 to 1440)."),
    note_: str | None = typer.Option(None, "--note", help="What the time was spent on."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Book time worked on an incident without a timer."""
    from cc_tui.services.incidents.timetrack import book_time

    with state(ctx).work() as (session, actor):
        entry = book_time(session, actor=actor, ref=ref, minutes=minutes, note=note_)
    emit(
        entry,
        as_json=as_json,
        human=lambda e: f"{e.incident}: {e.minutes} min booked for {e.agent}",
    )


@app.command("sum")
@command
def sum_(
    ctx: typer.Context,
    incident: str | None = typer.Option(None, help="Per agent on this incident."),
    agent: str | None = typer.Option(None, help="Per incident for this agent's login."),
    since: str | None = typer.Option(None, help="With --agent: entries from YYYY-MM-DD."),
    until: str | None = typer.Option(None, help="With --agent: entries before YYYY-MM-DD."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Booked minutes of an incident (by agent) or of an agent (by incident)."""
    from cc_tui.errors import UsageError
    from cc_tui.services.incidents.timetrack import agent_time, incident_time

    if (incident is None) == (agent is None):
        raise UsageError("give either --incident REF or --agent LOGIN")
    if incident is not None and (since or until):
        raise UsageError("--since/--until go with --agent")
    start, end = _day(since, "--since"), _day(until, "--until")
    with state(ctx).work(write=False) as (session, _actor):
        if incident is not None:
            result = incident_time(session, ref=incident)
        else:
            result = agent_time(session, login=agent or "", since=start, until=end)
    emit(result, as_json=as_json, human=_summary_text)
