"""`cc-tui mail ...`: e-mail intake (M12): import messages, the quarantine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, local_time, note, state, table

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

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


@contextmanager
def progress_bar(
    *, enabled: bool, console: Console | None = None
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar per mailbox on stderr while messages are filed (interactive only: never with
    --json or when stderr is no terminal)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(mailbox: str, done: int, total: int) -> None:
            if mailbox not in tasks:
                tasks[mailbox] = bar.add_task(mailbox, total=total)
            bar.update(tasks[mailbox], completed=done, total=total)

        yield advance


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
    from cc_tui.errors import DuplicateRow, NotFound
    from cc_tui.services.mail.intake import (
        Outcome,
        check_filing_codes,
        message_files,
        receive,
        receive_raced,
    )

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise NotFound(f"no such file or folder: {', '.join(missing)}")
    defaults = _defaults(reason, priority, own)
    cli = state(ctx)
    with cli.work(write=False) as (session, _actor):
        check_filing_codes(session, reason=reason, priority=priority)

    def file(path: Path, raw: bytes) -> Outcome:
        with cli.work() as (session, actor):
            return receive(session, actor=actor, raw=raw, defaults=defaults, source=str(path))

    def one(path: Path) -> Outcome:
        try:
            raw = path.read_bytes()
        except OSError as exc:  # unreadable, or moved by a mail program since it was listed
            return Outcome(str(path), "ignored", None, f"cannot be read: {exc.strerror or exc}")
        try:
            return receive_raced(lambda: file(path, raw))
        except DuplicateRow as exc:
            return Outcome(str(path), "ignored", None, f"refused twice: {exc.message}")

    rows = [_outcome(one(path)) for path in message_files(paths)]
    emit(rows, as_json=as_json, human=_outcomes_text)


def _quarantine_text(rows, zone) -> str:
    if not rows:
        return "the quarantine is empty"
    return table(
        [
            [r.id, local_time(r.received_at, zone), r.sender or "-", r.subject or "-", r.reason]
            for r in rows
        ],
        ["id", "received", "from", "subject", "reason"],
    )


@quarantine_app.command("list")
@command
def quarantine_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Messages that could not be filed, with the reason."""
    from cc_tui.services.mail.intake import quarantine_list as listed

    cli = state(ctx)
    with cli.work(write=False) as (session, _actor):
        rows = listed(session)
    zone = cli.settings.display_zone
    emit(rows, as_json=as_json, human=lambda rs: _quarantine_text(rs, zone))


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
    """Process a quarantined message again (after its cause was fixed), as its mailbox
    files messages (reason code, priority, type, department); the options given override
    those. A message that stays quarantined exits 1 with the reason."""
    from cc_tui.errors import RuleViolation
    from cc_tui.services.mail.mailboxes import retry_quarantined

    with state(ctx).work() as (session, actor):
        outcome = retry_quarantined(
            session,
            actor=actor,
            message_id=message,
            reason=reason,
            priority=priority,
            own_addresses=_defaults(reason, priority, own).own_addresses,
        )
    emit(_outcome(outcome), as_json=as_json, human=lambda r: _outcomes_text([r]))
    if outcome.outcome == "quarantined":
        raise RuleViolation(f"message {message} is still quarantined: {outcome.reason}")


def _fetched_text(r) -> str:
    return (
        f"{r.fetched} message(s): {r.incidents} new incident(s), {r.events} event(s), "
        f"{r.ignored} ignored, {r.quarantined} quarantined"
    )


@app.command()
@command
def fetch(
    ctx: typer.Context,
    mailbox: str | None = typer.Option(None, "--mailbox", help="One mailbox (default: all)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read new messages from the mailboxes once and file them (cron-able).

    Every mailbox is tried: one that cannot be read is named on stderr with the reason,
    the totals of the others are printed, and the exit code is the first failure's."""
    from cc_tui.services.mail.fetch import FetchIncomplete
    from cc_tui.services.mail.fetch import fetch as fetch_all

    cli = state(ctx)
    with cli.work(write=False) as (_session, actor):
        pass
    incomplete = None
    with progress_bar(enabled=not as_json and sys.stderr.isatty()) as progress:
        try:
            result = fetch_all(cli.database(), actor=actor, mailbox=mailbox, progress=progress)
        except FetchIncomplete as error:
            incomplete, result = error, error.result
    if incomplete is not None:
        for failure in incomplete.failures:
            note(f"cc-tui: {failure.message}")
    emit(result, as_json=as_json, human=_fetched_text)
    if incomplete is not None:
        raise typer.Exit(int(incomplete.exit_code))


@app.command()
@command
def watch(
    ctx: typer.Context,
    mailbox: str | None = typer.Option(
        None, "--mailbox", help="The mailbox (default: the only one)."
    ),
) -> None:
    """Keep reading a mailbox: IMAP IDLE, reconnecting with back-off (a lost connection,
    each next try with its delay and the connection back are said on stderr). Ctrl-C
    stops it."""
    from cc_tui.errors import NotFound, UsageError
    from cc_tui.services.mail.fetch import watch as watch_box
    from cc_tui.services.mail.mailboxes import list_mailboxes

    cli = state(ctx)
    with cli.work(write=False) as (session, actor):
        boxes = list_mailboxes(session, mailbox)
    if not boxes:
        raise NotFound(
            "there are no mailboxes to watch: an admin adds one with "
            "`cc-tui mailbox add NAME --url imaps://user@host/INBOX`"
        )
    if len(boxes) != 1:
        names = ", ".join(b.name for b in boxes)
        raise UsageError(f"name the mailbox to watch with --mailbox (one of {names})")

    def report(result) -> None:
        if result.fetched:
            note(_fetched_text(result))

    try:
        watch_box(
            cli.database(), actor=actor, mailbox=boxes[0].name, on_result=report, on_status=note
        )
    except KeyboardInterrupt:
        note("stopped")
