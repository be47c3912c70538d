"""Reading mailboxes over IMAP (imap-tools): by UID, the raw message stored and committed
before the server is told (flagged \\Seen or moved), so a crash never loses a message.

What was read is remembered as (mailbox, UIDVALIDITY, UID) on the stored messages and as
the mailbox's cursor (the highest UID a pass handled, also for messages ignored as read
before, which store no row): the next fetch asks only for higher UIDs. When the server
renumbers the folder (a new UIDVALIDITY) everything is read again once, and the SHA-256
and Message-ID checks keep it from being filed twice.

A mailbox that cannot be read (unreachable, the connection lost, a command refused, its
done folder missing) is reported with its name and the pass goes on with the others.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import (
    ImapToolsError,
    MailboxLoginError,
    MailboxStarttlsError,
    UnexpectedCommandStatusError,
)
from sqlalchemy import and_, case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from cc_tui.db.engine import Database
from cc_tui.errors import CcError, DuplicateRow, NotFound, RuleViolation, Unavailable
from cc_tui.models import MailCursor, MailMessage
from cc_tui.services.context import Actor
from cc_tui.services.incidents.event_log import event_types_per_batch
from cc_tui.services.mail.intake import MailDefaults, Outcome, receive, receive_raced
from cc_tui.services.mail.mailboxes import MailboxInfo, list_mailboxes, parse_url, password
from cc_tui.services.per_batch import reference_per_batch
from cc_tui.services.worktime.stored import calendars_per_batch

TIMEOUT = 30.0
# A fetch group: at most this many messages and bytes (a larger message comes alone).
FETCH_COUNT = 100
FETCH_BYTES = 20 * 1024 * 1024
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
# What the IMAP conversation may raise once connected: the socket (lost, timed out), imaplib
# (`abort`: the connection is gone; `error`: a command answered NO or BAD) and imap-tools.
IMAP_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError)


@dataclass
class FetchResult:
    fetched: int = 0
    incidents: int = 0
    events: int = 0
    ignored: int = 0
    quarantined: int = 0

    def count(self, outcome: str) -> None:
        self.fetched += 1
        name = {"incident": "incidents", "event": "events"}.get(outcome, outcome)
        setattr(self, name, getattr(self, name) + 1)


class MailServerUnavailable(Unavailable):
    """A mailbox's server cannot be reached, or its certificate cannot be verified (exit
    code 5, as for the database): the mailbox is fine, the server or the path to it is not."""


class ConnectionLost(MailServerUnavailable):
    """The connection to a mailbox's server broke off during a pass (the exit code of a
    server that cannot be reached at all). What was filed stays filed; the next pass goes
    on from there."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{message}; the next pass goes on from there", field=field)
        self.lost = message  # without the advice, for `watch` (which tries again itself)


class FetchIncomplete(CcError):
    """A pass could not read some of its mailboxes: each one's error (its message names
    the mailbox) and the totals of those that were read. The exit code is the first
    failure's."""

    def __init__(self, failures: list[CcError], result: FetchResult) -> None:
        super().__init__("; ".join(f.message for f in failures))
        self.failures = failures
        self.result = result
        self.exit_code = failures[0].exit_code


def named(box: MailboxInfo, error: CcError) -> CcError:
    """The error with the mailbox's name in front, unless its message names it already."""
    if error.message.startswith(f"mailbox {box.name}"):
        return error
    return type(error)(f"mailbox {box.name}: {error.message}", field=error.field)


def _reason(exc: BaseException) -> str:
    """What the server or the socket said, on one line."""
    if isinstance(exc, UnexpectedCommandStatusError):
        data = exc.command_result[1] if len(exc.command_result) > 1 else None
        parts = data if isinstance(data, list | tuple) else [data]
        said = " ".join(
            p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p)
            for p in parts
            if p is not None
        )
        return said.strip() or f"the server answered {exc.command_result[0]}"
    return " ".join(str(exc).split()) or type(exc).__name__


class _Pass:
    """Where a pass over one mailbox stands, for the error when it breaks off."""

    def __init__(self, box: MailboxInfo) -> None:
        self.box = box
        url = parse_url(box.url)
        self.server = f"{url.host}:{url.port}"
        self.step = f"to read folder {url.folder}"
        self.done = 0
        self.total = 0
        self.telling = False  # the step tells the server of filed messages

    def failure(self, exc: BaseException) -> CcError:
        name = self.box.name
        if isinstance(exc, OSError | imaplib.IMAP4.abort):
            after = f" after {self.done} of {self.total} message(s)" if self.total else ""
            return ConnectionLost(
                f"mailbox {name}: the connection to {self.server} was lost{after} ({_reason(exc)})"
            )
        told = "; they are filed, and the next pass tells the server again" if self.telling else ""
        return RuleViolation(
            f"mailbox {name}: {self.server} refused {self.step}: {_reason(exc)}{told}"
        )


