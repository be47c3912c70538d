"""`cc-tui rule ...`: routing rules (admin)."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Routing rules: ordered, first match wins.", no_args_is_help=True)


def _result(r) -> str:
    if r.owner:
        return f"{r.department} -> {r.owner}"
    if r.least_loaded:
        return f"{r.department} -> least loaded" + (f" ({r.skill})" if r.skill else "")
    return f"{r.department} queue"


def _match(r) -> str:
    fields = [
        ("unit", r.unit_type),
        ("reason", r.reason),
        ("problem", r.problem_code),
        ("region", r.region),
        ("prio", r.priority),
        ("channel", r.channel),
        ("type", r.request_type),
    ]
    text = " ".join(f"{k}={v}" for k, v in fields if v is not None)
    return text or "(default: anything)"


def _rules_text(rows) -> str:
    if not rows:
        return "no routing rules"
    return table(
        [
            [
                r.position,
                r.id,
                _match(r),
                _result(r),
                r.name,
                ("" if r.active else "inactive") + ("" if r.reachable else " unreachable"),
            ]
            for r in rows
        ],
        ["pos", "id", "match", "routes to", "name", "note"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    department: str = typer.Option(..., "--department", help="Department the rule routes to."),
    owner: str | None = typer.Option(None, "--owner", help="Give it to this agent."),
    least_loaded: bool = typer.Option(
        False, "--least-loaded", help="Give it to the department's least-loaded agent."
    ),
    skill: str | None = typer.Option(None, "--skill", help="With --least-loaded: needed skill."),
    unit_type: str | None = typer.Option(None, "--unit-type", help="Match: the unit's type."),
    reason: str | None = typer.Option(None, "--reason", help="Match: GENERAL or GENERAL/SPECIFIC."),
    problem_code: str | None = typer.Option(None, "--problem-code", help="Match: problem code."),
    region: str | None = typer.Option(None, "--region", help="Match: the customer's region."),
    priority: str | None = typer.Option(None, "--priority", help="Match: priority code."),
    channel: str | None = typer.Option(None, "--channel", help="Match: phone, email, ..."),
    type_: str | None = typer.Option(None, "--type", help="Match: request type."),
    position: int | None = typer.Option(
        None, "--position", help="Insert here (1 = tried first); default: last."
    ),
    name: str | None = typer.Option(None, "--name", help="A label for people."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a routing rule (admin). Without match options it is a default rule."""
    from cc_tui.services.routing.rules import add_rule

    with state(ctx).work() as (session, actor):
        info = add_rule(
            session,
            actor=actor,
            department=department,
            owner=owner,
            least_loaded=least_loaded,
            skill=skill,
            unit_type=unit_type,
            reason=reason,
            problem_code=problem_code,
            region=region,
            priority=priority,
            channel=channel,
            request_type=type_,
            position=position,
            name=name,
        )
    emit(info, as_json=as_json, human=lambda r: f"rule {r.id} added at position {r.position}")


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    active: bool = typer.Option(False, "--active", help="Only active rules."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the rules in the order they are tried."""
    from cc_tui.services.routing.rules import list_rules

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_rules(session, include_inactive=not active)
    emit(rows, as_json=as_json, human=_rules_text)


@app.command()
@command
def move(
    ctx: typer.Context,
    rule_id: int = typer.Argument(..., metavar="ID", help="The rule's id."),
    position: int = typer.Option(..., "--position", help="Its new position (1 = first)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move a rule to another position (admin)."""
    from cc_tui.services.routing.rules import move_rule

    with state(ctx).work() as (session, actor):
        rows = move_rule(session, actor=actor, rule_id=rule_id, position=position)
    emit(rows, as_json=as_json, human=_rules_text)


@app.command()
@command
def deactivate(
    ctx: typer.Context,
    rule_id: int = typer.Argument(..., metavar="ID", help="The rule's id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop using a rule (it stays in the list, and can be activated again)."""
    from cc_tui.services.routing.rules import deactivate_rule

    with state(ctx).work() as (session, actor):
        info = deactivate_rule(session, actor=actor, rule_id=rule_id)
    emit(info, as_json=as_json, human=lambda r: f"rule {r.id} deactivated")


@app.command()
@command
def activate(
    ctx: typer.Context,
    rule_id: int = typer.Argument(..., metavar="ID", help="The rule's id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Use a deactivated rule again."""
    from cc_tui.services.routing.rules import reactivate_rule

    with state(ctx).work() as (session, actor):
        info = reactivate_rule(session, actor=actor, rule_id=rule_id)
    emit(info, as_json=as_json, human=lambda r: f"rule {r.id} active again")


@app.command("test")
@command
def test_(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Which rule would route this incident now, and where to (changes nothing)."""
    from cc_tui.services.incidents.base import get_incident
    from cc_tui.services.routing.rules import route

    with state(ctx).work(write=False) as (session, _actor):
        decision = route(session, get_incident(session, ref))
    emit(
        decision,
        as_json=as_json,
        human=lambda d: d.describe() if d else "no routing rule matches",
    )
