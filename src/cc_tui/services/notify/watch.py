"""`notify watch`: a long-running sender that wakes when there is something to send.

On PostgreSQL queuing a message runs `pg_notify('cc_tui_outbox')` in the transaction that
queues it (`outbox.wake`), so the watcher, LISTENing on its own connection, wakes the
moment that transaction commits. On SQLite it looks every `poll` seconds. Either way it
also looks when a retry falls due, and every `poll` seconds at the latest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import col

from cc_tui import clock
from cc_tui.errors import CcError
from cc_tui.models import Notification
from cc_tui.models.enums import NotificationChannel, NotificationStatus
from cc_tui.services.notify.outbox import WAKE_CHANNEL

# Seconds a wait for a notification blocks at most before it looks at signals again.
SLICE = 0.5

if TYPE_CHECKING:
    import psycopg

    from cc_tui.db.engine import Database


class OutboxWaiter:
    """Blocks until the outbox may have something due, or `timeout` passes."""

    def __init__(self, db: Database, *, poll: float) -> None:
        self.db = db
        self.poll = poll
        self._conn: psycopg.Connection[Any] | None = None
        if not db.is_sqlite:
            # Listen before the first pass, so nothing queued during it is missed.
            self._listen()

    def _listen(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            import psycopg

            url = self.db.url.set(drivername="postgresql")
            dsn = url.render_as_string(hide_password=False)
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {WAKE_CHANNEL}")
        return self._conn

    def next_due(self) -> datetime | None:
        """When the earliest queued e-mail or SMS falls due (None: nothing is queued)."""
        with self.db.session(write=False) as session:
            due: datetime | None = session.scalar(
                select(func.min(col(Notification.next_attempt_at))).where(
                    col(Notification.status) == NotificationStatus.QUEUED,
                    col(Notification.channel).in_(
                        [NotificationChannel.EMAIL, NotificationChannel.SMS]
                    ),
                )
            )
        return due

    def wait(self) -> None:
        try:
            due = self.next_due()
        except CcError:
            due = None  # the database is away: wait the whole pause, then try again
        timeout = self.poll
        if due is not None:
            timeout = max(0.0, min(timeout, (due - clock.now()).total_seconds()))
        if timeout <= 0:
            return
        if self.db.is_sqlite:
            time.sleep(timeout)
            return
        try:
            conn = self._listen()
            deadline = time.monotonic() + timeout
            # In short slices: a signal's handler runs between two of them (the driver's
            # wait does not return for one).
            while (left := deadline - time.monotonic()) > 0:
                if any(True for _ in conn.notifies(timeout=min(SLICE, left), stop_after=1)):
                    return
        except Exception:
            # The listening connection is lost: poll this time, reconnect next time.
            self.close()
            time.sleep(min(self.poll, timeout))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def run(
    db: Database,
    one_pass: Callable[[], Any],
    *,
    poll: float,
    stopping: Callable[[], bool],
    waiting: Callable[[bool], None] = lambda _: None,
) -> None:
    """Pass, wait, pass, ... until `stopping()`. `waiting(True/False)` brackets the waits,
    so a signal handler may interrupt a wait but lets a pass finish its marks."""
    waiter = OutboxWaiter(db, poll=poll)
    try:
        while not stopping():
            one_pass()
            if stopping():
                return
            waiting(True)
            try:
                waiter.wait()
            finally:
                waiting(False)
    finally:
        waiter.close()
