"""`cc-tui notify ...`: the outbox of customer messages and its sender."""

from __future__ import annotations

import time

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state, table

app = typer.Typer(help="Customer notifications: send, list, retry, preview.")


def _sent_text(result) -> str:
    text = f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed"
    return "\n".join([text, *result.errors])


def _transport(cli):
    from cc_tui.services.notify.sender import SmtpTransport, smtp_target

    target = smtp_target(cli.settings.smtp)
    return SmtpTransport(target), target.sender


@app.command("send")
@command
def send(
    ctx: typer.Context,
    once: bool = typer.Option(
        False, "--once", help="One batch of due messages (for cron), not until none is due."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send the e-mails that are due; failures are retried later with back-off."""
    from cc_tui.services.notify.sender import send_all, send_due

    cli = state(ctx)
    with cli.work(write=False):
        pass  # the login must be a known, active agent
    transport, sender = _transport(cli)
    run = send_due if once else send_all
    result = run(cli.database(), transport, sender=sender, folder=cli.settings.notify_templates)
    emit(
        {
            "sent": result.sent,
            "retrying": result.retrying,
            "failed": result.failed,
            "errors": result.errors,
        },
        as_json=as_json,
        human=lambda _: _sent_text(result),
    )


@app.command("watch")
@command
def watch(
    ctx: typer.Context,
    interval: float = typer.Option(
        None, "--interval", min=0.1, help="Seconds between looks (default: notify_poll_seconds)."
    ),
) -> None:
    """Keep sending: look for due messages every --interval seconds until interrupted."""
    from cc_tui.services.notify.sender import send_all

    cli = state(ctx)
    with cli.work(write=False):
        pass
    pause = interval or cli.settings.notify_poll_seconds
    db = cli.database()
    note(f"sending due notifications every {pause:g} s; Ctrl+C stops")
    try:
        while True:
            transport, sender = _transport(cli)
            result = send_all(db, transport, sender=sender, folder=cli.settings.notify_templates)
            if result.claimed:
                note(_sent_text(result))
            time.sleep(pause)
    except KeyboardInterrupt:
        pass


def _list_text(rows) -> str:
    if not rows:
        return "no messages"
    return table(
        [
            [
                r.id,
                r.incident or "-",
                r.event,
                r.recipient or "-",
                r.status,
                r.attempts,
                r.last_error or "",
            ]
            for r in rows
        ],
        ["id", "incident", "event", "to", "status", "tries", "last error"],
    )


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="queued, sent or failed."),
    incident: str | None = typer.Option(None, "--incident", help="Only this incident's."),
    limit: int = typer.Option(200, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """The outbox, newest first."""
    from cc_tui.services.incidents.base import parse_ref
    from cc_tui.services.notify.sender import list_outbox

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_outbox(
            session,
            status=status,
            incident_id=parse_ref(incident) if incident else None,
            limit=limit,
        )
    emit(rows, as_json=as_json, human=_list_text)


@app.command("retry")
@command
def retry(
    ctx: typer.Context,
    message: int = typer.Argument(..., help="The outbox message's id (see `notify list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a failed message again, due now, with a fresh count of tries."""
    from cc_tui.services.notify.sender import retry as retry_row

    with state(ctx).work() as (session, _actor):
        row = retry_row(session, message)
    emit(row, as_json=as_json, human=lambda r: f"#{r.id} queued again")


@app.command("preview")
@command
def preview(
    ctx: typer.Context,
    template: str = typer.Argument(..., help="registered, handed_over, closed, ..."),
    incident: str = typer.Option(..., "--incident", help="The incident to render it for."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Render a template for an incident without sending anything."""
    from cc_tui.services.notify.templates import preview as render_preview

    cli = state(ctx)
    with cli.work(write=False) as (session, _actor):
        rendered = render_preview(session, template, incident, cli.settings.notify_templates)
    emit(rendered, as_json=as_json, human=lambda r: f"Subject: {r.subject}\n\n{r.body}")
