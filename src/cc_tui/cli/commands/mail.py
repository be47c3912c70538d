"""`cc-tui mail ...`: e-mail intake (M12): import messages, the quarantine."""

from __future__ import annotations

from pathlib import Path

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="E-mail intake: import messages, the quarantine.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Messages that could not be filed: list, show, retry.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")

REASON_OPTION = typer.Option(
    None, "--reason", help="Reason code (GENERAL or GENERAL/SPECIFIC) for new incidents."
)
PRIORITY_OPTION = typer.Option(None, "--priority", help="Priority of new incidents.")
OWN_OPTION = typer.Option(
    None, "--own", help="Our own sending address (mail from it is a loop); repeatable."
)


def _defaults(reason: str | None, priority: str | None, own: list[str] | None):
    from cc_tui.services.mail.intake import MailDefaults

    return MailDefaults(
        reason=reason,
        priority=priority,
        own_addresses=frozenset(a.strip().lower() for a in own or () if a.strip()),
    )


def _outcome(o) -> dict:
    return {"file": o.file, "outcome": o.outcome, "incident": o.incident, "reason": o.reason}


def _outcomes_text(rows: list[dict]) -> str:
    if not rows:
        return "no messages"
    return table(
        [[r["file"], r["outcome"], r["incident"] or "-", r["reason"] or ""] for r in rows],
        ["file", "outcome", "incident", "reason"],
    )


@app.command("import")
@command
def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help=".eml files or Maildir folders."),
    reason: str | None = REASON_OPTION,
    priority: str | None = PRIORITY_OPTION,
    own: list[str] | None = OWN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """File messages as a mailbox would: each becomes an incident, an event on its
    incident, or is ignored or quarantined; one bad message never stops the rest."""
    from cc_tui.errors import NotFound
    from cc_tui.services.mail.intake import message_files, receive

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise NotFound(f"no such file or folder: {', '.join(missing)}")
    defaults = _defaults(reason, priority, own)
    cli = state(ctx)
    rows = []
    for path in message_files(paths):
        with cli.work() as (session, actor):
            outcome = receive(
                session, actor=actor, raw=path.read_bytes(), defaults=defaults, source=str(path)
            )
        rows.append(_outcome(outcome))
    emit(rows, as_json=as_json, human=_outcomes_text)


def _quarantine_text(rows) -> str:
    if not rows:
        return "the quarantine is empty"
    return table(
        [[r.id, r.received_at, r.sender or "-", r.subject or "-", r.reason] for r in rows],
        ["id", "received", "from", "subject", "reason"],
    )


@quarantine_app.command("list")
@command
def quarantine_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Messages that could not be filed, with the reason."""
    from cc_tui.services.mail.intake import quarantine_list as listed

    with state(ctx).work(write=False) as (session, _actor):
        rows = listed(session)
    emit(rows, as_json=as_json, human=_quarantine_text)


@quarantine_app.command("show")
@command
def quarantine_show(
    ctx: typer.Context,
    message: int = typer.Argument(..., help="Quarantined message id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One quarantined message: the reason and the start of the raw message."""
    from cc_tui.services.mail.intake import quarantine_show as shown

    with state(ctx).work(write=False) as (session, _actor):
        data = shown(session, message)
    emit(
        data,
        as_json=as_json,
        human=lambda d: (
            f"{d['id']}  {d['sender'] or '-'}  {d['subject'] or '-'}\n"
            f"reason: {d['reason']}\n\n{d['raw']}"
        ),
    )


@quarantine_app.command("retry")
@command
def quarantine_retry(
    ctx: typer.Context,
    message: int = typer.Argument(..., help="Quarantined message id."),
    reason: str | None = REASON_OPTION,
    priority: str | None = PRIORITY_OPTION,
    own: list[str] | None = OWN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Process a quarantined message again (after its cause was fixed)."""
    from cc_tui.services.mail.intake import retry

    with state(ctx).work() as (session, actor):
        outcome = retry(
            session, actor=actor, message_id=message, defaults=_defaults(reason, priority, own)
        )
    emit(_outcome(outcome), as_json=as_json, human=lambda r: _outcomes_text([r]))