@contextmanager
def connect(box: MailboxInfo) -> Iterator[BaseMailBox]:
    """A logged-in connection with the mailbox's folder selected.

    TLS (imaps://, and STARTTLS) checks the server's certificate and name against the
    authorities the system trusts before the password is sent; an internal authority is
    trusted the OpenSSL way (`SSL_CERT_FILE` / `SSL_CERT_DIR` in the environment)."""
    url = parse_url(box.url)
    context = ssl.create_default_context()
    client: BaseMailBox
    try:
        if url.secure:
            client = MailBox(url.host, url.port, timeout=TIMEOUT, ssl_context=context)
        else:
            client = MailBoxUnencrypted(url.host, url.port, timeout=TIMEOUT)
            if "STARTTLS" in client.client.capabilities:
                client.logout()
                client = MailBoxStartTls(url.host, url.port, timeout=TIMEOUT, ssl_context=context)
            elif not url.loopback:
                client.logout()
                raise RuleViolation(
                    f"mailbox {box.name}: {url.host} offers no STARTTLS: use imaps:// "
                    "(plain IMAP only on loopback)"
                )
        client.login(url.user, password(box), initial_folder=url.folder)
    except MailboxLoginError as exc:
        raise RuleViolation(f"mailbox {box.name}: the server refused the login") from exc
    except ssl.SSLCertVerificationError as exc:
        raise MailServerUnavailable(
            f"mailbox {box.name}: the certificate of {url.host} could not be verified: "
            f"{exc.verify_message or exc.reason} (an internal authority: SSL_CERT_FILE)"
        ) from exc
    except MailboxStarttlsError as exc:
        raise MailServerUnavailable(
            f"mailbox {box.name}: {url.host}:{url.port} did not start TLS"
        ) from exc
    except (OSError, imaplib.IMAP4.error) as exc:  # ssl.SSLError is an OSError
        raise MailServerUnavailable(
            f"mailbox {box.name}: cannot reach {url.host}:{url.port}: {exc}"
        ) from exc
    try:
        yield client
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):  # gone already
            client.logout()


def _last_uid(database: Database, box: MailboxInfo, validity: int) -> tuple[int, int]:
    """The highest UID handled under `validity`, and the part of it the cursor vouches for.

    The cursor also counts the messages ignored as read before (they store no row under
    this mailbox and UID); the stored rows count those filed before the cursor existed or
    by another fetcher."""
    with database.session(write=False) as session:
        stored = session.exec(
            select(func.max(MailMessage.uid)).where(
                col(MailMessage.mailbox) == box.name, col(MailMessage.uidvalidity) == validity
            )
        ).one()
        cursor = session.get(MailCursor, box.id)
        handled = cursor.last_uid if cursor is not None and cursor.uidvalidity == validity else 0
    return max(int(stored or 0), handled), handled


def _sizes(client: BaseMailBox, uids: list[int]) -> dict[int, int]:
    """Each message's size as the server reports it (RFC822.SIZE), in one command."""
    if not uids:
        return {}
    status, data = client.client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    sizes: dict[int, int] = {}
    for item in data if status == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _chunks(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """UIDs in groups of at most FETCH_COUNT messages and FETCH_BYTES bytes (a message
    larger than that alone), so a batch never holds much in memory."""
    chunk: list[int] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chunk and (len(chunk) >= FETCH_COUNT or held + size > FETCH_BYTES):
            yield chunk
            chunk, held = [], 0
        chunk.append(uid)
        held += size
    if chunk:
        yield chunk


def _bodies(client: BaseMailBox, chunk: list[int]) -> dict[int, bytes]:
    """The raw messages of one group, by UID (one expunged meanwhile is missing)."""
    status, data = client.client.uid("FETCH", ",".join(map(str, chunk)), "(UID BODY.PEEK[])")
    if status != "OK":  # not "expunged meanwhile": the group is left for the next pass
        raise imaplib.IMAP4.error(" ".join(map(str, data)) or status)
    bodies: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and (uid := _UID.search(item[0])) is not None:
            bodies[int(uid.group(1))] = bytes(item[1])
    return bodies


def _done(client: BaseMailBox, box: MailboxInfo, uids: list[int]) -> None:
    """Tell the server these are filed: moved to the done folder, or flagged \\Seen."""
    if not uids:
        return
    listed = ",".join(map(str, uids))
    if box.done_folder:
        client.move(listed, box.done_folder)
    else:
        client.flag(listed, MailMessageFlags.SEEN, True)


def _durable(database: Database, box: MailboxInfo, validity: int, uid: int) -> None:
    """Move the mailbox's cursor to `uid` (every UID up to it handled), and wait until the
    group's filing is on disk, before the server is told.

    Each message of the group was committed without waiting for the disk (`durable=False`
    on PostgreSQL; SQLite's WAL commits are not synced either). One commit with
    `flush_all` syncs the log up to its own commit record, and with it every commit
    before it, so the group is as durable as if each message had waited, for the price
    of one wait (PostgreSQL waits only for a commit that wrote something: the cursor is
    that write). The cursor never moves back under the same UIDVALIDITY (another fetcher
    may be further)."""
    with database.session(flush_all=True) as session:
        table = MailCursor.__table__  # type: ignore[attr-defined]
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(mailbox_id=box.id, uidvalidity=validity, last_uid=uid)
        further = and_(table.c.uidvalidity == validity, table.c.last_uid > uid)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["mailbox_id"],
                set_={
                    "uidvalidity": validity,
                    "last_uid": case((further, table.c.last_uid), else_=uid),
                },
            )
        )


