"""`cc-tui incident ...`: the incident operations for scripts."""

from __future__ import annotations

import typer

from cc_tui.commands.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Incidents: open, show, list, change.", no_args_is_help=True)


def _rows_text(rows) -> str:
    if not rows:
        return "no incidents"
    return table(
        [
            [r.number, r.status, r.type, r.priority, r.escalation, r.owner, r.customer, r.title]
            for r in rows
        ],
        ["number", "status", "type", "prio", "escalation", "owner", "customer", "title"],
    )


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="Only this status."),
    customer: int | None = typer.Option(None, help="Only this customer id."),
    open_: bool = typer.Option(False, "--open", help="Only open incidents."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many (newest first)."),
    before: str | None = typer.Option(None, help="Page on: incidents older than this one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List incidents, newest first."""
    from cc_tui.services.incidents import list_incidents, parse_ref

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_incidents(
            session,
            status=status,
            customer_id=customer,
            open_only=open_,
            limit=limit,
            before_id=parse_ref(before) if before else None,
        )
    emit(rows, as_json=as_json, human=_rows_text)
