"""`cc-tui mailbox ...`: the IMAP folders `mail fetch` reads (admin)."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(
    help="Mailboxes read by `mail fetch`: add, list, deactivate, activate.", no_args_is_help=True
)


def _text(rows) -> str:
    if not rows:
        return "no mailboxes"
    return table(
        [
            [b.name, b.url, b.department or "-", b.request_type, b.reason or "-"]
            + ([] if b.active else ["inactive"])
            for b in rows
        ],
        ["name", "url", "department", "type", "reason"]
        + ([""] if any(not b.active for b in rows) else []),
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A short name (letters, digits, . _ -)."),
    url: str = typer.Option(..., "--url", help="imaps://user@host:993/INBOX (no password)."),
    department: str | None = typer.Option(
        None, "--department", help="Department of its incidents."
    ),
    type_: str = typer.Option("action", "--type", help="action or information"),
    reason: str | None = typer.Option(None, "--reason", help="Reason code of new incidents."),
    priority: str | None = typer.Option(None, "--priority", help="Priority of new incidents."),
    password_file: str | None = typer.Option(
        None, "--password-file", help="File holding the password (mode 0600)."
    ),
    done_folder: str | None = typer.Option(
        None, "--done-folder", help="Move filed messages there (default: flag them seen)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a mailbox; without --password-file the password comes from
    CC_TUI_MAIL_PASSWORD_<NAME> at fetch time. It is never stored."""
    from cc_tui.services.mail.mailboxes import add_mailbox

    with state(ctx).work() as (session, actor):
        box = add_mailbox(
            session,
            actor=actor,
            name=name,
            url=url,
            department=department,
            request_type=type_,
            reason=reason,
            priority=priority,
            password_file=password_file,
            done_folder=done_folder,
        )
    emit(box, as_json=as_json, human=lambda b: _text([b]))


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="The deactivated ones too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The active mailboxes."""
    from cc_tui.services.mail.mailboxes import list_mailboxes

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_mailboxes(session, inactive=all_)
    emit(rows, as_json=as_json, human=_text)


def _set_active(ctx: typer.Context, name: str, active: bool, as_json: bool) -> None:
    from cc_tui.services.mail.mailboxes import set_mailbox_active

    with state(ctx).work() as (session, actor):
        box = set_mailbox_active(session, actor=actor, name=name, active=active)
    emit(box, as_json=as_json, human=lambda b: _text([b]))


@app.command()
@command
def deactivate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The mailbox."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop reading a mailbox; what it filed and its quarantine stay."""
    _set_active(ctx, name, False, as_json)


@app.command()
@command
def activate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The mailbox."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read a deactivated mailbox again, from where it stopped."""
    _set_active(ctx, name, True, as_json)