def _retell(
    database: Database,
    client: BaseMailBox,
    box: MailboxInfo,
    validity: int,
    last: int,
    handled: int,
) -> None:
    """Tell the server again of messages an earlier pass handled but never told it of
    (that pass stopped between its commits and telling the server): the ones at or below
    the last UID read that are still unseen, or still in the folder when filed mail moves
    to a done folder, and are at or below the cursor (`handled`) or stored."""
    if last <= 0:
        return
    criteria = f"UID 1:{last}" if box.done_folder else f"UID 1:{last} UNSEEN"
    waiting = [int(u) for u in client.uids(criteria) if 0 < int(u) <= last]
    told = {uid for uid in waiting if uid <= handled}
    rest = [uid for uid in waiting if uid > handled]
    with database.session(write=False) as session:
        for first in range(0, len(rest), 500):
            told.update(
                uid
                for uid in session.exec(
                    select(MailMessage.uid).where(
                        col(MailMessage.mailbox) == box.name,
                        col(MailMessage.uidvalidity) == validity,
                        col(MailMessage.uid).in_(rest[first : first + 500]),
                    )
                ).all()
                if uid is not None
            )
    _done(client, box, sorted(told))


def _check_done_folder(client: BaseMailBox, box: MailboxInfo, server: str) -> None:
    """Before anything is filed: the folder filed mail moves to must exist on the server
    (else each message would be filed and then stay in the inbox)."""
    if box.done_folder and not client.folder.exists(box.done_folder):
        raise NotFound(
            f"mailbox {box.name}: its done folder {box.done_folder!r} does not exist on "
            f"{server} (create it there); nothing was read"
        )


