"""One incident: its summary on top, its timeline below, a key for everything done to it.

Opened on top of the Incident mode's list by `show_incident(app, number)` (or by posting
`OpenIncident`), from the list, from intake after saving, from a queue. Every action is one
service call in a thread worker; a refusal shows the service's own message. The screen
reloads by itself when the change feed reports a change to this incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from cc_tui import clock
from cc_tui.console.calls import Connection, error_message, error_title
from cc_tui.console.local_time import display_zone, local_time
from cc_tui.console.messages import ChangeBatch
from cc_tui.dialogs.deadlines import DeadlinesDialog
from cc_tui.dialogs.form import MessageLine
from cc_tui.dialogs.incident import CloseDialog, EventDialog, SolveDialog
from cc_tui.dialogs.workorder import TransferDialog
from cc_tui.errors import CcError, Conflict, RuleViolation
from cc_tui.screens.base import ConsoleScreen
from cc_tui.statuses import status_name
from cc_tui.widgets.escalation_badge import (
    badge_clock,
    badge_style,
    badge_words,
    deadline_explanation,
)
from cc_tui.widgets.timeline import TimelineList, minutes_text

if TYPE_CHECKING:
    from cc_tui.services.directory.event_types import EventTypeInfo
    from cc_tui.services.incidents.incident_view import IncidentView
    from cc_tui.services.incidents.timeline import IncidentSummary, TimelineEntry, TimelinePage
    from cc_tui.services.incidents.timetrack import TimeEntryInfo, TimerStarted
    from cc_tui.services.sla.deadlines import DeadlineView
    from cc_tui.services.workorders.orders import IncidentOrder, TransferOffer

PAGE_SIZE = 50
NBSP = "\u00a0"
# The timer indicator and the escalation badge count on the screen's clock between reloads.
TICK_SECONDS = 15
# Below this many rows the summary folds to three lines, so the timeline keeps its room.
SHORT_HEIGHT = 32
# Under this width the next steps use their short words (the line fits 80 columns).
NARROW_WIDTH = 100
KIND_LABELS = (
    ("all", "1", "All"),
    ("contact", "2", "Contacts"),
    ("system", "3", "System"),
)


@dataclass
class OpenIncident(Message):
    """Ask the console to show an incident (handled by the app: `show_incident`)."""

    incident_id: int


def show_incident(app: App, incident_id: int) -> None:
    """Show an incident on top of the Incident mode's list, from any mode; escape there
    goes back to the mode it was opened from (the board, intake, a work order)."""
    came_from = None if app.current_mode == "incident" else app.current_mode
    if came_from is not None:
        app.switch_mode("incident")
    top = app.screen
    if isinstance(top, IncidentDetailScreen):
        back_to = came_from or top.back_to
        if top.incident_id == incident_id:
            top.back_to = back_to
            top.reload()
        else:
            app.switch_screen(IncidentDetailScreen(incident_id, back_to=back_to))
        return
    app.push_screen(IncidentDetailScreen(incident_id, back_to=came_from))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pair(label: str, value: str | None, style: str = "") -> Content:
    """`Label value`, never broken across lines (a narrow terminal wraps between pairs)."""
    return Content.assemble(
        (f"{label} ".replace(" ", NBSP), "dim"),
        ((value or "–").replace(" ", NBSP), style),
        "   ",
    )


def fold_pairs(line: Content, width: int | None) -> Content:
    """`line` broken only between its pairs (the three spaces after each) to fit `width`
    cells: Textual's own wrapping would break a pair at its no-break space."""
    if width is None or width <= 0 or line.cell_length <= width:
        return line
    text = line.plain
    cuts = [0]
    start = 0
    while (gap := text.find("   ", start)) >= 0:
        end = gap + 3
        while end < len(text) and text[end] == " ":
            end += 1
        if end < len(text):
            cuts.append(end)
        start = end
    cuts.append(len(text))
    rows: list[Content] = []
    row_start = 0
    for before, after in pairwise(cuts):
        if before > row_start and line[row_start:after].rstrip().cell_length > width:
            rows.append(line[row_start:before].rstrip())
            row_start = before
    rows.append(line[row_start:].rstrip())
    return Content("\n").join(rows)


