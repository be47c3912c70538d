"""Reading mailboxes over IMAP (imap-tools): by UID, the raw message stored and committed
before the server is told (flagged \\Seen or moved), so a crash never loses a message.

What was read is remembered as (mailbox, UIDVALIDITY, UID) on the stored messages: the next
fetch asks only for higher UIDs. When the server renumbers the folder (a new UIDVALIDITY)
everything is read again, and the SHA-256 and Message-ID checks keep it from being filed
twice.
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
from imap_tools.errors import MailboxLoginError, MailboxStarttlsError
from sqlalchemy import func, update
from sqlmodel import col, select

from cc_tui.db.engine import Database
from cc_tui.errors import DuplicateRow, RuleViolation, Unavailable, UsageError
from cc_tui.models import MailMessage
from cc_tui.services.context import Actor
from cc_tui.services.incidents.event_log import event_types_per_batch
from cc_tui.services.mail.intake import MailDefaults, Outcome, receive
from cc_tui.services.mail.mailboxes import MailboxInfo, list_mailboxes, parse_url, password
from cc_tui.services.per_batch import reference_per_batch
from cc_tui.services.worktime.stored import calendars_per_batch

TIMEOUT = 30.0
# A fetch group: at most this many messages and bytes (a larger message comes alone).
FETCH_COUNT = 100
FETCH_BYTES = 20 * 1024 * 1024
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


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


def _last_uid(database: Database, name: str, validity: int) -> int:
    with database.session(write=False) as session:
        last = session.exec(
            select(func.max(MailMessage.uid)).where(
                col(MailMessage.mailbox) == name, col(MailMessage.uidvalidity) == validity
            )
        ).one()
    return int(last or 0)


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
    bodies: dict[int, bytes] = {}
    for item in data if status == "OK" else []:
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


def _durable(database: Database, row_id: int) -> None:
    """Wait until a group's filing is on disk, before the server is told.

    Each message of the group was committed without waiting for the disk (`durable=False`
    on PostgreSQL; SQLite's WAL commits are not synced either). One commit with
    `flush_all` syncs the log up to its own commit record, and with it every commit
    before it, so the group is as durable as if each message had waited, for the price
    of one wait. That commit must write something (PostgreSQL does not wait on a commit
    that wrote nothing): one row of the group, `row_id`, written again unchanged."""
    with database.session(flush_all=True) as session:
        session.execute(
            update(MailMessage)
            .where(col(MailMessage.id) == row_id)
            .values(status=col(MailMessage.status))
        )


def _retell(
    database: Database, client: BaseMailBox, box: MailboxInfo, validity: int, last: int
) -> None:
    """Tell the server again of messages filed by an earlier pass that it never heard of
    (that pass stopped between its commits and telling the server): the ones at or below
    the last UID read that are still unseen, or still in the folder when filed mail moves
    to a done folder, and are stored."""
    if last <= 0:
        return
    criteria = f"UID 1:{last}" if box.done_folder else f"UID 1:{last} UNSEEN"
    waiting = [int(u) for u in client.uids(criteria) if 0 < int(u) <= last]
    if not waiting:
        return
    stored: list[int | None] = []
    with database.session(write=False) as session:
        for first in range(0, len(waiting), 500):
            stored += session.exec(
                select(MailMessage.uid).where(
                    col(MailMessage.mailbox) == box.name,
                    col(MailMessage.uidvalidity) == validity,
                    col(MailMessage.uid).in_(waiting[first : first + 500]),
                )
            ).all()
    _done(client, box, sorted({uid for uid in stored if uid is not None}))


def fetch_new(
    database: Database,
    client: BaseMailBox,
    *,
    actor: Actor,
    box: MailboxInfo,
    result: FetchResult,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """File every message above the last UID read; each in its own transaction.
    `progress(mailbox, done, total)` is told before the first and after each message.

    Messages are fetched a group at a time (one round trip for many); the server hears
    of a group's messages once all of them are committed, so a crash in between leaves
    them new there, and reading them again finds them stored (SHA-256)."""
    folder = parse_url(box.url).folder
    validity = int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
    last = _last_uid(database, box.name, validity)
    _retell(database, client, box, validity, last)
    # `n:*` always matches the highest UID, even below n: filtered here.
    uids = [int(u) for u in client.uids(f"UID {last + 1}:*") if int(u) > last]
    defaults = box.defaults()
    if progress is not None and uids:
        progress(box.name, 0, len(uids))
    done = 0
    # Each calendar, the event types and the other reference rows (the reason code, the
    # default priority, routing rules and their departments, the notification policy) are
    # read once a pass, not once a message.
    with calendars_per_batch(), event_types_per_batch(), reference_per_batch():
        for chunk in _chunks(uids, _sizes(client, uids)):
            bodies = _bodies(client, chunk)
            filed: list[int] = []
            last_row: int | None = None
            try:
                for uid in chunk:
                    raw = bodies.get(uid)
                    if raw is None:
                        continue  # expunged meanwhile
                    try:
                        outcome = _file(database, actor, raw, defaults, box, validity, uid)
                    except DuplicateRow:
                        continue  # another fetcher filed this UID first
                    filed.append(uid)
                    last_row = outcome.message if outcome.message is not None else last_row
                    result.count(outcome.outcome)
                    done += 1
                    if progress is not None:
                        progress(box.name, done, len(uids))
            finally:
                # Committed and on disk: only now the server may forget they are new (if
                # the durable commit fails, the server is not told now; the next pass
                # tells it, `_retell`).
                if last_row is not None:
                    _durable(database, last_row)
                _done(client, box, filed)


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
    source = f"{box.name}/{parse_url(box.url).folder}:{validity}:{uid}"

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
        return once()
    except DuplicateRow:
        # Another fetcher stored the same message between this one's look-up and its
        # insert: read again, it is "read before" (a second refusal: the UID is theirs).
        return once()


def fetch(
    database: Database,
    *,
    actor: Actor,
    mailbox: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> FetchResult:
    """One pass over one mailbox or all active ones (cron-able)."""
    with database.session(write=False) as session:
        boxes = list_mailboxes(session, mailbox)
    result = FetchResult()
    for box in boxes:
        with connect(box) as client:
            fetch_new(database, client, actor=actor, box=box, result=result, progress=progress)
    return result


def watch(
    database: Database,
    *,
    actor: Actor,
    mailbox: str,
    on_result: Callable[[FetchResult], None],
    idle_seconds: float = 240.0,
    rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Fetch, then wait in IMAP IDLE for news and fetch again; a lost connection is
    re-opened after a back-off (1 s doubling to 5 min). `rounds` bounds the waits (tests)."""
    with database.session(write=False) as session:
        (box,) = list_mailboxes(session, mailbox)
    delay = 1.0
    waited = 0
    while rounds is None or waited < rounds:
        try:
            with connect(box) as client:
                delay = 1.0
                while rounds is None or waited < rounds:
                    result = FetchResult()
                    fetch_new(database, client, actor=actor, box=box, result=result)
                    on_result(result)
                    client.idle.wait(timeout=idle_seconds)
                    waited += 1
        except (TimeoutError, UsageError, MailServerUnavailable, OSError, imaplib.IMAP4.abort):
            waited += 1
            sleep(delay)
            delay = min(delay * 2, 300.0)
