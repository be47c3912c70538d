"""`cc-tui db upgrade|status|roles`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state
from cc_tui.errors import ExitCode

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)
roles_app = typer.Typer(
    help="PostgreSQL roles: one per agent, a group per cc-tui role.", no_args_is_help=True
)
app.add_typer(roles_app, name="roles")


@app.command()
@command
def upgrade(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Migrate the database to this cc-tui's schema (first run: you become its admin)."""
    from cc_tui.services.setup import upgrade_database

    st = state(ctx)
    db = st.database(check_schema=False)
    done = upgrade_database(db, st.settings.login)
    if done.admin:
        note(f"{done.admin} is the first admin of this database")
    if done.roles_note:
        note(done.roles_note)
    if done.roles_script:
        note(done.roles_script.rstrip("\n"))
    emit(
        {"database": db.describe(), "revision": done.status.current, "admin_created": done.admin},
        as_json=as_json,
        human=lambda d: f"{d['database']}: schema {d['revision']} (up to date)",
    )


@app.command()
@command
def status(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show the database's schema revision and whether it needs an upgrade (exit 5 if it
    does, or if it is newer than this cc-tui)."""
    from cc_tui.db.migrate import schema_status

    db = state(ctx).database(check_schema=False)
    st = schema_status(db)
    data = {
        "database": db.describe(),
        "dialect": db.dialect,
        "revision": st.current,
        "head": st.head,
        "up_to_date": st.up_to_date,
        "newer_than_program": st.newer,
    }

    def human(d: dict) -> str:
        if d["newer_than_program"]:
            verdict = "newer than this cc-tui: upgrade cc-tui"
        elif d["up_to_date"]:
            verdict = "up to date"
        else:
            verdict = "needs `cc-tui db upgrade`"
        return f"{d['database']} ({d['dialect']}): schema {d['revision'] or 'none'}, {verdict}"

    emit(data, as_json=as_json, human=human)
    if not st.up_to_date:
        # Scripts can tell: 5, as every other command says of a schema it cannot use.
        raise typer.Exit(int(ExitCode.UNAVAILABLE))


@roles_app.command("sync")
@command
def roles_sync(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Create or correct the login role of every agent (admin; PostgreSQL)."""
    from cc_tui.services.directory.agents import sync_login_roles

    with state(ctx).work() as (session, actor):
        done = sync_login_roles(session, actor=actor)
    emit(
        [{"login": d.login, "action": d.action} for d in done],
        as_json=as_json,
        human=lambda rows: "\n".join(f"{r['login']}: {r['action']}" for r in rows) or "no agents",
    )


@roles_app.command("sql")
@command
def roles_sql(ctx: typer.Context) -> None:
    """Print the SQL that creates this database's group roles and grants their privileges
    (for a superuser to run when the database's owner may not create roles)."""
    import sys

    from sqlalchemy import exc

    from cc_tui.db import roles
    from cc_tui.errors import UsageError

    db = state(ctx).database()
    if db.is_sqlite:
        raise UsageError("an embedded SQLite database has no roles")
    try:
        with db.engine.connect() as conn:
            sys.stdout.write(roles.script(conn))
    except exc.DBAPIError as error:
        raise db.unavailable(error) from error
