"""What every screen of the console shares: the open database, service calls in thread
workers, errors shown to the agent, the change feed, and time in the agent's zone.

Screens never run SQL and never hold a session: they hand a function `work(session, actor)`
to `run_service`, which runs it in a thread worker inside one `db.session()` transaction and
delivers the plain result (or the domain error) back on the screen's own message loop.

Nothing here imports SQLAlchemy: the console paints before the database layer is loaded.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from textual.message import Message
from textual.worker import get_current_worker

from cc_tui.errors import CcError, Conflict, NotFound, RuleViolation, Unavailable, UsageError

if TYPE_CHECKING:
    from sqlmodel import Session
    from textual.dom import DOMNode
    from textual.worker import Worker

    from cc_tui.config import Settings
    from cc_tui.db.changes import ChangeInfo
    from cc_tui.db.engine import Database
    from cc_tui.services.context import Actor

T = TypeVar("T")


@dataclass(frozen=True)
class Connection:
    """The open database and the agent at the console, once the start-up check passed."""

    db: Database
    actor: Actor
    settings: Settings


@dataclass(frozen=True)
class ChangeBatch:
    """Changes committed by anyone since the last batch, oldest first."""

    changes: Sequence[ChangeInfo]

    @property
    def incident_ids(self) -> set[int]:
        return {c.incident_id for c in self.changes if c.incident_id is not None}

    def touches(self, *entities: str) -> bool:
        """True if any change is about one of these entities (e.g. "incident")."""
        return any(c.entity in entities for c in self.changes)


class ChangesArrived(Message):
    """Posted to the app by the change-feed worker; the app republishes it on
    `changes_signal` so every open screen can react."""

    def __init__(self, batch: ChangeBatch) -> None:
        super().__init__()
        self.batch = batch


class StartScreenShown(Message):
    """The start mode's screen has been painted (after the console's first frame)."""


class DatabaseReady(Message):
    """The database is open and the agent is known."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection


class DatabaseFailed(Message):
    """The database could not be opened, or the agent is not allowed in."""

    def __init__(self, error: CcError) -> None:
        super().__init__()
        self.error = error


_ERROR_TITLES: tuple[tuple[type[CcError], str], ...] = (
    (Unavailable, "Database unavailable"),
    (Conflict, "Changed by someone else"),
    (NotFound, "Not found"),
    (UsageError, "Not understood"),
    (RuleViolation, "Refused"),
)


def error_title(error: BaseException) -> str:
    for kind, title in _ERROR_TITLES:
        if isinstance(error, kind):
            return title
    return "Unexpected error"


def error_message(error: BaseException) -> str:
    """The text a person reads: the domain error's own message, never a traceback."""
    if isinstance(error, CcError):
        return error.message
    return f"{type(error).__name__}: {error}"


def show_error(node: DOMNode, error: BaseException) -> None:
    """The default way a failed service call reaches the agent: an error notification."""
    if not isinstance(error, CcError):
        # A bug, not a refusal: keep the details in the log for whoever fixes it.
        node.log.error("service call failed", error)
    node.notify(
        error_message(error),
        title=error_title(error),
        severity="error",
        timeout=8,
        markup=False,
    )


def run_service(
    node: DOMNode,
    work: Callable[[Session, Actor], T],
    *,
    on_result: Callable[[T], Any],
    on_error: Callable[[BaseException], Any] | None = None,
    write: bool = False,
    group: str = "service",
    exclusive: bool = True,
    description: str = "",
) -> Worker[None] | None:
    """Run `work(session, actor)` in a thread worker, in one transaction.

    `on_result(value)` or `on_error(error)` is then called on `node`'s message loop (not in
    the thread), unless the worker was cancelled meanwhile (an `exclusive` newer call in the
    same group replaces an older one, so a slow stale answer never overwrites a fresh one).
    Import services inside `work`: that keeps the database layer out of the first paint.
    Returns None (and says why) when the database is not open yet.
    """
    # Taken here, on the app's thread: `node.app` means nothing inside the worker thread.
    app = node.app
    connection = app.connection  # type: ignore[attr-defined]
    if connection is None:
        node.notify("The database is not open yet.", severity="warning", timeout=4)
        return None
    handle_error = on_error or (lambda error: show_error(node, error))

    def shown(callback: Callable[[Any], Any], value: Any) -> None:
        # The answer may arrive after the screen went away or the console began to close
        # (its widgets are being removed): nobody is left to show it to.
        if node is app or node.is_attached:
            node.call_next(callback, value)  # Textual's calling rules (arity, coroutines)

    def deliver(callback: Callable[[Any], Any], value: Any) -> None:
        if get_current_worker().is_cancelled:
            return
        with contextlib.suppress(RuntimeError):  # the app is closing: nobody to show it to
            app.call_from_thread(node.call_next, shown, callback, value)

    def body() -> None:
        try:
            with connection.db.session(write=write) as session:
                result = work(session, connection.actor)
        except Exception as error:
            deliver(handle_error, error)
            return
        deliver(on_result, result)

    return node.run_worker(
        body,
        name=description or getattr(work, "__name__", "service call"),
        group=group,
        description=description,
        exclusive=exclusive,
        thread=True,
        exit_on_error=False,
    )


def display_zone(settings: Settings | None) -> tzinfo | None:
    """The agent's display zone: the configured one, else the system's (None)."""
    return settings.display_zone if settings is not None else None


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """A UTC timestamp as the agent reads it: `2025-03-04 10:42` in their zone."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


TIME_EXAMPLE = "2026-12-05 14:00"
_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2}))?$")


def parse_local_time(text: str, zone: tzinfo | None = None) -> datetime | None:
    """What an agent typed as a time in their zone (`2026-12-05 14:00`), in UTC.

    Empty means no time (None). A date alone means its start (00:00). A wall time the
    clock change skips does not exist and is refused; one it repeats is the first.
    """
    text = text.strip()
    if not text:
        return None
    match = _LOCAL_TIME.match(text)
    if match is None:
        raise UsageError(f"not a time: {text!r} (write it as {TIME_EXAMPLE})")
    year, month, day, hour, minute = (int(part) if part else 0 for part in match.groups())
    try:
        wall = datetime(year, month, day, hour, minute)
    except ValueError as error:
        raise UsageError(f"not a time: {text!r} ({error})") from None
    # None is the system's zone: astimezone() on a naive time reads it as local.
    moment = wall.replace(tzinfo=zone) if zone is not None else wall.astimezone()
    utc = moment.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise UsageError(f"{text} does not exist in {zone_name(zone)}: the clocks change then")
    return utc


def zone_name(zone: tzinfo | None) -> str:
    """The zone's name as the agent knows it (the system's abbreviation when unset)."""
    if zone is not None:
        return str(getattr(zone, "key", None) or zone)
    return datetime.now().astimezone().tzname() or "local time"
