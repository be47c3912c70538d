"""The incident list as the console reads it: pages of rows, newest first, each saying
whether more follow (`has_more`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cc_tui.services.incidents.base import get_incident
from cc_tui.services.incidents.list_filter import IncidentFilter, parse_filter
from cc_tui.services.incidents.records import MAX_PAGE, IncidentRow, list_incidents


@dataclass(frozen=True)
class IncidentPage:
    """One page of the list."""

    rows: list[IncidentRow]
    has_more: bool
    open_only: bool
    # None: the list starts at the newest incident; else it starts below this id.
    before_id: int | None
    # Only for an empty list: whether any incident exists at all (for the honest hint).
    any_incident: bool = True
    # The incident to put the cursor on (after a jump).
    target: int | None = None


def _rows(
    session: Session,
    *,
    open_only: bool,
    before_id: int | None,
    count: int,
    where: IncidentFilter | None = None,
) -> tuple[list[IncidentRow], bool]:
    """Up to `count` rows, newest first, below `before_id`; and whether more follow."""
    rows: list[IncidentRow] = []
    cursor = before_id
    while len(rows) <= count:
        limit = min(MAX_PAGE, count + 1 - len(rows))
        batch = list_incidents(
            session, open_only=open_only, before_id=cursor, limit=limit, where=where
        )
        rows.extend(batch)
        if len(batch) < limit:
            break
        cursor = batch[-1].id
    return rows[:count], len(rows) > count


def incident_page(
    session: Session,
    *,
    open_only: bool,
    before_id: int | None,
    count: int,
    filter_text: str = "",
) -> IncidentPage:
    """The list from its start (`before_id`): the first `count` rows (those that pass the
    `/` filter `filter_text`; a bad filter is a UsageError naming what is allowed)."""
    where = parse_filter(filter_text)
    rows, more = _rows(session, open_only=open_only, before_id=before_id, count=count, where=where)
    any_incident = bool(rows) or bool(list_incidents(session, limit=1))
    return IncidentPage(rows, more, open_only, before_id, any_incident=any_incident)


def next_incident_page(
    session: Session,
    *,
    open_only: bool,
    before_id: int | None,
    after_id: int,
    count: int,
    filter_text: str = "",
) -> IncidentPage:
    """The `count` rows that follow `after_id` in the list that starts at `before_id`."""
    rows, more = _rows(
        session,
        open_only=open_only,
        before_id=after_id,
        count=count,
        where=parse_filter(filter_text),
    )
    return IncidentPage(rows, more, open_only, before_id)


def incident_page_at(
    session: Session, *, incident_id: int, open_only: bool, count: int
) -> IncidentPage:
    """The list starting at one incident; the open filter is dropped if it hides it."""
    get_incident(session, incident_id)  # NotFound if there is no such incident
    before = incident_id + 1
    rows, more = _rows(session, open_only=open_only, before_id=before, count=count)
    if open_only and (not rows or rows[0].id != incident_id):
        open_only = False
        rows, more = _rows(session, open_only=False, before_id=before, count=count)
    return IncidentPage(rows, more, open_only, before, target=incident_id)
