"""`cc-tui queue ...`: department queues, "My work", load, and moving incidents in bulk."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state, table

app = typer.Typer(help="Assignment queues and load.", no_args_is_help=True)


def _rows_text(rows) -> str:
    if not rows:
        return "queue empty"
    return table(
        [
            [
                r.number,
                r.escalation,
                r.priority,
                r.response_due.strftime("%Y-%m-%d %H:%M") if r.response_due else "",
                r.status,
                r.owner,
                r.department,
                r.customer,
                r.title,
            ]
            for r in rows
        ],
        [
            "number",
            "escalation",
            "prio",
            "due (UTC)",
            "status",
            "owner",
            "dept",
            "customer",
            "title",
        ],
    )


def _counts(by_escalation: dict[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in by_escalation.items() if v)


def _load_text(load) -> str:
    depts = table(
        [
            [
                d.code or "(none)",
                d.open,
                d.unassigned,
                _counts(d.by_status),
                _counts(d.by_escalation),
                d.oldest_waiting.number if d.oldest_waiting else "",
            ]
            for d in load.departments
        ],
        ["department", "open", "queue", "by status", "by escalation", "oldest waiting"],
    )
    agents = table(
        [
            [
                a.login,
                a.department,
                a.open,
                _counts(a.by_status),
                _counts(a.by_escalation),
                a.oldest.number if a.oldest else "",
            ]
            for a in load.agents
        ],
        ["agent", "department", "open", "by status", "by escalation", "oldest"],
    )
    return f"{depts}\n\n{agents}"


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    department: str | None = typer.Option(
        None, "--department", help="This department's unassigned incidents."
    ),
    agent: str | None = typer.Option(None, "--agent", help="This agent's open incidents."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="At most this many."),
    after: str | None = typer.Option(
        None, "--after", help="Next page: the incidents after this one (its INC- number)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """A queue, most urgent first. Default: your own open incidents ("My work")."""
    from cc_tui.errors import UsageError
    from cc_tui.services.routing.queues import agent_queue, department_queue, key_of

    if department and agent:
        raise UsageError("give --department or --agent, not both")
    with state(ctx).work(write=False) as (session, actor):
        key = key_of(session, after) if after else None
        if department:
            rows = department_queue(session, department=department, after=key, limit=limit)
        else:
            rows = agent_queue(session, agent=agent or actor.id, after=key, limit=limit)
    emit(rows, as_json=as_json, human=_rows_text)


@app.command()
@command
def load(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Open incidents per department and per agent, by status and escalation state."""
    from cc_tui.services.routing.queues import load as read_load

    with state(ctx).work(write=False) as (session, _actor):
        result = read_load(session)
    emit(result, as_json=as_json, human=_load_text)


@app.command()
@command
def move(
    ctx: typer.Context,
    refs: list[str] = typer.Argument(..., metavar="REF...", help="INC- numbers to move."),
    department: str | None = typer.Option(None, "--department", help="Into this queue."),
    to: str | None = typer.Option(None, "--to", help="To this agent."),
    reason: str | None = typer.Option(None, "--reason", help="Why (written to each timeline)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move many incidents at once (supervisors): all of them, or none."""
    from cc_tui.services.routing.queues import bulk_move

    with state(ctx).work() as (session, actor):
        result = bulk_move(
            session,
            actor=actor,
            refs=refs,
            to_department=department,
            to_agent=to,
            reason=reason,
        )
    if result.unchanged:
        note(f"already there: {', '.join(result.unchanged)}")
    emit(result, as_json=as_json, human=lambda r: f"{len(r.moved)} moved")
