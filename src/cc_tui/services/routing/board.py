"""The Queues board as the console reads it: every load count and one queue's rows, in
pages (`has_more` says whether another page follows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cc_tui.errors import NotFound
from cc_tui.services.context import Actor
from cc_tui.services.routing.queues import (
    MAX_PAGE,
    Load,
    QueueKey,
    QueueRow,
    agent_queue,
    department_queue,
    load,
)


@dataclass(frozen=True)
class QueueView:
    """Which incidents the queue table lists: a department's queue or an agent's open
    incidents."""

    kind: str  # "department" or "agent"
    key: str  # department code or agent login


@dataclass(frozen=True)
class QueuePage:
    """Rows of a view, in queue order, and whether more follow."""

    view: QueueView
    rows: list[QueueRow]
    has_more: bool


@dataclass(frozen=True)
class Board:
    """One load of the board: the counts, the view shown and its first rows."""

    load: Load
    view: QueueView
    rows: list[QueueRow]
    has_more: bool


def default_view(actor: Actor, board: Load) -> QueueView:
    """Agents: their own work. Supervisors: their department's queue, else the longest."""
    if actor.role == "agent":
        return QueueView("agent", actor.login)
    departments = [d for d in board.departments if d.code]
    own = next((d for d in departments if d.id == actor.department_id), None)
    if own is None and departments:
        own = max(departments, key=lambda d: d.unassigned)
    if own and own.code:
        return QueueView("department", own.code)
    return QueueView("agent", actor.login)


def queue_page(
    session: Session, *, view: QueueView, after: QueueKey | None, count: int
) -> QueuePage:
    """Up to `count` rows of a view after `after`."""
    rows: list[QueueRow] = []
    while len(rows) <= count:
        limit = min(MAX_PAGE, count + 1 - len(rows))
        if view.kind == "department":
            batch = department_queue(session, department=view.key, after=after, limit=limit)
        else:
            batch = agent_queue(session, agent=view.key, after=after, limit=limit)
        rows.extend(batch)
        if len(batch) < limit:
            break
        after = batch[-1].key
    return QueuePage(view, rows[:count], len(rows) > count)


def board(session: Session, *, actor: Actor, view: QueueView | None, count: int) -> Board:
    """The whole board: every load count and the first `count` rows of the view (the
    agent's default view when none is given)."""
    counts = load(session)
    view = view or default_view(actor, counts)
    try:
        page = queue_page(session, view=view, after=None, count=count)
    except NotFound:
        # The department or agent went away meanwhile: back to the default.
        view = default_view(actor, counts)
        page = queue_page(session, view=view, after=None, count=count)
    return Board(counts, view, page.rows, page.has_more)
