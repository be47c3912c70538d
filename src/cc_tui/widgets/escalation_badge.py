"""The escalation badge (on time / follow-up / warning / late, with the time left or
overdue), and the console's escalation watch: the sweep every minute and the alerts it
brings (a toast and a bell when one of mine, or my department's, turns warning or late).

The badge shows the clock that matters now: the response while nobody has answered the
customer, then the resolution. Pending incidents show "paused", solved and closed ones
show their state without a clock. Colours come from the theme's variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

# `clock` names a badge's clock in this module.
from cc_tui.clock import now as current_time
from cc_tui.statuses import STOPPED_STATUSES

if TYPE_CHECKING:
    from cc_tui.services.sla.deadlines import DeadlineView

STATES = ("on_time", "follow_up", "warning", "late")
LABEL = {"on_time": "on time", "follow_up": "follow-up", "warning": "warning", "late": "late"}
# Theme variables, so every theme (and a light one) keeps the meaning.
STYLE = {
    "on_time": "$success",
    "follow_up": "$accent",
    "warning": "bold $warning",
    "late": "bold $error",
}
# A deadline missed before the escalation ladder starts.
OVERDUE_STYLE = "$warning"


@dataclass(frozen=True)
class BadgeClock:
    """What a badge shows: the state and the deadline that matters now."""

    state: str
    due: datetime | None = None
    # "response" or "resolution": which clock `due` belongs to.
    clock: str | None = None
    paused: bool = False
    stopped: bool = False
    # The deadline that made the state (warning_at for "warning", late_at for "late"),
    # computed or set by hand: once it has passed, the badge counts from it.
    reached_at: datetime | None = None


def badge_clock(
    escalation: str,
    *,
    status: str | None = None,
    response_due: datetime | None = None,
    resolve_due: datetime | None = None,
    first_response_at: datetime | None = None,
    paused_since: datetime | None = None,
    warning_at: datetime | None = None,
    late_at: datetime | None = None,
) -> BadgeClock:
    """The clock of an incident, from the fields every incident row can carry."""
    state = escalation if escalation in STATES else "on_time"
    if status in STOPPED_STATUSES:
        return BadgeClock(state, stopped=True)
    if paused_since is not None or status == "pending":
        return BadgeClock(state, paused=True)
    reached = {"warning": warning_at, "late": late_at}.get(state)
    if first_response_at is None and response_due is not None:
        return BadgeClock(state, response_due, "response", reached_at=reached)
    if resolve_due is not None:
        return BadgeClock(state, resolve_due, "resolution", reached_at=reached)
    return BadgeClock(state, reached_at=reached)


def clock_of(item: Any) -> BadgeClock:
    """The clock of any incident row that carries `escalation` (and, if it has them,
    `status`, `response_due`, `resolve_due`, `first_response_at`, `paused_since`,
    `warning_at`, `late_at`): `IncidentRow`, `IncidentDetail`, a queue row."""
    return badge_clock(
        item.escalation,
        status=getattr(item, "status", None),
        response_due=getattr(item, "response_due", None),
        resolve_due=getattr(item, "resolve_due", None),
        first_response_at=getattr(item, "first_response_at", None),
        paused_since=getattr(item, "paused_since", None),
        warning_at=getattr(item, "warning_at", None),
        late_at=getattr(item, "late_at", None),
    )


def span_text(delta: timedelta) -> str:
    """A duration as an agent reads it at a glance: 35m, 2h10m, 3d4h."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def short_span(delta: timedelta) -> str:
    """`span_text` for a table column, without minutes from 10 hours on: 35m, 2h10m, 16h."""
    if timedelta(hours=10) <= delta < timedelta(days=1):
        return f"{int(delta.total_seconds() // 3600)}h"
    return span_text(delta)


def past_escalation(clock: BadgeClock, now: datetime) -> bool:
    """Warning or late because that deadline passed, while the clock shown still has time
    (a late deadline set by hand before the resolution is due): the badge then tells how
    long ago the deadline passed, never "late 2d left"."""
    return (
        clock.reached_at is not None
        and clock.reached_at <= now
        and not (clock.paused or clock.stopped)
        and (clock.due is None or clock.due > now)
    )


def time_left(clock: BadgeClock, now: datetime, *, compact: bool = False) -> str | None:
    """'35m left', '2h overdue', 'paused', or None when no clock runs."""
    if clock.paused:
        return "paused"
    if past_escalation(clock, now):
        assert clock.reached_at is not None
        span = short_span if compact else span_text
        return f"{span(now - clock.reached_at)} overdue"
    if clock.stopped or clock.due is None:
        return None
    span = short_span if compact else span_text
    delta = clock.due - now
    if delta >= timedelta(0):
        return f"{span(delta)} left"
    return f"{span(-delta)} overdue"


def overdue_unescalated(clock: BadgeClock, now: datetime) -> bool:
    """The clock shown has run out but the escalation ladder has not started (a priority
    whose follow-up comes after its response time): "on time" would read as a lie."""
    return (
        clock.state == "on_time"
        and not (clock.paused or clock.stopped)
        and clock.due is not None
        and clock.due < now
    )


def badge_style(clock: BadgeClock, now: datetime) -> str:
    return OVERDUE_STYLE if overdue_unescalated(clock, now) else STYLE[clock.state]


