"""`cc-tui db upgrade|status`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)


@app.command()
@command
def upgrade(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Migrate the database to this cc-tui's schema (first run: you become its admin)."""
    from cc_tui.services.setup import upgrade_database

    st = state(ctx)
    db = st.database(check_schema=False)
    status, admin = upgrade_database(db, st.settings.login)
    if admin:
        note(f"{admin} is the first admin of this database")
    emit(
        {"database": db.describe(), "revision": status.current, "admin_created": admin},
        as_json=as_json,
        human=lambda d: f"{d['database']}: schema {d['revision']} (up to date)",
    )


@app.command()
@command
def status(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Show the database's schema revision and whether it needs an upgrade."""
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
