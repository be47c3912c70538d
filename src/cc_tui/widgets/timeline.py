"""An incident's timeline as a keyboard list: one item per event, coloured by kind.

The list shows pages the screen hands it (keyset-paged in SQL) and asks for the next page
when the cursor comes near the end. Event text is customer or agent text: it is shown as
plain `Content`, never parsed as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, ListItem, ListView

from cc_tui.console.local_time import local_time
from cc_tui.statuses import Status, status_name
from cc_tui.widgets.escalation_badge import LABEL as ESCALATION_LABEL

if TYPE_CHECKING:
    from cc_tui.services.incidents.timeline import TimelineEntry

STATUS_LINE = re.compile(r"(\w+) -> (\w+)")
STATUS_VALUES = {s.value for s in Status}

# Ask for the next page this many items before the cursor reaches the last one.
PRELOAD_ITEMS = 5

# (icon, class) per kind of event: customer contacts in and out, internal notes, system.
ICONS = {
    "inbound": ("←", "-inbound"),
    "outbound": ("→", "-outbound"),
    "internal": ("•", "-internal"),
    "system": ("◇", "-system"),
}


def event_style(entry: TimelineEntry) -> tuple[str, str]:
    if entry.kind == "system":
        return ICONS["system"]
    if entry.is_contact and entry.direction in ("inbound", "outbound"):
        return ICONS[entry.direction]
    return ICONS["internal"]


def minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def event_content(entry: TimelineEntry, zone: tzinfo | None) -> Content:
    """Two parts: a head line (icon, time, type, author, extras) and the text as given."""
    icon, _ = event_style(entry)
    extras: list[str] = []
    if entry.contact_name:
        extras.append(f"with {entry.contact_name}")
    if entry.duration_minutes:
        extras.append(minutes_text(entry.duration_minutes))
    if entry.corrects_id:
        extras.append(f"corrects #{entry.corrects_id}")
    if entry.corrected_by:
        extras.append(f"corrected by #{entry.corrected_by}")
    head = Content.assemble(
        (f"{icon} {local_time(entry.at, zone)}  {entry.type_name}", "bold"),
        "  ",
        entry.author_name or entry.author,
        ("".join(f"  · {extra}" for extra in extras), "italic"),
        (f"  #{entry.id}", "dim"),
    )
    body = entry.text or ""
    mail = _mail_text(entry)
    if mail is not None:
        extras.insert(0, f"from {mail[0]}")
        head = Content.assemble(
            (f"{icon} {local_time(entry.at, zone)}  {entry.type_name}", "bold"),
            "  ",
            entry.author_name or entry.author,
            ("".join(f"  · {extra}" for extra in extras), "italic"),
            (f"  #{entry.id}", "dim"),
        )
        return Content.assemble(head, "\n", Content(mail[1]), (mail[2], "dim"))
    body = _status_words(entry, body)
    change = _change_text(entry)
    if change:
        body = f"{body}: {change}" if body else change
    if not body:
        return head
    if entry.corrected_by:
        # Still readable (events are never changed), but plainly superseded.
        return Content.assemble(head, "\n", (body, "strike dim"))
    return Content.assemble(head, "\n", Content(body))


def _status_words(entry: TimelineEntry, body: str) -> str:
    """A status event reads `In process -> Solved`: the stored `in_process -> solved`
    (what scripts read) told with the names the screens use; an escalation event the
    badge's words (`escalation follow-up -> warning`, stored `follow_up -> warning`)."""
    data = entry.data or {}
    if entry.kind != "system":
        return body
    if data.get("field") == "escalation":
        before, after = str(data.get("from") or ""), str(data.get("to") or "")
        stored = f"escalation {before} -> {after}"
        if before not in ESCALATION_LABEL or after not in ESCALATION_LABEL:
            return body
        if not body.startswith(stored):
            return body
        named = f"escalation {ESCALATION_LABEL[before]} -> {ESCALATION_LABEL[after]}"
        return named + body[len(stored) :]
    if data.get("field") == "status":
        before, after = str(data.get("from") or ""), str(data.get("to") or "")
    else:
        # Older events carry no data: the words alone say it, when both are statuses.
        found = STATUS_LINE.match(body)
        if found is None or not {found[1], found[2]} <= STATUS_VALUES:
            return body
        before, after = found[1], found[2]
    stored = f"{before} -> {after}"
    if not body.startswith(stored):
        return body
    return f"{status_name(before)} -> {status_name(after)}" + body[len(stored) :]


