"""`cc-tui notify ...`: the outbox of customer messages and its sender."""

from __future__ import annotations

import signal

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state, table

app = typer.Typer(help="Customer notifications: send, list, retry, preview.")


def _sent_text(result) -> str:
    text = f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed"
    if getattr(result, "held", 0):
        text += f", {result.held} held for quiet hours"
    return "\n".join([text, *result.errors])


def _send_sms(cli, db, *, once: bool):
    """The SMS pass when `[sms] url` is set (else None)."""
    if not cli.settings.sms.url:
        return None
    from cc_tui.services.notify.sms import HttpGateway, send_all_sms, send_due_sms, sms_target

    target = sms_target(cli.settings)
    run = send_due_sms if once else send_all_sms
    return run(db, HttpGateway(target), target, folder=cli.settings.templates_folder)


def _check_configured(cli) -> None:
    """A sender needs a way out: the SMTP server, the SMS gateway, or both (each checked)."""
    from cc_tui.errors import UsageError

    if not cli.settings.smtp.url and not cli.settings.sms.url:
        raise UsageError(
            "nothing to send with: set [smtp] url and from (e-mail) and/or [sms] url (SMS) "
            "in the config file",
            field="smtp",
        )
    if cli.settings.smtp.url:
        _transport(cli)
    if cli.settings.sms.url:
        from cc_tui.services.notify.sms import sms_target

        sms_target(cli.settings)


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
    """Send the e-mails and SMS that are due; failures are retried later with back-off."""
    from cc_tui.services.notify.sender import SendResult, send_all, send_due
    from cc_tui.services.notify.sms import SmsResult

    cli = state(ctx)
    with cli.work(write=False):
        pass  # the login must be a known, active agent
    _check_configured(cli)
    db = cli.database()
    result = SmsResult()
    if cli.settings.smtp.url or not cli.settings.sms.url:
        transport, sender = _transport(cli)
        run = send_due if once else send_all
        mail: SendResult = run(db, transport, sender=sender, folder=cli.settings.templates_folder)
        result.sent, result.retrying, result.failed = mail.sent, mail.retrying, mail.failed
        result.errors.extend(mail.errors)
    sms = _send_sms(cli, db, once=once)
    if sms is not None:
        result.sent += sms.sent
        result.retrying += sms.retrying
        result.failed += sms.failed
        result.held = sms.held
        result.errors.extend(sms.errors)
    emit(
        {
            "sent": result.sent,
            "retrying": result.retrying,
            "failed": result.failed,
            "held": result.held,
            "errors": result.errors,
        },
        as_json=as_json,
        human=lambda _: _sent_text(result),
    )


class _Stop(BaseException):
    """Raised by the signal handler to end a wait (never a pass)."""


@app.command("watch")
@command
def watch(
    ctx: typer.Context,
    interval: float = typer.Option(
        None,
        "--interval",
        min=0.1,
        help="Seconds between looks at most (default: notify_poll_seconds). On PostgreSQL "
        "a queued message wakes it at once.",
    ),
) -> None:
    """Keep sending until Ctrl+C or SIGTERM; a pass in progress finishes its marks first."""
    from cc_tui.errors import CcError
    from cc_tui.services.notify import watch as watching
    from cc_tui.services.notify.sender import send_all

    cli = state(ctx)
    with cli.work(write=False):
        pass
    _check_configured(cli)
    pause = interval or cli.settings.notify_poll_seconds
    db = cli.database()
    flags = {"stop": False, "waiting": False}

    def on_signal(signum, _frame) -> None:
        flags["stop"] = True
        if flags["waiting"]:
            raise _Stop

    def one_pass() -> None:
        try:
            if cli.settings.smtp.url or not cli.settings.sms.url:
                transport, sender = _transport(cli)
                result = send_all(
                    db, transport, sender=sender, folder=cli.settings.templates_folder
                )
                if result.claimed:
                    note(_sent_text(result))
            sms = _send_sms(cli, db, once=False)
            if sms is not None and sms.taken:
                note("SMS: " + _sent_text(sms))
        except CcError as exc:
            # The database away for a while: say so and try again after the pause.
            note(f"this pass failed, trying again: {exc}")

    def waiting(now: bool) -> None:
        flags["waiting"] = now

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    wake = "woken by PostgreSQL NOTIFY" if not db.is_sqlite else "polling"
    note(f"sending due notifications ({wake}, every {pause:g} s at most); Ctrl+C stops")
    try:
        watching.run(db, one_pass, poll=pause, stopping=lambda: flags["stop"], waiting=waiting)
    except _Stop:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    note("stopped")


def _due(row, zone) -> str:
    """When a queued message goes next (a retry's back-off, an SMS held for quiet hours)."""
    if row.status != "queued" or row.next_attempt_at is None:
        return ""
    return f"{row.next_attempt_at.astimezone(zone):%m-%d %H:%M}"


