"""The incident statuses and the named sets of them, defined once.

A leaf (no SQLModel, no database) so the console's widgets can use the same sets as the
services, the partial indexes and the SQL of the escalation sweep. `models.enums` re-exports
them; the transitions between them belong to `services/incidents/lifecycle.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"  # contact started, nothing saved yet
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    IN_PROCESS = "in_process"
    PENDING = "pending"
    SOLVED = "solved"
    TRANSFERRED = "transferred"
    CLOSED = "closed"
    ABANDONED = "abandoned"  # contact ended before anything was saved


S = Status


def status_name(value: str | None) -> str:
    """A status (of an incident, a work order or an article) as every screen shows it to
    people: `In process` for the stored `in_process`, `–` for none. Lists, the board, the
    incident screen, the timeline and messages all use this one rule; the command line and
    its JSON keep the stored values that scripts read."""
    if not value:
        return "–"
    words = value.replace("_", " ")
    return words[:1].upper() + words[1:]


# Open: someone still has to act. Tuples, not sets: queue counts list them in this order.
OPEN_STATUSES: tuple[Status, ...] = (
    S.REGISTERED,
    S.ASSIGNED,
    S.IN_PROCESS,
    S.PENDING,
    S.TRANSFERRED,
)
# Running: open with the clocks counting (pending pauses them).
RUNNING_STATUSES: tuple[Status, ...] = tuple(s for s in OPEN_STATUSES if s != S.PENDING)
# Stopped: no clock at all, the escalation badge shows no deadline.
STOPPED_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s not in OPEN_STATUSES)
# Resolved: a solution was given; the resolution clock is met.
RESOLVED_STATUSES: tuple[Status, ...] = (S.SOLVED, S.CLOSED)
# Contacts that never became an incident: no time is booked on them.
CONTACT_ONLY_STATUSES: tuple[Status, ...] = (S.DRAFT, S.ABANDONED)
# Not worked any more (or not yet): fields stay as they are, no timer runs.
FROZEN_STATUSES: tuple[Status, ...] = (*CONTACT_ONLY_STATUSES, S.CLOSED)


def status_sql(statuses: Iterable[Status], column: str = "status") -> str:
    """`status IN ('a','b')` as literal SQL text, for partial-index predicates and raw
    queries: SQLite uses a partial index only when the query repeats its literals."""
    quoted = ",".join(f"'{s.value}'" for s in statuses)
    return f"{column} IN ({quoted})"
