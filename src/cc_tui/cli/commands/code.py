"""`cc-tui code ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(
    help="Classification codes: reason, resolution, request type, service problem codes.",
    no_args_is_help=True,
)


def _codes_text(rows) -> str:
    if not rows:
        return "no codes"
    return table(
        [[c.path, c.name, c.department, c.work_order_template] for c in rows],
        ["path", "name", "department", "template"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="reason, resolution, request-type or problem."),
    path: str = typer.Argument(
        ..., help="GENERAL or GENERAL/SPECIFIC; problem codes DEPT/PROVIDER/CATEGORY/CODE."
    ),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the code)."),
    template: str | None = typer.Option(
        None, "--template", help="Default work-order template (problem codes)."
    ),
    position: int = typer.Option(0, "--position", help="Sort position among its siblings."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a code (admin); a specific code needs its general code first."""
    from cc_tui.services.directory.codes import add_code

    with state(ctx).work() as (session, actor):
        info = add_code(
            session,
            actor=actor,
            kind=kind,
            path=path,
            name=name,
            work_order_template=template,
            position=position,
        )
    emit(info, as_json=as_json, human=lambda c: f"{c.kind} code {c.path} added")


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="reason, resolution, request-type, provider, ..."),
    parent: str | None = typer.Option(None, "--parent", help="Only the children of this path."),
    prefix: str | None = typer.Option(None, "--prefix", help="Only codes starting with this."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the codes of a kind in path order."""
    from cc_tui.services.directory.codes import list_codes

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_codes(session, kind=kind, parent=parent, prefix=prefix)
    emit(rows, as_json=as_json, human=_codes_text)