def _list_text(rows, zone=None) -> str:
    if not rows:
        return "no messages"
    return table(
        [
            [
                r.id,
                r.incident or "-",
                r.event,
                r.channel,
                r.recipient or "-",
                r.status,
                r.attempts,
                _due(r, zone),
                r.last_error or "",
            ]
            for r in rows
        ],
        ["id", "incident", "event", "channel", "to", "status", "tries", "due", "last error"],
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

    cli = state(ctx)
    with cli.work(write=False) as (session, _actor):
        rows = list_outbox(
            session,
            status=status,
            incident_id=parse_ref(incident) if incident else None,
            limit=limit,
        )
    zone = cli.settings.display_zone
    emit(rows, as_json=as_json, human=lambda rs: _list_text(rs, zone))


@app.command("retry")
@command
def retry(
    ctx: typer.Context,
    message: int = typer.Argument(..., help="The outbox message's id (see `notify list`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue a failed message again, due now, with a fresh count of tries."""
    from cc_tui.services.notify.sender import retry as retry_row

    with state(ctx).work() as (session, actor):
        row = retry_row(session, message, actor=actor)
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
        rendered = render_preview(session, template, incident, cli.settings.templates_folder)
    # An SMS template has no subject: its text alone.
    emit(
        rendered,
        as_json=as_json,
        human=lambda r: f"Subject: {r.subject}\n\n{r.body}" if r.subject else r.body,
    )


@app.command("test-sms")
@command
def test_sms(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The phone number (E.164, or national)."),
    text: str = typer.Option("cc-tui test message", "--text", help="What to send."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send one SMS through the [sms] gateway now (not through the outbox) and show its
    answer: a check of the gateway settings (admins)."""
    from cc_tui.services.notify.sms import send_test

    cli = state(ctx)
    with cli.work(write=False) as (_session, actor):
        actor.require_admin("send a test SMS")
    sent = send_test(cli.settings, number, text)
    emit(sent, as_json=as_json, human=lambda r: f"{r['to']}: {r['answer']}")


@app.command("suppressed")
@command
def suppressed(
    ctx: typer.Context,
    all_rows: bool = typer.Option(False, "--all", help="Also lifted and expired ones."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Addresses nothing is sent to for now (they bounced for good), and until when."""
    from cc_tui.services.notify.suppression import listed

    with state(ctx).work(write=False) as (session, _actor):
        rows = listed(session, all_rows=all_rows)
    emit(
        rows,
        as_json=as_json,
        human=lambda rs: (
            table(
                [[r.address, f"{r.until:%Y-%m-%d %H:%M}", r.reason] for r in rs],
                ["address", "until (UTC)", "why"],
            )
            if rs
            else "no suppressed addresses"
        ),
    )


@app.command("suppress")
@command
def suppress(
    ctx: typer.Context,
    address: str = typer.Argument(..., help="The e-mail address."),
    days: float = typer.Option(30.0, "--days", min=0.01, help="For how long."),
    reason: str = typer.Option("put on the list by hand", "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send nothing to ADDRESS for --days days (supervisors and admins)."""
    from cc_tui.services.notify.suppression import suppress as add

    with state(ctx).work() as (session, actor):
        actor.require_supervisor("suppress an address")
        row = add(session, address, reason, days=days)
    emit(
        row,
        as_json=as_json,
        human=lambda r: f"{r.address} suppressed until {r.until:%Y-%m-%d %H:%M}",
    )


@app.command("unsuppress")
@command
def unsuppress(
    ctx: typer.Context,
    address: str = typer.Argument(..., help="The e-mail address."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take ADDRESS off the suppression list (supervisors and admins)."""
    from cc_tui.services.notify.suppression import lift

    with state(ctx).work() as (session, actor):
        actor.require_supervisor("lift a suppression")
        row = lift(session, address)
    emit(row, as_json=as_json, human=lambda r: f"{r.address} is no longer suppressed")


policy_app = typer.Typer(help="Which events notify the customer, per request type and channel.")
app.add_typer(policy_app, name="policy")


def _policy_text(rows) -> str:
    if not rows:
        return "no policy rows"
    return table(
        [[r.request_type, r.event, r.channel, "on" if r.enabled else "off"] for r in rows],
        ["type", "event", "channel", "notifies"],
    )


@policy_app.command("list")
@command
def policy_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every request type, event and channel, and whether it notifies the customer."""
    from cc_tui.services.notify.policy import listed

    with state(ctx).work(write=False) as (session, _actor):
        rows = listed(session)
    emit(rows, as_json=as_json, human=_policy_text)


@policy_app.command("set")
@command
def policy_set(
    ctx: typer.Context,
    request_type: str = typer.Option(
        ..., "--type", help="The request type: action, information or comment."
    ),
    event: str = typer.Option(..., "--event", help="registered, handed_over, solved or closed."),
    channel: str | None = typer.Option(
        None, "--channel", help="email or sms (the customer's preference); default both."
    ),
    on: bool = typer.Option(..., "--on/--off", help="Notify on this event, or do not."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Switch an event on or off for a request type (admins); counts from the next change."""
    from cc_tui.services.notify.policy import set_policy

    with state(ctx).work() as (session, actor):
        rows = set_policy(
            session,
            actor=actor,
            request_type=request_type,
            event=event,
            channel=channel,
            enabled=on,
        )
    emit(rows, as_json=as_json, human=_policy_text)
