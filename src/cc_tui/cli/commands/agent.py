"""`cc-tui agent ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="PostgreSQL: read the login role's password from stdin (none: peer or certificate).",
)


def _password(from_stdin: bool) -> str | None:
    """The first line on stdin, never an argument (arguments show in `ps` and history)."""
    if not from_stdin:
        return None
    import sys

    return sys.stdin.readline().rstrip("\r\n")


app = typer.Typer(help="Agents: add, list, change (admin).", no_args_is_help=True)


def _agents_text(rows) -> str:
    if not rows:
        return "no agents"
    return table(
        [
            [a.login, a.name, a.role, a.department, ",".join(a.skills), a.region, a.active]
            for a in rows
        ],
        ["login", "name", "role", "department", "skills", "region", "active"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="Login (the --as name)."),
    name: str = typer.Option(..., "--name", help="Full name."),
    role: str = typer.Option("agent", "--role", help="agent, supervisor or admin."),
    department: str | None = typer.Option(None, "--department", help="Department code."),
    skills: str = typer.Option("", "--skills", help="Comma-separated skill tags."),
    region: str | None = typer.Option(None, "--region", help="Region the agent covers."),
    email: str | None = typer.Option(None, "--email", help="E-mail address."),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an agent (admin); on PostgreSQL also its login role."""
    from cc_tui.services.directory.agents import add_agent

    password = _password(password_stdin)
    with state(ctx).work() as (session, actor):
        info = add_agent(
            session,
            actor=actor,
            login=login,
            name=name,
            role=role,
            department=department,
            skills=skills,
            region=region,
            email=email,
            password=password,
        )
    emit(info, as_json=as_json, human=lambda a: f"agent {a.login} ({a.role}) added")


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    department: str | None = typer.Option(None, "--department", help="Only this department."),
    all_: bool = typer.Option(False, "--all", help="Also deactivated agents."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List agents."""
    from cc_tui.services.directory.agents import list_agents

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_agents(session, department=department, include_inactive=all_)
    emit(rows, as_json=as_json, human=_agents_text)


@app.command()
@command
def update(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="The agent's login."),
    name: str | None = typer.Option(None, "--name", help="New full name."),
    role: str | None = typer.Option(None, "--role", help="agent, supervisor or admin."),
    department: str | None = typer.Option(
        None, "--department", help="Department code ('' for none)."
    ),
    skills: str | None = typer.Option(None, "--skills", help="Comma-separated skills (replace)."),
    region: str | None = typer.Option(None, "--region", help="Region ('' for none)."),
    email: str | None = typer.Option(None, "--email", help="E-mail ('' for none)."),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Activate or deactivate the login."
    ),
    extension: str | None = typer.Option(
        None, "--extension", help="Telephone extension ('' for none)."
    ),
    password_stdin: bool = PASSWORD_STDIN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change an agent's role, department, skills or status (admin)."""
    from cc_tui.services.directory.agents import UNCHANGED, update_agent

    password = _password(password_stdin)
    with state(ctx).work() as (session, actor):
        info = update_agent(
            session,
            actor=actor,
            login=login,
            name=name,
            role=role,
            department=UNCHANGED if department is None else department,
            skills=skills,
            region=UNCHANGED if region is None else region,
            email=UNCHANGED if email is None else email,
            active=active,
            password=password,
            extension=UNCHANGED if extension is None else extension,
        )
    emit(info, as_json=as_json, human=lambda a: f"agent {a.login} changed")
