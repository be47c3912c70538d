"""`cc-tui department ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Departments (queues): add, list.", no_args_is_help=True)


@app.command()
@command
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Department code."),
    name: str = typer.Option(..., "--name", help="Display name."),
    calendar: str | None = typer.Option(None, "--calendar", help="Working-hours calendar."),
    on_site: bool = typer.Option(
        False, "--on-site", help="A service department (on-site work) rather than support."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a department (admin)."""
    from cc_tui.services.directory.agents import add_department

    with state(ctx).work() as (session, actor):
        info = add_department(
            session, actor=actor, code=code, name=name, calendar=calendar, on_site=on_site
        )
    emit(info, as_json=as_json, human=lambda d: f"department {d.code} added")


@app.command("list")
@command
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the departments."""
    from cc_tui.services.directory.agents import list_departments

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_departments(session)

    def human(depts) -> str:
        if not depts:
            return "no departments"
        return table(
            [[d.code, d.name, d.calendar, "on-site" if d.on_site else "support"] for d in depts],
            ["code", "name", "calendar", "kind"],
        )

    emit(rows, as_json=as_json, human=human)
