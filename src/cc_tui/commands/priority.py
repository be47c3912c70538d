"""`cc-tui priority ...`."""

from __future__ import annotations

import typer

from cc_tui.commands.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Priority codes.", no_args_is_help=True)


def _priorities_text(rows) -> str:
    if not rows:
        return "no priorities"
    return table(
        [[p.code, p.name, p.rank, "yes" if p.is_default else "", p.response_minutes] for p in rows],
        ["code", "name", "rank", "default", "response min"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Priority code (P1, HIGH, ...)."),
    name: str = typer.Option(..., "--name", help="Display name."),
    rank: int = typer.Option(3, "--rank", help="1 (most urgent) to 9; queues sort by it."),
    default: bool = typer.Option(
        False, "--default", help="Make it the system default (replaces the old default)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a priority code (admin)."""
    from cc_tui.services.priorities import add_priority

    with state(ctx).work() as (session, actor):
        info = add_priority(
            session, actor=actor, code=code, name=name, rank=rank, is_default=default
        )
    emit(info, as_json=as_json, human=lambda p: f"priority {p.code} added")


@app.command("list")
@command
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the priority codes, most urgent first."""
    from cc_tui.services.priorities import list_priorities

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_priorities(session)
    emit(rows, as_json=as_json, human=_priorities_text)