def escalation_badge(view: IncidentSummary, now: datetime) -> Content:
    """The escalation state in its colour, with the time left or overdue."""
    d = view.detail
    clock = badge_clock(
        d.escalation,
        status=d.status,
        response_due=d.response_due,
        resolve_due=d.resolve_due,
        first_response_at=d.first_response_at,
        paused_since=view.deadlines.get("paused_since"),
        warning_at=d.warning_at,
        late_at=d.late_at,
    )
    words = badge_words(clock, now)
    if clock.stopped:
        words += f" (clocks stopped: {status_name(d.status)})"
    return Content.styled(words.replace(" ", NBSP), badge_style(clock, now))


def summary_content(
    view: IncidentSummary,
    *,
    zone: tzinfo | None,
    me: str,
    now: datetime,
    folded: bool = False,
    width: int | None = None,
) -> Content:
    """The top of the screen; every value from the database is plain text. `folded` (short
    terminals) keeps the title, the state, the customer, the unit and a running timer; the
    times and deadlines stay behind `d`. Lines longer than `width` break between pairs."""
    d = view.detail
    counts = view.counts
    events = (
        f"{_plural(counts['all'], 'event')} ({_plural(counts['contact'], 'contact')}, "
        f"{counts['system']} system)"
    )
    lines: list[Content] = []
    lines.append(
        Content.assemble(
            (d.number, "bold"),
            "  ",
            (d.title or "(no title)", "bold"),
            "" if folded else (f"  ·  {d.type} via {d.channel}  ·  {events}", "dim"),
        )
    )
    lines.append(
        Content.assemble(
            _pair("Status", status_name(d.status), "bold"),
            _pair("Priority", d.priority, "bold"),
            (f"Escalation{NBSP}", "dim"),
            escalation_badge(view, now),
            "   ",
            _pair("Owner", d.owner),
            _pair("Department", d.department),
        )
    )
    customer = d.customer
    parts = [_pair("Customer", f"{customer['name']} ({customer['number']})" if customer else None)]
    if d.contact:
        parts.append(_pair("Contact", d.contact["name"]))
    elif d.caller.get("name"):
        parts.append(_pair("Caller", d.caller["name"]))
    if customer and customer.get("block_level") not in (None, "none"):
        level = customer["block_level"].upper()
        parts.append(
            Content.assemble((f" {level}: ", "bold reverse $error"), customer["block_reason"] or "")
        )
    lines.append(Content.assemble(*parts))
    unit = d.unit
    timer_parts: list[Any] = []
    for running in view.running_timers:
        elapsed = minutes_text(max(0, int((now - running.started_at).total_seconds() // 60)))
        if running.agent == me:
            text, style = f" ⏱ your timer {elapsed} ", "bold reverse $warning"
        else:
            text, style = f"⏱ {running.agent} {elapsed}", "$warning"
        timer_parts.append((text.replace(" ", NBSP), style))
        timer_parts.append("   ")
    if folded:
        if unit:
            parts.append(_pair("Unit", unit["serial"]))
        lines[-1] = Content.assemble(*parts, *timer_parts)
        return _joined(lines, width)
    if unit:
        if unit["under_warranty"]:
            warranty = (f"under warranty until {unit['warranty_until']}", "$success")
        else:
            warranty = ("no warranty", "$warning")
        contract = unit["contract"]["code"] if unit["contract"] else None
        lines.append(
            Content.assemble(
                _pair("Unit", f"{unit['serial']} {unit['item'] or ''}".strip()),
                warranty,
                "   ",
                _pair("Contract", contract),
            )
        )
    else:
        lines.append(_pair("Unit", None))
    deadlines = view.deadlines
    lines.append(
        Content.assemble(
            _pair("Opened", local_time(d.opened_at, zone)),
            _pair("First response", local_time(d.first_response_at, zone) or None),
            _pair("Time spent", minutes_text(view.time_spent_minutes)),
            *timer_parts,
        )
    )
    expected = deadlines.get("expected_close")
    # The events count sits on the first line: this one needs the room for the mark.
    manual = d.deadlines_manual
    by_hand = (f"✎{NBSP}deadlines{NBSP}set{NBSP}by{NBSP}hand", "bold $accent") if manual else ""
    lines.append(
        Content.assemble(
            _pair("Response due", local_time(deadlines.get("response_due"), zone) or None),
            _pair("Resolve due", local_time(deadlines.get("resolve_due"), zone) or None),
            _pair("Expected close", str(expected) if expected else None),
            by_hand,
        )
    )
    return _joined(lines, width)


def _joined(lines: list[Content], width: int | None) -> Content:
    # The title wraps as words; every other line is pairs.
    return Content("\n").join([lines[0], *(fold_pairs(line, width) for line in lines[1:])])


# (target status, key, label, the label under NARROW_WIDTH) for the line of legal next steps.
STEPS = (
    ("assigned", "m", "assign to me", "assign me"),
    ("in_process", "w", "start work", "start"),
    ("pending", "p", "pending", "pending"),
    ("solved", "s", "solve", "solve"),
    ("closed", "c", "close", "close"),
)


def steps_content(
    status: str,
    legal: Iterable[str],
    *,
    owner: str | None = None,
    me: str = "",
    narrow: bool = False,
) -> Content:
    """The next steps as one line; `narrow` (under NARROW_WIDTH columns) uses shorter words
    and gaps so the line still fits 80 columns."""
    legal = set(legal)
    gap = "  " if narrow else "   "
    parts: list[Any] = [("Next  ", "dim")]
    for target, key, wide, short in STEPS:
        label = short if narrow else wide
        if target == "assigned":
            # "Assign to me" is a step whenever someone else (or nobody) holds it.
            if owner == me or (target not in legal and status != "assigned"):
                continue
        elif target not in legal:
            continue
        if target == "in_process" and status == "solved":
            key, label = "o", "reopen"
        parts.extend([(key, "bold $accent"), f" {label}{gap}"])
    if len(parts) == 1:
        parts.append(("none: the incident is final", "dim"))
    return Content.assemble(*parts)


class IncidentDetailScreen(ConsoleScreen):
    """An incident's summary, timeline and every action on it."""

    MODE = "incident"
    AUTO_FOCUS = "#timeline"
    KEY_GROUPS = (
        (
            "Work on the incident",
            (
                "incident.assign_me",
                "incident.start",
                "incident.pending",
                "incident.solve",
                "incident.close",
                "incident.reopen",
                "incident.transfer",
            ),
        ),
        ("Write", ("incident.event", "incident.reply", "incident.correct", "incident.timer")),
        ("Deadlines", ("incident.deadlines", "incident.set_deadlines")),
        (
            "Read the timeline",
            (
                "incident.kind_all",
                "incident.kind_contact",
                "incident.kind_system",
                "incident.order",
                "incident.reload",
            ),
        ),
        ("More", ("incident.back",)),
    )
    BINDINGS = [
        Binding("escape", "back", "Back", id="incident.back"),
        Binding("e", "add_event", "Event", id="incident.event"),
        Binding("R", "reply", "Reply by e-mail", show=False, id="incident.reply"),
        Binding("x", "correct", "Correct", show=False, id="incident.correct"),
        Binding("t", "timer", "Timer", id="incident.timer"),
        Binding("m", "assign_me", "Assign me", id="incident.assign_me"),
        Binding("w", "start_work", "Start", id="incident.start"),
        Binding("p", "pending", "Pending", id="incident.pending"),
        Binding("s", "solve", "Solve", id="incident.solve"),
        Binding("c", "close", "Close", id="incident.close"),
        Binding("o", "reopen", "Reopen", show=False, id="incident.reopen"),
        # Shown on the steps line: the footer has no room left at 120 columns.
        Binding("d", "toggle_deadlines", "Deadlines", show=False, id="incident.deadlines"),
        Binding("D", "set_deadlines", "Deadlines by hand", show=False, id="incident.set_deadlines"),
        Binding("1", "kind('all')", "All events", show=False, id="incident.kind_all"),
        Binding("2", "kind('contact')", "Contacts", show=False, id="incident.kind_contact"),
        Binding("3", "kind('system')", "System", show=False, id="incident.kind_system"),
        Binding("n", "toggle_order", "Order", show=False, id="incident.order"),
        Binding("r", "reload", "Reload", show=False, id="incident.reload"),
        Binding("f", "transfer", "Work order", show=False, id="incident.transfer"),
        Binding("a", "save_attachment", "Attachment", show=False, id="incident.attachment"),
    ]

    def __init__(self, incident_id: int, *, back_to: str | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        # The mode escape returns to (None: the incident list below).
        self.back_to = back_to
        self.kind = "all"
        self.newest_first = True
        self.view: IncidentView | None = None
        self.event_types: list[EventTypeInfo] = []
        self._busy = False
        self._request = 0
        self._zone: tzinfo | None = None
        self._me = ""
        self._supervisor = False
        self.show_deadlines = False
        self.work_orders: list[IncidentOrder] = []

    @property
    def number(self) -> str:
        return f"INC-{self.incident_id}"

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="incident-top"):
            yield Static(Content(f"{self.number}  loading…"), id="incident-summary-box")
            yield Static(Content(""), id="deadline-panel")
            yield Static(Content(""), id="incident-orders")
            yield Static(Content(""), id="incident-steps")
            yield MessageLine(id="incident-message")
        with Horizontal(id="timeline-bar"):
            yield Static(Content(""), id="timeline-filters")
            yield Static(Content(""), id="timeline-count")
        yield TimelineList(id="timeline")
        yield Static(Content(""), id="timeline-empty")

    @property
    def timeline(self) -> TimelineList:
        return self.query_one("#timeline", TimelineList)

    # -- loading ---------------------------------------------------------------------------

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        self._me = connection.actor.login
        self._supervisor = connection.actor.is_supervisor
        self.timeline.zone = self._zone
        self.set_interval(TICK_SECONDS, self._tick)
        self._load_types(on_error=lambda _error: None)
        self.reload()

    def _load_types(self, on_error: Callable[[BaseException], object] | None = None) -> None:
        from cc_tui.services.directory.event_types import list_event_types

        self.call(
            list_event_types,
            on_result=self._got_types,
            on_error=on_error,
            group="incident-types",
            include_system=False,
            active_only=True,
        )

    def _got_types(self, types: list[EventTypeInfo]) -> None:
        self.event_types = types

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if self.incident_id in batch.incident_ids or batch.touches("event_type"):
            if batch.touches("event_type") and self.connection is not None:
                self._load_types()
            self.reload(keep_position=True)

    def reload(self, *, keep_position: bool = False) -> None:
        shown = len(self.timeline.children) if keep_position else 0
        count = max(PAGE_SIZE, min(shown, 2000))
        keep = self.timeline.current.id if keep_position and self.timeline.current else None
        self._request += 1
        request = self._request
        self._busy = True
        from cc_tui.services.incidents.incident_view import incident_view

        self.call(
            incident_view,
            on_result=lambda view: self._show(request, view, keep),
            on_error=lambda error: self._load_failed(request, error),
            group="incident-load",
            ref=self.incident_id,
            kind=self.kind,
            newest_first=self.newest_first,
            count=count,
            deadlines=self.show_deadlines,
        )
        from cc_tui.services.workorders.orders import orders_of_incident

        self.call(
            orders_of_incident,
            on_result=self._got_orders,
            on_error=lambda _error: None,
            group="incident-orders",
            ref=self.incident_id,
        )

    def _got_orders(self, orders: list[IncidentOrder]) -> None:
        self.work_orders = orders
        self._show_orders()

    def _load_failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self._busy = False
        self.say(error)

    async def _show(self, request: int, view: IncidentView, keep: int | None) -> None:
        if request != self._request:
            return
        self._busy = False
        self.view = view
        self._show_summary()
        await self.timeline.show(view.events, has_more=view.has_more, keep=keep)
        empty = self.query_one("#timeline-empty", Static)
        empty.display = not view.events
        self.timeline.display = bool(view.events)
        if not view.events:
            what = {"contact": "customer contacts", "system": "system events"}.get(
                self.kind, "events"
            )
            empty.update(Content(f"No {what} on {self.number}. Press 1 to see all events."))
        self._show_bar()

    def _show_summary(self) -> None:
        if self.view is None:
            return
        summary = self.view.summary
        box = self.query_one("#incident-summary-box", Static)
        box.update(
            summary_content(
                summary,
                zone=self._zone,
                me=self._me,
                now=clock.now(),
                folded=self.has_class("-short"),
                width=box.content_region.width or None,
            )
        )
        self._show_deadlines()
        self._show_orders()
        d = summary.detail
        narrow = self.has_class("-narrow")
        steps = steps_content(d.status, d.legal_next, owner=d.owner, me=self._me, narrow=narrow)
        what = "hide deadlines" if self.show_deadlines else "deadlines"
        hint = Content.assemble(
            ("│ " if narrow else "│  ", "dim"),
            (self._key("incident.deadlines", "d"), "bold $accent"),
            f" {what}",
        )
        self.query_one("#incident-steps", Static).update(Content.assemble(steps, hint))

    def _show_orders(self) -> None:
        orders = self.work_orders
        box = self.query_one("#incident-orders", Static)
        box.display = bool(orders)
        parts: list[Any] = [("Work orders  ", "bold")]
        for order in orders:
            parts.extend(
                [(order.number, "bold"), f" {status_name(order.status)} ({order.kind})   "]
            )
        box.update(Content.assemble(*parts))

    def action_transfer(self) -> None:
        """Hand the incident to a work order (link candidates first)."""
        from cc_tui.services.workorders.orders import transfer_offer

        def opened(offer: TransferOffer) -> None:
            dialog = TransferDialog(incident_id=self.incident_id, number=self.number, offer=offer)
            self.app.push_screen(dialog, handed)

        def handed(result: Any) -> None:
            if result is not None:
                names = ", ".join(o.number for o in result.work_orders)
                self.done(f"{self.number}: {status_name(result.incident['status'])} → {names}")

        self.call(
            transfer_offer,
            on_result=opened,
            on_error=self.say,
            group="incident-transfer",
            ref=self.incident_id,
        )

    def _show_bar(self) -> None:
        parts: list[Any] = [("Timeline  ", "bold")]
        for kind, key, label in KIND_LABELS:
            style = "bold reverse $accent" if kind == self.kind else ""
            parts.extend([(key, "bold $accent"), " ", (f" {label} ", style), "  "])
        order = "newest first" if self.newest_first else "oldest first"
        parts.extend([("n", "bold $accent"), f" {order}   ", ("x", "bold $accent"), " correct"])
        self.query_one("#timeline-filters", Static).update(Content.assemble(*parts))
        if self.view is not None:
            total = self.view.summary.counts.get(self.kind, 0)
            shown = len(self.timeline.children)
            self.query_one("#timeline-count", Static).update(Content(f"{shown} of {total} shown"))

    def _show_deadlines(self) -> None:
        panel = self.query_one("#deadline-panel", Static)
        panel.display = self.show_deadlines
        if not self.show_deadlines:
            return
        view = self.view.deadlines if self.view is not None else None
        if view is None:
            panel.update(Content("loading…"))
            return
        keys = f"{self._key('incident.deadlines', 'd')} hides"
        if self._supervisor:
            keys += f" · {self._key('incident.set_deadlines', 'D')} sets them by hand"
        panel.border_title = "How the deadlines were computed"
        panel.border_subtitle = keys
        panel.update(deadline_explanation(view, self._zone, clock.now()))

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    def on_resize(self, event: events.Resize) -> None:
        short = event.size.height < SHORT_HEIGHT
        narrow = event.size.width < NARROW_WIDTH
        self.set_class(short, "-short")
        self.set_class(narrow, "-narrow")
        # The summary's lines break between pairs at the new width, once it is laid out.
        self.call_after_refresh(self._show_summary)

    def _tick(self) -> None:
        # The badge's time left (and a running timer) move on between reloads.
        self._show_summary()

    @on(TimelineList.NeedMore)
    def _more(self, _message: TimelineList.NeedMore) -> None:
        if self._busy or self.view is None or self.view.next_after is None:
            return
        self._busy = True
        from cc_tui.services.incidents.timeline import timeline

        request = self._request
        self.call(
            timeline,
            on_result=lambda page: self._append(request, page),
            on_error=lambda error: self._load_failed(request, error),
            group="incident-load",
            ref=self.incident_id,
            kind=self.kind,
            newest_first=self.newest_first,
            limit=PAGE_SIZE,
            after=self.view.next_after,
        )

    async def _append(self, request: int, page: TimelinePage) -> None:
        if request != self._request or self.view is None:
            return
        self._busy = False
        self.view = replace(
            self.view, events=self.view.events + page.events, next_after=page.next_after
        )
        await self.timeline.append_page(page.events, has_more=page.has_more)
        self._show_bar()

    # -- messages to the agent -----------------------------------------------------------------

    def say(self, error: BaseException) -> None:
        """A refusal: the service's message on the screen and as a notification."""
        text = error_message(error)
        self.query_one("#incident-message", MessageLine).show(
            Content.assemble((f"{error_title(error)}: ", "bold"), text)
        )
        self.notify(text, title=error_title(error), severity="error", timeout=8, markup=False)
        if isinstance(error, Conflict):
            self.reload(keep_position=True)
        elif not isinstance(error, CcError):
            self.log.error("incident action failed", error)

    def done(self, text: str) -> None:
        self.query_one("#incident-message", MessageLine).show("")
        self.notify(text, timeout=4, markup=False)
        self.reload(keep_position=True)

    # -- keys ----------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back where the incident was opened from: the list below, or another mode."""
        back_to = self.back_to
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        if back_to is not None:
            self.app.switch_mode(back_to)

    def action_reload(self) -> None:
        self.reload(keep_position=True)

    def action_kind(self, kind: str) -> None:
        if kind != self.kind:
            self.kind = kind
            self.reload()

    def action_toggle_deadlines(self) -> None:
        self.show_deadlines = not self.show_deadlines
        self._show_summary()
        if self.show_deadlines and self.view is not None and self.view.deadlines is None:
            self.reload(keep_position=True)

    def action_set_deadlines(self) -> None:
        view = self._need_view()
        if view is None or self.connection is None:
            return
        try:
            # The service's own rule, asked before anything is typed; it asks again on save.
            self.connection.actor.require_supervisor("set deadlines by hand")
        except RuleViolation as error:
            self.say(error)
            return

        def finished(result: DeadlineView | None) -> None:
            if result is None:
                return
            how = "set by hand" if result.manual else "computed by the rules again"
            self.done(f"{result.number}: deadlines {how}")

        def opened(current: DeadlineView) -> None:
            # The dialog edits what is stored now, with the version it was read at.
            dialog = DeadlinesDialog(
                incident_id=self.incident_id,
                number=self.number,
                version=current.version,
                view=current,
                zone=self._zone,
            )
            self.app.push_screen(dialog, finished)

        from cc_tui.services.sla.deadlines import deadline_view

        self.call(deadline_view, on_result=opened, group="incident-deadlines", ref=self.incident_id)

    def action_toggle_order(self) -> None:
        self.newest_first = not self.newest_first
        self.reload()

    def _need_view(self) -> IncidentView | None:
        if self.view is None:
            self.notify("The incident is still loading.", severity="warning", timeout=3)
        return self.view

    def action_add_event(self, corrects: TimelineEntry | None = None) -> None:
        if self._need_view() is None:
            return
        if not self.event_types:
            self.notify("No event types to choose from yet.", severity="warning", timeout=4)
            return
        dialog = EventDialog(
            incident_id=self.incident_id,
            number=self.number,
            types=self.event_types,
            corrects=corrects,
        )

        def added(result) -> None:
            if result is None:
                return
            note = " · first response recorded" if result.first_response else ""
            self.done(f"Event #{result.id} added to {self.number}{note}")

        self.app.push_screen(dialog, added)

    def action_reply(self) -> None:
        """E-mail the caller: a dialog starting from the greeting and the quoted thread."""
        connection = self.connected()
        if connection is None or self._need_view() is None:
            return
        from cc_tui.dialogs.reply import ReplyDialog
        from cc_tui.services.notify.replies import draft

        settings = connection.settings
        sender = settings.smtp.sender

        def opened(start: Any) -> None:
            dialog = ReplyDialog(incident_id=self.incident_id, draft=start, sender=sender)
            self.app.push_screen(dialog, sent)

        def sent(result: Any) -> None:
            if result is None:
                return
            note = " · first response recorded" if result.first_response else ""
            self.done(f"Reply to {result.to} queued on {self.number}{note}")

        self.call(
            draft,
            on_result=opened,
            on_error=self.say,
            group="incident-reply",
            ref=self.incident_id,
            agent=connection.actor.name,
            folder=settings.templates_folder,
        )

    def action_save_attachment(self) -> None:
        current = self.timeline.current
        files = list((current.data or {}).get("attachments") or []) if current else []
        if not files:
            self.notify(
                "Highlight an e-mail with attachments first.", severity="warning", timeout=4
            )
            return
        from cc_tui.dialogs.attachment import SaveAttachmentDialog

        def saved(result) -> None:
            if result is not None:
                self.notify(f"Saved {result.size} bytes to {result.path}", timeout=5)

        dialog = SaveAttachmentDialog(incident_id=self.incident_id, number=self.number, files=files)
        self.app.push_screen(dialog, saved)

    def action_correct(self) -> None:
        current = self.timeline.current
        if current is None:
            self.notify("Highlight the event to correct first.", severity="warning", timeout=4)
            return
        self.action_add_event(corrects=current)

    def _transition(self, to: str, *, note: str | None = None, done: str | None = None) -> None:
        view = self._need_view()
        if view is None:
            return
        connection = self.connected()
        if connection is None:
            return
        from cc_tui.services.incidents.lifecycle import change_status

        self.call(
            change_status,
            on_result=lambda r: self.done(
                done or f"{r.number}: {status_name(r.previous)} → {status_name(r.status)}"
            ),
            on_error=self.say,
            write=True,
            group="incident-action",
            actor=connection.actor,
            ref=self.incident_id,
            to=to,
            expected_version=view.summary.detail.version,
            note=note,
        )

    def action_assign_me(self) -> None:
        view = self._need_view()
        if view is None:
            return
        connection = self.connected()
        if connection is None:
            return
        from cc_tui.services.routing.queues import assign

        self.call(
            assign,
            on_result=lambda r: self.done(f"{self.number} is now yours ({status_name(r.status)})"),
            on_error=self.say,
            write=True,
            group="incident-action",
            actor=connection.actor,
            ref=self.incident_id,
            to_agent=connection.actor.login,
            expected_version=view.summary.detail.version,
        )

    def action_start_work(self) -> None:
        self._transition("in_process")

    def action_pending(self) -> None:
        self._transition("pending")

    def action_reopen(self) -> None:
        view = self._need_view()
        if view is None:
            return
        status = view.summary.detail.status
        if status != "solved":
            self.say(
                RuleViolation(
                    f"only a solved incident is reopened; {self.number} has status "
                    f"{status_name(status)} (w starts work)"
                )
            )
            return
        self._transition("in_process", note="reopened: the customer did not accept")

    def action_solve(self) -> None:
        view = self._need_view()
        if view is None:
            return
        d = view.summary.detail
        resolution = "/".join(x for x in (d.resolution["general"], d.resolution["specific"]) if x)
        dialog = SolveDialog(
            incident_id=self.incident_id,
            number=self.number,
            version=d.version,
            problem=d.resolution["problem"],
            solution=d.resolution["solution"],
            resolution=resolution or None,
        )
        self.app.push_screen(dialog, self._after_dialog)

    def action_close(self) -> None:
        view = self._need_view()
        if view is None:
            return
        d = view.summary.detail
        dialog = CloseDialog(
            incident_id=self.incident_id, number=self.number, version=d.version, status=d.status
        )
        self.app.push_screen(dialog, self._after_dialog)

    def _after_dialog(self, result) -> None:
        if result is not None:
            self.done(
                f"{result.number}: {status_name(result.previous)} → {status_name(result.status)}"
            )

    def action_timer(self) -> None:
        view = self._need_view()
        if view is None:
            return
        connection = self.connected()
        if connection is None:
            return
        from cc_tui.services.incidents.timetrack import start_timer, stop_timer

        if any(t.agent == self._me for t in view.summary.running_timers):

            def stopped(result: TimeEntryInfo) -> None:
                self.done(
                    f"Timer stopped: {minutes_text(result.minutes)} booked on {result.incident}"
                )

            self.call(
                stop_timer,
                on_result=stopped,
                on_error=self.say,
                write=True,
                group="incident-action",
                actor=connection.actor,
            )
            return

        def started(result: TimerStarted) -> None:
            text = f"Timer started on {self.number}"
            if result.stopped is not None:
                stopped = result.stopped
                text += f" (stopped on {stopped.incident}: {minutes_text(stopped.minutes)} booked)"
            self.done(text)

        self.call(
            start_timer,
            on_result=started,
            on_error=self.say,
            write=True,
            group="incident-action",
            actor=connection.actor,
            ref=self.incident_id,
        )
