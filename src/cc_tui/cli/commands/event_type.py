"""`cc-tui event-type ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(
    help="Event types (user-definable; system kinds are fixed).", no_args_is_help=True
)


def _one_text(t) -> str:
    flags = [t.direction, "contact" if t.is_contact else "no contact"]
    if t.is_system:
        flags.append("system")
    if not t.active:
        flags.append("retired")
    return f"{t.code}  {t.name}  ({', '.join(flags)})"


def _list_text(rows) -> str:
    return table(
        [
            [
                t.code,
                t.name,
                t.direction,
                "yes" if t.is_contact else "",
                "system" if t.is_system else "user",
                "" if t.active else "retired",
            ]
            for t in rows
        ],
        ["code", "name", "direction", "contact", "kind", "state"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Short code, e.g. SmsOut."),
    name: str = typer.Option(..., "--name", help="Name shown to agents."),
    direction: str = typer.Option("internal", help="inbound, outbound or internal."),
    contact: bool = typer.Option(
        False, "--contact/--no-contact", help="Counts as a contact with the customer."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user event type (admins)."""
    from cc_tui.services.directory.event_types import add_event_type

    with state(ctx).work() as (session, actor):
        info = add_event_type(
            session, actor=actor, code=code, name=name, direction=direction, is_contact=contact
        )
    emit(info, as_json=as_json, human=_one_text)


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    user_only: bool = typer.Option(False, "--user-only", help="Leave out the system kinds."),
    active: bool = typer.Option(False, "--active", help="Only types that can be used now."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List event types: user types, then the fixed system kinds."""
    from cc_tui.services.directory.event_types import list_event_types

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_event_types(session, include_system=not user_only, active_only=active)
    emit(rows, as_json=as_json, human=_list_text)


@app.command("set")
@command
def set_(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The event type's code."),
    name: str | None = typer.Option(None, "--name", help="New name."),
    direction: str | None = typer.Option(None, help="inbound, outbound or internal."),
    contact: bool | None = typer.Option(
        None, "--contact/--no-contact", help="Counts as a contact with the customer."
    ),
    active: bool | None = typer.Option(
        None, "--active/--inactive", help="Retire a type (--inactive) or bring it back."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a user event type (admins); system kinds cannot be changed."""
    from cc_tui.services.directory.event_types import update_event_type

    with state(ctx).work() as (session, actor):
        info = update_event_type(
            session,
            actor=actor,
            code=code,
            name=name,
            direction=direction,
            is_contact=contact,
            active=active,
        )
    emit(info, as_json=as_json, human=_one_text)


@app.command()
@command
def remove(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="The event type's code."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a user event type no event uses (a used one can only be retired)."""
    from cc_tui.services.directory.event_types import remove_event_type

    with state(ctx).work() as (session, actor):
        info = remove_event_type(session, actor=actor, code=code)
    emit(info, as_json=as_json, human=lambda t: f"removed {t.code}")
