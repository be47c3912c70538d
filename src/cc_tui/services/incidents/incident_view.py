"""The incident screen's read model: the summary, the first pages of the timeline and,
on request, how the deadlines were computed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cc_tui.services.incidents.timeline import (
    IncidentSummary,
    TimelineEntry,
    incident_summary,
    timeline,
)
from cc_tui.services.sla.deadlines import DeadlineView, deadline_view

# The timeline is read in pages of at most this many events.
TIMELINE_PAGE = 500


@dataclass(frozen=True)
class IncidentView:
    """One load of the incident screen."""

    summary: IncidentSummary
    events: list[TimelineEntry]
    # Pass as `after` to `timeline` for the next page; None when no more follow.
    next_after: int | None
    deadlines: DeadlineView | None = None

    @property
    def has_more(self) -> bool:
        return self.next_after is not None


def incident_view(
    session: Session,
    *,
    ref: str | int,
    kind: str,
    newest_first: bool,
    count: int,
    deadlines: bool = False,
) -> IncidentView:
    """The summary and the first `count` events; with `deadlines` also how they were
    computed (calendar arithmetic: only while the screen's panel shows it)."""
    summary = incident_summary(session, ref=ref)
    explained = deadline_view(session, ref=ref) if deadlines else None
    events: list[TimelineEntry] = []
    after = None
    while True:
        page = timeline(
            session,
            ref=ref,
            kind=kind,
            newest_first=newest_first,
            limit=min(TIMELINE_PAGE, count - len(events)),
            after=after,
        )
        events.extend(page.events)
        after = page.next_after
        if after is None or len(events) >= count:
            break
    return IncidentView(summary, events, after, explained)