def _mail_text(entry: TimelineEntry) -> tuple[str, str, str] | None:
    """An e-mail's (sender, subject and reply text, notes): the quoted history the message
    carried stays collapsed (the text shown is the reply's own), attachments are listed
    (`a` saves one)."""
    data = entry.data or {}
    if "mail" not in data or "from" not in data:
        return None
    subject = str(data.get("subject") or "(no subject)")
    text = f"Subject: {subject}\n{entry.text or ''}".rstrip()
    notes = ""
    if data.get("quoted"):
        notes += "\n⋯ quoted history collapsed"
    for item in data.get("attachments") or []:
        notes += f"\n📎 {item.get('filename')} ({item.get('size')} bytes)"
    for skipped in data.get("skipped") or []:
        notes += f"\n✗ {skipped}"
    return str(data["from"]), text, notes


def _change_text(entry: TimelineEntry) -> str:
    """A system field change also says what the field now holds (shortened)."""
    data = entry.data or {}
    if entry.kind != "system" or "to" not in data or data.get("field") == "status":
        return ""
    value = data["to"]
    if value is None:
        return "cleared"
    shown = " ".join(str(value).split())
    if not shown or (entry.text and (shown in entry.text or _is_time(shown))):
        # The text says it already (a time there is readable, the stored one is ISO).
        return ""
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class EventItem(ListItem):
    """One event of the timeline."""

    def __init__(self, entry: TimelineEntry, zone: tzinfo | None) -> None:
        _, kind_class = event_style(entry)
        classes = kind_class + (" -correction" if entry.corrects_id else "")
        classes += " -corrected" if entry.corrected_by else ""
        super().__init__(Label(event_content(entry, zone), markup=False), classes=classes)
        self.entry = entry


class TimelineList(ListView):
    """The events shown; `NeedMore` asks the screen for the next page."""

    DEFAULT_CSS = """
    TimelineList > EventItem {
        padding: 0 1;
        margin-bottom: 1;
        border-left: tall $foreground 30%;
    }
    TimelineList > EventItem > Label {
        width: 1fr;
    }
    TimelineList > EventItem.-inbound { border-left: tall $accent; }
    TimelineList > EventItem.-outbound { border-left: tall $success; }
    TimelineList > EventItem.-system { border-left: tall $foreground 20%; color: $text-muted; }
    TimelineList > EventItem.-correction { border-left: tall $warning; }
    TimelineList > EventItem.-corrected { border-left: tall $foreground 20%; color: $text-muted; }
    """

    # The cursor moves with the page keys too, so paging on reaches older events.
    BINDINGS: ClassVar = [
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    @dataclass
    class NeedMore(Message):
        """The cursor is near the last item and the screen said more exist."""

        timeline: TimelineList

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone: tzinfo | None = None
        self.has_more = False
        self._ids: set[int] = set()

    @property
    def entries(self) -> list[TimelineEntry]:
        return [item.entry for item in self.query(EventItem)]

    @property
    def current(self) -> TimelineEntry | None:
        item = self.highlighted_child
        return item.entry if isinstance(item, EventItem) else None

    async def show(
        self, entries: Iterable[TimelineEntry], *, has_more: bool, keep: int | None = None
    ) -> None:
        """Replace everything shown; the cursor goes back to event `keep` if still shown."""
        entries = list(entries)
        self.has_more = has_more
        self._ids = {e.id for e in entries}
        # At the top, stay at the top: new events arrive there (newest first).
        if not self.index:
            keep = None
        with self.app.batch_update():
            await self.clear()
            await self.extend(EventItem(e, self.zone) for e in entries)
            index = 0
            if keep is not None:
                index = next((i for i, e in enumerate(entries) if e.id == keep), 0)
            self.index = index if entries else None

    async def append_page(self, entries: Iterable[TimelineEntry], *, has_more: bool) -> None:
        self.has_more = has_more
        new = [e for e in entries if e.id not in self._ids]
        self._ids.update(e.id for e in new)
        await self.extend(EventItem(e, self.zone) for e in new)

    def action_move(self, step: int) -> None:
        if len(self):
            self.index = max(0, min(len(self) - 1, (self.index or 0) + step))

    def action_first(self) -> None:
        if len(self):
            self.index = 0

    def action_last(self) -> None:
        if len(self):
            self.index = len(self) - 1

    @on(ListView.Highlighted)
    def _near_end(self, event: ListView.Highlighted) -> None:
        if event.list_view is not self:
            return
        index = self.index or 0
        if self.has_more and index >= len(self) - 1 - PRELOAD_ITEMS:
            self.post_message(self.NeedMore(self))
