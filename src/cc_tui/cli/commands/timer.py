"""`cc-tui timer ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state

app = typer.Typer(help="Timer on an incident: start, stop, status.", no_args_is_help=True)


def _status_text(t) -> str:
    if not t.running:
        return "no timer running"
    title = f" {t.title}" if t.title else ""
    return (
        f"{t.incident}{title}: running since {t.started_at:%Y-%m-%d %H:%M} UTC "
        f"({t.elapsed_minutes} min)"
    )


def _entry_text(e) -> str:
    return f"{e.incident}: {e.minutes} min booked" + (f" ({e.note})" if e.note else "")


@app.command()
@command
def start(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start your timer on an incident (a timer running elsewhere is stopped and booked)."""
    from cc_tui.services.incidents.timetrack import start_timer

    with state(ctx).work() as (session, actor):
        result = start_timer(session, actor=actor, ref=ref)
    if result.stopped is not None:
        note(f"stopped: {_entry_text(result.stopped)}")
    emit(result, as_json=as_json, human=lambda r: _status_text(r.timer))


@app.command()
@command
def stop(
    ctx: typer.Context,
    note_: str | None = typer.Option(None, "--note", help="What the time was spent on."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop your running timer and book its minutes."""
    from cc_tui.services.incidents.timetrack import stop_timer

    with state(ctx).work() as (session, actor):
        entry = stop_timer(session, actor=actor, note=note_)
    emit(entry, as_json=as_json, human=_entry_text)


@app.command()
@command
def status(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show your running timer, if any."""
    from cc_tui.services.incidents.timetrack import timer_status

    with state(ctx).work(write=False) as (session, actor):
        result = timer_status(session, actor=actor)
    emit(result, as_json=as_json, human=_status_text)