def fetch_new(
    database: Database,
    client: BaseMailBox,
    *,
    actor: Actor,
    box: MailboxInfo,
    result: FetchResult,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """File every message above the last UID handled; each in its own transaction.
    `progress(mailbox, done, total)` is told before the first and after each message.

    Messages are fetched a group at a time (one round trip for many); the server hears
    of a group's messages once all of them are committed, so a crash in between leaves
    them new there, and reading them again finds them stored (SHA-256).

    Whatever the IMAP conversation raises becomes an error naming the mailbox and the
    step: `ConnectionLost` (with how many messages were handled) or `RuleViolation` (the
    server refused a command)."""
    state = _Pass(box)
    try:
        _fetch_new(database, client, actor, box, result, progress, state)
    except IMAP_ERRORS as exc:
        raise state.failure(exc) from exc


def _fetch_new(
    database: Database,
    client: BaseMailBox,
    actor: Actor,
    box: MailboxInfo,
    result: FetchResult,
    progress: Callable[[str, int, int], None] | None,
    state: _Pass,
) -> None:
    folder = box.folder
    _check_done_folder(client, box, state.server)
    validity = int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
    last, handled_before = _last_uid(database, box, validity)
    state.step, state.telling = "to flag or move messages filed before", True
    _retell(database, client, box, validity, last, handled_before)
    state.step, state.telling = f"to search folder {folder}", False
    # `n:*` always matches the highest UID, even below n: filtered here.
    uids = [int(u) for u in client.uids(f"UID {last + 1}:*") if int(u) > last]
    state.total = len(uids)
    defaults = box.defaults()
    if progress is not None and uids:
        progress(box.name, 0, len(uids))
    # Each calendar, the event types and the other reference rows (the reason code, the
    # default priority, routing rules and their departments, the notification policy) are
    # read once a pass, not once a message.
    with calendars_per_batch(), event_types_per_batch(), reference_per_batch():
        state.step = "to fetch message sizes"
        sizes = _sizes(client, uids)
        for chunk in _chunks(uids, sizes):
            state.step, state.telling = "to fetch messages", False
            bodies = _bodies(client, chunk)
            told: list[int] = []
            handled: int | None = None  # every UID of the group up to this one is done
            try:
                for uid in chunk:
                    raw = bodies.get(uid)
                    if raw is None:
                        handled = uid
                        continue  # expunged meanwhile
                    outcome = _file(database, actor, raw, defaults, box, validity, uid)
                    # Filed, or ignored as read before: told to the server alike.
                    told.append(uid)
                    handled = uid
                    result.count(outcome.outcome)
                    state.done += 1
                    if progress is not None:
                        progress(box.name, state.done, len(uids))
            finally:
                # Committed and on disk, the cursor with them: only now the server may
                # forget they are new (if the durable commit fails, the server is not told
                # now; the next pass tells it, `_retell`).
                if handled is not None:
                    _durable(database, box, validity, handled)
                if told:
                    state.telling = True
                    state.step = (
                        f"to move {len(told)} filed message(s) to {box.done_folder}"
                        if box.done_folder
                        else f"to flag {len(told)} filed message(s) \\Seen"
                    )
                    _done(client, box, told)


def _file(
    database: Database,
    actor: Actor,
    raw: bytes,
    defaults: MailDefaults,
    box: MailboxInfo,
    validity: int,
    uid: int,
) -> Outcome:
    """File one fetched message in its own transaction."""
    source = f"{box.name}/{box.folder}:{validity}:{uid}"

    def once() -> Outcome:
        # Committed without waiting for the disk: `_durable` waits once for the whole
        # group, before the server hears of it.
        with database.session(durable=False) as session:
            return receive(
                session,
                actor=actor,
                raw=raw,
                defaults=defaults,
                source=source,
                uidvalidity=validity,
                uid=uid,
            )

    try:
        return receive_raced(once)
    except DuplicateRow as exc:
        # Not a race with another fetcher: the message stays new on the server and the pass
        # stops here (the cursor stays before it).
        raise DuplicateRow(
            f"message UID {uid} was refused twice ({exc.message}); it stays new on the server"
        ) from exc


def fetch(
    database: Database,
    *,
    actor: Actor,
    mailbox: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> FetchResult:
    """One pass over one mailbox or all active ones (cron-able).

    Every mailbox is tried: one that cannot be read is left for the next pass and the
    others are read. If any failed, `FetchIncomplete` says which and why and carries the
    totals of the rest. A database that is unavailable stops the pass (every mailbox
    needs it)."""
    with database.session(write=False) as session:
        boxes = list_mailboxes(session, mailbox)
    result = FetchResult()
    failures: list[CcError] = []
    for box in boxes:
        try:
            with connect(box) as client:
                fetch_new(database, client, actor=actor, box=box, result=result, progress=progress)
        except MailServerUnavailable as exc:
            failures.append(named(box, exc))
        except Unavailable:
            raise  # the database: every mailbox needs it
        except CcError as exc:
            failures.append(named(box, exc))
    if failures:
        raise FetchIncomplete(failures, result)
    return result


def watch(
    database: Database,
    *,
    actor: Actor,
    mailbox: str,
    on_result: Callable[[FetchResult], None],
    on_status: Callable[[str], None] | None = None,
    idle_seconds: float = 240.0,
    rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Fetch, then wait in IMAP IDLE for news and fetch again; a server that cannot be
    reached or a lost connection is tried again after a back-off (1 s doubling to 5 min).
    `on_status` hears of each loss with the delay before the next try, and of the
    connection being back. `rounds` bounds the waits (tests)."""
    with database.session(write=False) as session:
        (box,) = list_mailboxes(session, mailbox)
    state = _Pass(box)
    delay = 1.0
    waited = 0
    lost = False
    while rounds is None or waited < rounds:
        try:
            with connect(box) as client:
                delay = 1.0
                if lost:
                    lost = False
                    if on_status is not None:
                        on_status(f"mailbox {box.name}: connected to {state.server} again")
                while rounds is None or waited < rounds:
                    result = FetchResult()
                    fetch_new(database, client, actor=actor, box=box, result=result)
                    on_result(result)
                    try:
                        client.idle.wait(timeout=idle_seconds)
                    except IMAP_ERRORS as exc:
                        raise ConnectionLost(
                            f"mailbox {box.name}: the connection to {state.server} was lost "
                            f"({_reason(exc)})"
                        ) from exc
                    waited += 1
        # Every failure is said and tried again: a daemon outlives a database restart, a
        # server refusing commands for a while, or a password file being fixed.
        except (CcError, OSError, imaplib.IMAP4.abort) as exc:
            waited += 1
            if on_status is not None:
                if isinstance(exc, ConnectionLost):
                    said = exc.lost
                elif isinstance(exc, CcError):
                    said = named(box, exc).message
                else:
                    said = f"mailbox {box.name}: {_reason(exc)}"
                on_status(f"{said}; trying again in {delay:g} s")
            lost = True
            sleep(delay)
            delay = min(delay * 2, 300.0)
