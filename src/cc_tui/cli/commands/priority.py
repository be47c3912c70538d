"""`cc-tui priority ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

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
    response: str | None = typer.Option(None, "--response", help="First response: 30m, 2h."),
    follow_up: str | None = typer.Option(None, "--follow-up", help="Follow-up after: 2h."),
    warning: str | None = typer.Option(None, "--warning", help="Warning after: 4h."),
    late: str | None = typer.Option(None, "--late", help="Late after (default: response)."),
    resolve: str | None = typer.Option(None, "--resolve", help="Resolution due: 3d, 1h30m."),
    basis: str = typer.Option(
        "business", "--basis", help="Working time the offsets count: business|contract|all."
    ),
    calendar: str | None = typer.Option(
        None, "--calendar", help="Calendar when the department has none."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a priority code (admin). Offsets are working minutes on the basis, from
    registration; a day (d) is 24 working hours."""
    from cc_tui.services.sla.priorities import add_priority
    from cc_tui.services.worktime.hours import parse_duration

    def minutes(value: str | None, field: str) -> int | None:
        return parse_duration(value, field=field) if value is not None else None

    with state(ctx).work() as (session, actor):
        info = add_priority(
            session,
            actor=actor,
            code=code,
            name=name,
            rank=rank,
            is_default=default,
            response_minutes=minutes(response, "response"),
            follow_up_minutes=minutes(follow_up, "follow_up"),
            warning_minutes=minutes(warning, "warning"),
            late_minutes=minutes(late, "late"),
            resolve_minutes=minutes(resolve, "resolve"),
            basis=basis.strip().lower(),
            calendar=calendar,
        )
    emit(info, as_json=as_json, human=lambda p: f"priority {p.code} added")


@app.command("add-action")
@command
def add_action(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Priority code."),
    at: str = typer.Option(..., "--at", help="At state: follow_up, warning or late."),
    raise_to: str | None = typer.Option(None, "--raise", help="Raise to this priority."),
    reassign: str | None = typer.Option(None, "--reassign", help="Reassign to a department."),
    reassign_agent: str | None = typer.Option(
        None, "--reassign-agent", help="Reassign to an agent (login)."
    ),
    notify: str | None = typer.Option(
        None, "--notify", help="Alert this department's supervisors."
    ),
    notify_agent: str | None = typer.Option(None, "--notify-agent", help="Alert this agent."),
    position: int | None = typer.Option(None, "--position", help="Order (default: last)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an escalation action: what happens when an incident reaches a state (admin)."""
    from cc_tui.errors import UsageError
    from cc_tui.services.sla.escalation import add_escalation_action

    chosen = [
        ("raise_priority", raise_to, None, None),
        ("reassign", None, reassign, reassign_agent),
        ("notify", None, notify, notify_agent),
    ]
    given = [c for c in chosen if any(v is not None for v in c[1:])]
    if len(given) != 1:
        raise UsageError("give one action: --raise, --reassign[-agent] or --notify[-agent]")
    action, target_priority, department, agent = given[0]
    with state(ctx).work() as (session, actor):
        info = add_escalation_action(
            session,
            actor=actor,
            priority=code,
            at_state=at,
            action=action,
            target_priority=target_priority,
            target_department=department,
            target_agent=agent,
            position=position,
        )
    emit(
        info,
        as_json=as_json,
        human=lambda a: f"{a.priority} at {a.at_state}: {a.action} (#{a.position})",
    )


@app.command("actions")
@command
def actions(
    ctx: typer.Context,
    code: str | None = typer.Argument(None, help="Only this priority code."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the escalation actions, in the order they run."""
    from cc_tui.services.sla.escalation import list_escalation_actions

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_escalation_actions(session, priority=code)

    def human(items) -> str:
        if not items:
            return "no escalation actions"
        return table(
            [
                [
                    a.priority,
                    a.at_state,
                    a.position,
                    a.action,
                    a.target_priority or a.target_department or "",
                    a.target_agent or "",
                ]
                for a in items
            ],
            ["priority", "at", "#", "action", "target", "agent"],
        )

    emit(rows, as_json=as_json, human=human)


@app.command("list")
@command
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the priority codes, most urgent first."""
    from cc_tui.services.sla.priorities import list_priorities

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_priorities(session)
    emit(rows, as_json=as_json, human=_priorities_text)
