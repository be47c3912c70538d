"""What every screen of the console shares: the open database, service calls in thread
workers, errors shown to the agent, the change feed, and time in the agent's zone.

Screens never run SQL and never hold a session: they hand one service function and its
arguments to `call_service` (`ConsoleScreen.call`), which runs it in a thread worker inside
one `db.session()` transaction and delivers the plain result (or the domain error) back on
the screen's own message loop.

Nothing here imports SQLAlchemy: the console paints before the database layer is loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from textual.worker import get_current_worker

from cc_tui.errors import CcError, Conflict, NotFound, RuleViolation, Unavailable, UsageError

if TYPE_CHECKING:
    from sqlmodel import Session
    from textual.app import App
    from textual.widget import Widget
    from textual.worker import Worker

    from cc_tui.config import Settings
    from cc_tui.console.app import CcTuiApp
    from cc_tui.db.engine import Database
    from cc_tui.services.context import Actor

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Connection:
    """The open database and the agent at the console, once the start-up check passed."""

    db: Database
    actor: Actor
    settings: Settings


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


def show_error(node: Widget | App[Any], error: BaseException) -> None:
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


def connected(node: Widget | App[Any]) -> Connection | None:
    """The open database and the agent; None (and the agent is told) before it is open."""
    connection = cast("CcTuiApp", node.app).connection
    if connection is None:
        node.notify("The database is not open yet.", severity="warning", timeout=4)
    return connection


def run_service(
    node: Widget | App[Any],
    work: Callable[[Session, Actor], T],
    *,
    on_result: Callable[[T], Any],
    on_error: Callable[[BaseException], Any] | None = None,
    write: bool = False,
    group: str = "service",
    exclusive: bool = True,
) -> Worker[None] | None:
    """Run `work(session, actor)` in a thread worker, in one transaction (the engine under
    `call_service`, which screens, dialogs and widgets use).

    `on_result(value)` or `on_error(error)` is then called on `node`'s message loop (not in
    the thread), unless the worker was cancelled meanwhile (an `exclusive` newer call in the
    same group replaces an older one, so a slow stale answer never overwrites a fresh one).
    Returns None (and says why) when the database is not open yet.
    """
    # Taken here, on the app's thread: `node.app` means nothing inside the worker thread.
    app = cast("CcTuiApp", node.app)  # Textual types it as a plain App
    connection = connected(node)
    if connection is None:
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

    def health(answered: bool) -> None:
        # Every screen's status follows the database: down on an outage, up on an answer.
        if answered == (app.offline_since is None):
            return
        with contextlib.suppress(RuntimeError):
            app.call_from_thread(app.database_answered if answered else app.database_unreachable)

    def body() -> None:
        try:
            with connection.db.session(write=write) as session:
                result = work(session, connection.actor)
        except Exception as error:
            if isinstance(error, Unavailable):
                health(answered=False)
            deliver(handle_error, error)
            return
        health(answered=True)
        deliver(on_result, result)

    return node.run_worker(
        body,
        name=getattr(work, "__name__", "service call"),
        group=group,
        exclusive=exclusive,
        thread=True,
        exit_on_error=False,
    )


def call_service(
    node: Widget | App[Any],
    service: Callable[Concatenate[Session, P], T],
    on_result: Callable[[T], Any],
    on_error: Callable[[BaseException], Any] | None = None,
    write: bool = False,
    group: str = "service",
    exclusive: bool = True,
    *args: P.args,
    **kwargs: P.kwargs,
) -> Worker[None] | None:
    """Run one user action, `service(session, **kwargs)`, as `run_service` does.

    Call it with keywords only: `call_service(node, open_contact, on_result=..., write=True,
    actor=..., channel=...)`; the type checker matches the service's own arguments (a
    service takes the agent as `actor=`). The options come before `*args` because a
    ParamSpec allows nothing between `*args` and `**kwargs`. Import the service inside the
    method that calls it: the first paint does not load the database layer.
    """

    def work(session: Session, _actor: Actor) -> T:
        return service(session, *args, **kwargs)

    work.__name__ = getattr(service, "__name__", "service call")
    return run_service(
        node,
        work,
        on_result=on_result,
        on_error=on_error,
        write=write,
        group=group,
        exclusive=exclusive,
    )