def badge_words(clock: BadgeClock, now: datetime, *, compact: bool = False) -> str:
    """'late · response 2h overdue' (compact: 'late 2h overdue'); an overdue clock before
    any escalation: 'response 15h overdue · not escalated yet' (compact: without the tail)."""
    left = time_left(clock, now, compact=compact)
    if overdue_unescalated(clock, now):
        words = f"{clock.clock or 'due'} {left}"
        return words if compact else f"{words} · not escalated yet"
    label = LABEL[clock.state]
    if left is None:
        return label
    if compact:
        return f"{label} {left}"
    if past_escalation(clock, now):
        return f"{label} · {label} deadline {left}"
    if clock.paused or clock.clock is None:
        return f"{label} · {left}"
    return f"{label} · {clock.clock} {left}"


def badge_content(clock: BadgeClock, now: datetime | None = None, *, compact: bool = False):
    """The badge for a `Static` or a summary line (theme variables resolve on render)."""
    now = now or current_time()
    words = badge_words(clock, now, compact=compact)
    return Content.styled(f" {words} ", badge_style(clock, now))


def badge_text(
    clock: BadgeClock,
    variables: Mapping[str, str],
    now: datetime | None = None,
    *,
    compact: bool = True,
) -> Text:
    """The badge as a `DataTable` cell (Rich text: theme variables resolved here; pass
    `app.theme_variables`)."""
    now = now or current_time()
    words = badge_words(clock, now, compact=compact)
    style = badge_style(clock, now)
    bold = style.startswith("bold ")
    colour = variables.get(style.removeprefix("bold ").removeprefix("$"), "")
    return Text(
        words, style=f"{'bold ' if bold else ''}{colour}".strip(), no_wrap=True, overflow="ellipsis"
    )


DEADLINE_NAMES = {
    "response_due": "Response due",
    "follow_up_at": "Follow-up",
    "warning_at": "Warning",
    "late_at": "Late",
    "resolve_due": "Resolve due",
}


def working_span(minutes: int) -> str:
    """Working time in hours, never days: a working day is not 24 hours."""
    hours, minutes = divmod(max(0, minutes), 60)
    if not hours:
        return f"{minutes}m"
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


def deadline_explanation(
    view: DeadlineView, zone: tzinfo | None = None, now: datetime | None = None
) -> Content:
    """How each deadline was computed: offset, calendar, holidays skipped, pauses.

    For the incident screen, from `services.deadlines.deadline_view`.
    """
    plan = view.plan
    now = now or current_time()

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "–"

    if plan.basis and plan.basis != "all":
        head = (
            f"Calendar {plan.calendar} ({plan.calendar_tz}, {plan.calendar_source}); "
            f"{plan.basis} hours"
        )
    else:
        head = "All hours count (24/7)"
    if plan.start is not None:
        head += f"; counted from the registration {when(plan.start)}"
    lines = [Content.assemble((head, "dim"))]
    for name, label in DEADLINE_NAMES.items():
        stored = view.deadlines.get(name)
        minutes = plan.offsets.get(name)
        if stored is None and minutes is None:
            continue
        parts: list[str] = [f"{label}: {when(stored)}"]
        if view.manual:
            parts.append("set by hand")
        elif minutes is not None:
            source = plan.offset_sources.get(name, "")
            parts.append(f"{working_span(minutes)} working time ({source})")
            skipped = plan.holidays_skipped.get(name) or []
            if skipped:
                parts.append("holidays skipped " + ", ".join(d.isoformat() for d in skipped))
        lines.append(Content(" · ".join(parts)))
    if plan.pauses:
        spans = []
        for pause in plan.pauses:
            end = pause.ended_at.astimezone(zone).strftime("%H:%M") if pause.ended_at else "now"
            spans.append(f"{when(pause.started_at)}–{end}")
        # The stored total counts ended pauses; an open one counts until now.
        running = sum(
            int((now - pause.started_at).total_seconds() // 60)
            for pause in plan.pauses
            if pause.ended_at is None and pause.started_at < now
        )
        total = span_text(timedelta(minutes=view.paused_minutes + running))
        lines.append(Content(f"Paused (pending) {total}: " + "; ".join(spans)))
    for note in view.notes:
        lines.append(Content.assemble((note, "italic")))
    return Content("\n").join(lines)


class EscalationBadge(Static):
    """A one-line badge; its time left counts down by itself."""

    DEFAULT_CSS = """
    EscalationBadge {
        width: auto;
        height: 1;
        padding: 0;
    }
    EscalationBadge.-on_time { background: $success 15%; }
    EscalationBadge.-follow_up { background: $accent 15%; }
    EscalationBadge.-warning { background: $warning 15%; }
    EscalationBadge.-late { background: $error 15%; }
    EscalationBadge.-paused { text-style: italic; }
    """

    def __init__(
        self, clock: BadgeClock | None = None, *, compact: bool = False, **kwargs: Any
    ) -> None:
        super().__init__("", markup=False, **kwargs)
        self.clock = clock
        self.compact = compact

    def on_mount(self) -> None:
        self._render_clock()
        self.set_interval(30, self._render_clock)

    def show(self, clock: BadgeClock | None) -> None:
        self.clock = clock
        self._render_clock()

    def _render_clock(self) -> None:
        for state in STATES:
            self.set_class(self.clock is not None and self.clock.state == state, f"-{state}")
        self.set_class(self.clock is not None and self.clock.paused, "-paused")
        if self.clock is None:
            self.update(Content(""))
            return
        self.update(badge_content(self.clock, compact=self.compact))


# --- the console's escalation watch ------------------------------------------------------
