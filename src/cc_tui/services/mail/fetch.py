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
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import MailboxLoginError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from cc_tui.db.engine import Database
from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import MailMessage
from cc_tui.services.context import Actor
from cc_tui.services.mail.intake import receive
from cc_tui.services.mail.mailboxes import MailboxInfo, list_mailboxes, parse_url, password

TIMEOUT = 30.0


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


@contextmanager
def connect(box: MailboxInfo) -> Iterator[BaseMailBox]:
    """A logged-in connection with the mailbox's folder selected."""
    url = parse_url(box.url)
    client: BaseMailBox
    try:
        if url.secure:
            client = MailBox(url.host, url.port, timeout=TIMEOUT)
        else:
            client = MailBoxUnencrypted(url.host, url.port, timeout=TIMEOUT)
            if "STARTTLS" in client.client.capabilities:
                client.logout()
                client = MailBoxStartTls(url.host, url.port, timeout=TIMEOUT)
            elif not url.loopback:
                client.logout()
                raise RuleViolation(
                    f"{url.host} offers no STARTTLS: use imaps:// (plain IMAP only on loopback)"
                )
        client.login(url.user, password(box), initial_folder=url.folder)
    except MailboxLoginError as exc:
        raise RuleViolation(f"mailbox {box.name}: the server refused the login") from exc
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        raise UsageError(f"mailbox {box.name}: cannot reach {url.host}:{url.port}: {exc}") from exc
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
    `progress(mailbox, done, total)` is told before the first and after each message."""
    folder = parse_url(box.url).folder
    validity = int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
    last = _last_uid(database, box.name, validity)
    # `n:*` always matches the highest UID, even below n: filtered here.
    uids = [int(u) for u in client.uids(f"UID {last + 1}:*") if int(u) > last]
    defaults = box.defaults()
    if progress is not None and uids:
        progress(box.name, 0, len(uids))
    for done, uid in enumerate(uids, 1):
        status, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        item = data[0] if status == "OK" and data else None
        if not isinstance(item, tuple):
            continue  # expunged meanwhile
        raw = bytes(item[1])
        try:
            with database.session() as session:
                outcome = receive(
                    session,
                    actor=actor,
                    raw=raw,
                    defaults=defaults,
                    source=f"{box.name}/{folder}:{validity}:{uid}",
                    uidvalidity=validity,
                    uid=uid,
                )
        except IntegrityError:
            continue  # another fetcher filed this UID first
        result.count(outcome.outcome)
        # Committed: only now the server may forget it is new.
        if box.done_folder:
            client.move(str(uid), box.done_folder)
        else:
            client.flag(str(uid), MailMessageFlags.SEEN, True)
        if progress is not None:
            progress(box.name, done, len(uids))


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
        except (TimeoutError, UsageError, OSError, imaplib.IMAP4.abort):
            waited += 1
            sleep(delay)
            delay = min(delay * 2, 300.0)
