"""The change feed: services record what they changed; open consoles follow it.

`record_change` runs inside the service's transaction, so a change row exists exactly when
the change committed. On PostgreSQL a statement trigger on `change` (migration 0022) sends
`NOTIFY cc_tui` with an empty payload; PostgreSQL folds a transaction's identical
notifications into one and delivers it on commit, so listeners are woken once per
committed transaction, without a round trip of the writer's own. `ChangeListener` waits
for those notifications and then reads the new rows by id; on SQLite it polls the highest
change id, which is one indexed read.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui.db.engine import Database
from cc_tui.models.change import Change

if TYPE_CHECKING:
    import psycopg

CHANNEL = "cc_tui"


@dataclass(frozen=True)
class ChangeInfo:
    id: int
    at: datetime
    entity: str
    entity_id: int | None
    action: str
    incident_id: int | None
    department_id: int | None
    agent_id: int | None


@functools.cache
def os_login() -> str:
    """The OS account running this process, from the system (not $USER, which anyone sets)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        import getpass

        return getpass.getuser()


def acted_by(session: Session) -> str | None:
    """Who makes this session's changes: the OS login on SQLite. On PostgreSQL a trigger
    writes the connection's role (`session_user`), which no client can choose."""
    if session.get_bind().dialect.name == "postgresql":
        return None
    return os_login()


def record_change(
    session: Session,
    *,
    entity: str,
    action: str,
    entity_id: int | None = None,
    incident_id: int | None = None,
    department_id: int | None = None,
    agent_id: int | None = None,
) -> Change:
    change = Change(
        entity=entity,
        entity_id=entity_id,
        action=action,
        incident_id=incident_id,
        department_id=department_id,
        agent_id=agent_id,
        acted_by=acted_by(session),
    )
    # Written with the transaction's next flush (at the latest its commit), together with
    # the other rows of the change: a flush of its own cost a round trip and a unit of
    # work each time (a fifth of a mail fetch's CPU on PostgreSQL).
    session.add(change)
    return change


def latest_change_id(session: Session) -> int:
    latest: int = session.execute(select(func.coalesce(func.max(col(Change.id)), 0))).one()[0]
    return latest


def changes_since(session: Session, after_id: int, *, limit: int = 500) -> list[ChangeInfo]:
    rows = session.execute(
        select(Change).where(col(Change.id) > after_id).order_by(col(Change.id)).limit(limit)
    ).all()
    return [_info(row[0]) for row in rows]


def _info(change: Change) -> ChangeInfo:
    return ChangeInfo(
        id=change.id or 0,
        at=change.at,
        entity=change.entity,
        entity_id=change.entity_id,
        action=change.action,
        incident_id=change.incident_id,
        department_id=change.department_id,
        agent_id=change.agent_id,
    )


class ChangeListener:
    """Blocks until changes arrive (or a timeout), then returns them in order.

    Meant to run in a thread worker: one listener per open console. It remembers the last
    change id it handed out, so nothing is missed between two waits.
    """

    def __init__(self, db: Database, *, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._conn: psycopg.Connection[Any] | None = None
        with db.session(write=False) as session:
            self.last_id = latest_change_id(session)

    def _listen_connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            import psycopg

            url = self.db.url.set(drivername="postgresql")
            dsn = url.render_as_string(hide_password=False)
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self._conn

    def wait(self, timeout: float = 5.0) -> list[ChangeInfo]:
        """Changes committed since the last call; waits up to `timeout` for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            changes = self._fetch()
            if changes:
                return changes
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            if self.db.is_sqlite:
                time.sleep(min(self.poll_seconds, remaining))
            else:
                self._wait_notify(remaining)

    def _wait_notify(self, timeout: float) -> None:
        try:
            conn = self._listen_connection()
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception:
            # Lost the listening connection: fall back to polling until it can reconnect.
            self.close()
            time.sleep(min(self.poll_seconds, timeout))

    def _fetch(self) -> list[ChangeInfo]:
        with self.db.session(write=False) as session:
            changes = changes_since(session, self.last_id)
        if changes:
            self.last_id = changes[-1].id
        return changes

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def incidents_in(changes: Iterable[ChangeInfo]) -> set[int]:
    return {c.incident_id for c in changes if c.incident_id is not None}


def record_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many changes of one operation (a work order closing its incidents): one INSERT (and
    so, on PostgreSQL, one notification by the trigger) for all of them."""
    if not rows:
        return
    from sqlalchemy import insert

    from cc_tui import clock

    now = rows[0].get("at") or clock.now()
    who = acted_by(session)
    values = [
        {
            "at": now,
            "acted_by": who,
            "entity_id": None,
            "incident_id": None,
            "department_id": None,
            "agent_id": None,
            **row,
        }
        for row in rows
    ]
    session.execute(insert(Change.__table__), values)  # type: ignore[attr-defined]
