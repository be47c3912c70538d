"""The Intake mode: where a call becomes an incident, in seconds, by keyboard.

F2 (from any mode) takes a call: the contact is recorded at once, before anything is
typed. The agent identifies the caller (the field searches as they type), sees the
caller's open incidents and unit, classifies the request and saves it (`ctrl+s`), or adds
the call as an event to one of the open incidents instead (`ctrl+o`), or ends the call
without saving (`escape`: the contact stays, marked abandoned).

The rules are the services'; this screen only shows their answers. A refused or failed
save changes nothing on screen but the message: everything typed stays for the retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, cast

from textual import events, on
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Static

from cc_tui.console.calls import Connection, error_message, show_error
from cc_tui.console.local_time import display_zone, local_time
from cc_tui.console.messages import ChangeBatch
from cc_tui.errors import CcError, NotFound, Unavailable
from cc_tui.screens.base import ConsoleScreen
from cc_tui.widgets.unit_panel import BlockBanner

# The form's widgets (DataTable, TextArea, the pickers) are imported with the form, when
# the first call is taken: the console's first frame does not wait for them.
if TYPE_CHECKING:
    from datetime import tzinfo

    from rich.text import Text
    from sqlmodel import Session
    from textual.timer import Timer
    from textual.widgets import DataTable, Input, Select, TextArea

    from cc_tui.dialogs.new_customer import FieldError
    from cc_tui.services.directory.agents import AgentInfo
    from cc_tui.services.directory.codes import CodeInfo
    from cc_tui.services.directory.customers import CustomerInfo, CustomerMatch, NewCaller
    from cc_tui.services.directory.units import UnitInfo
    from cc_tui.services.incidents.intake import ContactDraft, IntakeForm, IntakeResult
    from cc_tui.services.incidents.records import IncidentRow
    from cc_tui.services.sla.priorities import PriorityInfo
    from cc_tui.widgets.caller_search import CallerSearch
    from cc_tui.widgets.code_picker import Choice, CodePicker
    from cc_tui.widgets.unit_panel import UnitPanel

CHANNELS: tuple[tuple[str, str], ...] = (
    ("phone", "Phone"),
    ("email", "E-mail"),
    ("fax", "Fax"),
    ("web", "Web"),
    ("walk-in", "Walk-in"),
    ("cti", "CTI"),
)
REQUEST_TYPES: tuple[tuple[str, str], ...] = (
    ("action", "Action"),
    ("information", "Information"),
    ("comment", "Comment"),
)
# The rows each request type shows (the service decides what is required).
SECTIONS: dict[str, tuple[str, ...]] = {
    "action": (
        "title",
        "description",
        "reason",
        "request-kind",
        "problem",
        "priority",
        "contact",
        "responsible",
        "serial",
    ),
    "information": ("question", "answer", "reason", "request-kind", "contact", "serial"),
    "comment": ("description", "contact", "serial"),
}
# The field a service error names -> the row whose error line shows it.
ERROR_ROWS: dict[str, str] = {
    "customer": "caller",
    "caller": "caller",
    "phone": "caller",
    "email": "caller",
    "contact": "contact",
    "title": "title",
    "description": "description",
    "question": "question",
    "answer": "answer",
    "reason": "reason",
    "request-type": "request-kind",
    "problem": "problem",
    "priority": "priority",
    "responsible": "responsible",
    "expected_close": "close-by",
    "serial": "serial",
    "unit": "serial",
}
# The widget to put the cursor in for a row's error.
FOCUS_OF: dict[str, str] = {
    "caller": "#caller",
    "contact": "#contact-person",
    "reason": "#reason-general",
    "close-by": "#close-by",
}
# Wait this long after the agent stops moving through matches or typing a serial number.
PREVIEW_SECONDS = 0.12
SERIAL_SECONDS = 0.3
# Changes to these entities can alter the picked caller's card, unit or open incidents.
CALLER_ENTITIES = ("customer", "contact", "unit", "contract", "subcontract")
CATALOG_ENTITIES = ("code", "priority", "agent")


# ---------------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Catalog:
    """Everything the code fields complete from, loaded once (and again when changed)."""

    reasons: list[CodeInfo]
    request_kinds: list[CodeInfo]
    problems: list[CodeInfo]
    priorities: list[PriorityInfo]
    agents: list[AgentInfo]

    @property
    def system_priority(self) -> str | None:
        return next((p.code for p in self.priorities if p.is_default), None)

    def specifics(self, general: str) -> list[Choice]:
        from cc_tui.widgets.code_picker import Choice

        prefix = general.strip().upper() + "/"
        return [
            Choice(code.path[len(prefix) :], code.name)
            for code in self.reasons
            if code.path.startswith(prefix)
        ]


def load_catalog(session: Session) -> Catalog:
    from cc_tui.services.directory.agents import list_agents
    from cc_tui.services.directory.codes import list_codes
    from cc_tui.services.sla.priorities import list_priorities

    return Catalog(
        reasons=list_codes(session, kind="reason"),
        request_kinds=list_codes(session, kind="request-type"),
        problems=list_codes(session, kind="problem"),
        priorities=list_priorities(session),
        agents=list_agents(session),
    )


@dataclass(frozen=True)
class CallerContext:
    """The picked caller: the customer with contacts, units and open incidents."""

    customer: CustomerInfo
    units: list[UnitInfo]
    incidents: list[IncidentRow]
    unit: UnitInfo | None = None


def load_caller(session: Session, *, customer_id: int, unit_id: int | None = None) -> CallerContext:
    from cc_tui.services.directory.customers import get_customer
    from cc_tui.services.directory.units import unit_info, units_of_customer
    from cc_tui.services.incidents.intake import existing_incidents

    customer = get_customer(session, customer_id)
    unit = unit_info(session, unit_id) if unit_id is not None else None
    return CallerContext(
        customer=customer,
        units=units_of_customer(session, customer_id),
        incidents=existing_incidents(session, customer_id=customer_id, unit_id=unit_id),
        unit=unit,
    )


@dataclass(frozen=True)
class Preview:
    """The open incidents of the match the agent is on, while still choosing."""

    customer_id: int
    name: str
    incidents: list[IncidentRow] = field(default_factory=list)


def default_priority(
    unit: UnitInfo | None, customer: CustomerInfo | None, catalog: Catalog | None
) -> tuple[str, str] | None:
    """(code, where from) as the service will choose it when the field stays empty:
    the unit's contract in force, then the customer, then the system default."""
    contract = unit.contract if unit is not None else None
    if contract is not None and contract.active_now and contract.priority:
        return contract.priority, f"contract {contract.code}"
    if customer is not None and customer.priority:
        return customer.priority, "customer"
    system = catalog.system_priority if catalog is not None else None
    return (system, "system") if system else None


def customer_card(customer: CustomerInfo, *, how: str | None) -> Content:
    """The picked customer in two lines; every value plain text."""
    where = ", ".join(
        part
        for part in (
            customer.address,
            " ".join(p for p in (customer.postal_code, customer.city) if p),
        )
        if part
    )
    reach = " · ".join(p for p in (customer.phone, customer.email) if p)
    first = Content.assemble(
        (customer.name, "bold"), "  ", (customer.number, "dim"), f"  {where}" if where else ""
    )
    second_parts = [reach] if reach else []
    if customer.priority:
        second_parts.append(f"priority {customer.priority}")
    if how:
        second_parts.append(how)
    return Content.assemble(first, "\n", (" · ".join(second_parts), "dim"))


def existing_cells(row: IncidentRow) -> tuple[Text, ...]:
    from rich.text import Text

    def cell(value: str | None) -> Text:
        return Text(value or "–", no_wrap=True, overflow="ellipsis")

    return (cell(row.number), cell(row.status.replace("_", " ")), cell(row.title))


# ---------------------------------------------------------------------------------- the screen


class IntakeScreen(ConsoleScreen):
    """Take a call: identify, classify, save (or add to an open incident, or abandon)."""

    MODE = "intake"
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "save", "Save", id="intake.save"),
        Binding("ctrl+o", "add_to_existing", "Add to incident", id="intake.add_to_existing"),
        Binding("ctrl+n", "new_customer", "New customer", id="intake.new_customer"),
        Binding("ctrl+f", "knowledge_base", "Knowledge base", id="intake.kb"),
        # Shown with their keys in the contact bar.
        Binding("ctrl+t", "cycle_type", "Type", show=False, id="intake.type"),
        Binding("ctrl+l", "cycle_channel", "Channel", show=False, id="intake.channel"),
        Binding("escape", "end_call", "End call", id="intake.end_call"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.channel = "phone"
        self.request_type = "action"
        self.in_call = False
        # The form is built when the first call is taken.
        self.form_ready = False
        self.contact: ContactDraft | None = None
        self.contact_pending = False
        self._save_after_contact = False
        self.saving = False
        self.catalog: Catalog | None = None
        self.caller: CallerContext | None = None
        # How the caller was identified, as the card says it.
        self.matched_by: str | None = None
        self.unit: UnitInfo | None = None
        self.existing: list[IncidentRow] = []
        self.last_result: IntakeResult | None = None
        # The last call went onto an existing incident (not a new one).
        self.last_added = False
        # How the last call ended, when it left no incident to open.
        self.last_note: str | None = None
        # The contact persons the select offers now (label, id).
        self._contact_options: list[tuple[str, int]] | None = None
        self._preview_timer: Timer | None = None
        self._serial_timer: Timer | None = None
        self._zone: tzinfo | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="contact-bar"):
            yield Static(Content(""), id="contact-state")
            yield Static(Content(""), id="contact-channel")
            yield Static(Content(""), id="contact-type")
        yield BlockBanner(id="banner")
        with Vertical(id="intake-idle"):
            yield Static(Content(""), id="idle-text")
            yield Button(Content(""), id="open-last", variant="primary")

    async def _ensure_form(self) -> None:
        """Build the form the first time a call is taken."""
        if self.form_ready:
            return
        from cc_tui.widgets.intake_form import IntakeForm

        await self.mount(IntakeForm(id="intake-body"), after="#intake-idle")
        self.form_ready = True
        if self.catalog is not None:
            self._got_catalog(self.catalog)
        self._show_type()
        self._clear_form()

    # -- small helpers -------------------------------------------------------------------------

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    @property
    def caller_search(self) -> CallerSearch:
        return cast("CallerSearch", self.query_one("#caller"))

    @property
    def existing_table(self) -> DataTable[Text]:
        return cast("DataTable[Text]", self.query_one("#existing"))

    def picker(self, name: str) -> CodePicker:
        return cast("CodePicker", self.query_one(f"#{name}"))

    @property
    def unit_panel(self) -> UnitPanel:
        return cast("UnitPanel", self.query_one("#unit-panel"))

    def error_line(self, row: str) -> FieldError:
        return cast("FieldError", self.query_one(f"#{row}-error"))

    def text_of(self, name: str) -> str:
        widget = self.query_one(f"#{name}")
        text = getattr(widget, "text", None)  # a TextArea
        if text is None:
            text = getattr(widget, "value", "")  # an Input or a CodePicker
        return text.strip() if isinstance(text, str) else ""

    @property
    def contact_person(self) -> int | None:
        value = cast("Select[int]", self.query_one("#contact-person")).value
        return value if isinstance(value, int) else None

    def _show_card(self, content: Content) -> None:
        card = self.query_one("#caller-card", Static)
        card.update(content)
        card.set_class(not content.plain, "-empty")

    def status(self, text: str | Content) -> None:
        self.query_one("#form-status", Static).update(
            text if isinstance(text, Content) else Content(text)
        )

    # -- start ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self._show_bar()
        self._show_type()
        self._show_idle()

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        self.call(load_catalog, on_result=self._got_catalog, group="intake-catalog")
        if self.in_call and self.contact is None and not self.contact_pending:
            self._open_contact()
        self._show_idle()

    def _got_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        if not self.form_ready:
            return  # applied when the form is built
        from cc_tui.widgets.code_picker import Choice

        self.picker("reason-general").set_choices(
            Choice(code.path, code.name) for code in catalog.reasons
        )
        self.picker("request-kind").set_choices(
            Choice(code.path, code.name) for code in catalog.request_kinds
        )
        self.picker("problem").set_choices(
            Choice(code.path, code.name) for code in catalog.problems
        )
        self.picker("priority").set_choices(Choice(p.code, p.name) for p in catalog.priorities)
        self.picker("responsible").set_choices(Choice(a.login, a.name) for a in catalog.agents)
        self._show_specifics()
        self._show_default_priority()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches(*CATALOG_ENTITIES):
            self.call(load_catalog, on_result=self._got_catalog, group="intake-catalog")
        if self.in_call and self.caller is not None and self._touches_caller(batch):
            self._load_caller(self.caller.customer.id, self.unit.id if self.unit else None)

    def _touches_caller(self, batch: ChangeBatch) -> bool:
        """Whether others' work may have changed what is shown of the caller: their card
        or flag, contacts, units, an open incident shown, or a new incident (maybe theirs)."""
        assert self.caller is not None
        customer_id = self.caller.customer.id
        shown = {row.id for row in self.existing}
        for change in batch.changes:
            if change.entity == "customer" and change.entity_id == customer_id:
                return True
            if change.entity in CALLER_ENTITIES and change.entity != "customer":
                return True
            if change.incident_id is not None and (
                change.incident_id in shown or change.action == "registered"
            ):
                return True
        return False

    # -- taking a call ---------------------------------------------------------------------------

    def take_call(self) -> None:
        """The intake key: start a contact, or go back to the one in progress."""
        self.call_later(self._take_call)

    async def _take_call(self) -> None:
        if self.in_call:
            self._focus_first_empty()
            return
        await self._ensure_form()
        self._clear_form()
        self.in_call = True
        self.last_result = None
        self._show_idle()
        self._show_bar()
        self.refresh_bindings()
        self.caller_search.focus()
        self._open_contact()

    def _open_contact(self) -> None:
        connection = self.connection
        if connection is None:
            self.status("The contact will be recorded as soon as the database is open.")
            return
        from cc_tui.services.incidents.intake import open_contact

        self.contact_pending = True
        self._show_bar()
        self.call(
            open_contact,
            on_result=self._contact_opened,
            on_error=self._contact_failed,
            write=True,
            group="intake-contact",
            actor=connection.actor,
            channel=self.channel,
            request_type=self.request_type,
            default_country=connection.settings.default_country,
        )

    def _contact_opened(self, draft: ContactDraft) -> None:
        self.contact_pending = False
        if not self.in_call:
            return
        self.contact = draft
        self._show_bar()
        if self._save_after_contact:
            self._save_after_contact = False
            self.action_save()

    def _contact_failed(self, error: BaseException) -> None:
        self.contact_pending = False
        self._show_bar()
        self.status(
            Content.assemble(
                ("Contact not recorded yet: ", "bold"),
                error_message(error),
                " — keep typing; it is recorded when you save.",
            )
        )
        if self._save_after_contact:
            self._save_after_contact = False
            self.action_save()

    def _show_bar(self) -> None:
        state = self.query_one("#contact-state", Static)
        if not self.in_call:
            key = self._key("mode.intake", "f2")
            state.update(Content.assemble(("○ No call", "dim"), f" · {key} takes one"))
        elif self.contact is not None:
            state.update(
                Content.assemble(("● Call ", "bold $success"), (self.contact.number, "bold"))
            )
        elif self.contact_pending:
            state.update(Content.assemble(("● Call ", "bold $success"), "recording…"))
        else:
            state.update(Content.assemble(("● Call ", "bold $warning"), "not recorded yet"))
        label = dict(CHANNELS)[self.channel]
        key = self._key("intake.channel", "ctrl+l")
        fixed = " (this call)" if self.in_call else ""
        self.query_one("#contact-channel", Static).update(
            Content.assemble(("Channel ", "dim"), (label, "bold"), (f"{fixed}  {key}", "dim"))
        )

    def _show_type(self) -> None:
        key = self._key("intake.type", "ctrl+t")
        parts: list[Content | tuple[str, str] | str] = [("Type ", "dim")]
        for value, label in REQUEST_TYPES:
            if value == self.request_type:
                parts.append((f" {label} ", "bold reverse"))
            else:
                parts.append((f" {label} ", "dim"))
        parts.append((f"  {key}", "dim"))
        self.query_one("#contact-type", Static).update(Content.assemble(*parts))
        self._show_banner()
        if not self.form_ready:
            return
        visible = set(SECTIONS[self.request_type])
        for name in (
            "title",
            "description",
            "question",
            "answer",
            "reason",
            "request-kind",
            "problem",
            "priority",
            "contact",
            "responsible",
            "serial",
        ):
            shown = name in visible
            self.query_one(f"#row-{name}").display = shown
            if not shown:
                self.error_line(name).show("")
        if "responsible" not in visible:
            self.error_line("close-by").show("")
        # Without a title above it, the text starts the block.
        self.query_one("#row-description").set_class(self.request_type == "comment", "-group")
        label = "Comment" if self.request_type == "comment" else "Description"
        self.query_one("#label-description", Static).update(Content(label))
        focused = self.focused
        if self.in_call and (focused is None or not _visible(focused)):
            self._focus_first_empty()

    def _show_idle(self) -> None:
        self.query_one("#intake-idle").display = not self.in_call
        if self.form_ready:
            self.query_one("#intake-body").display = self.in_call
        if self.in_call:
            return
        take = self._key("mode.intake", "f2")
        channel = self._key("intake.channel", "ctrl+l")
        rtype = self._key("intake.type", "ctrl+t")
        button = self.query_one("#open-last", Button)
        lines: list[Content | str | tuple[str, str]] = []
        result = self.last_result
        if result is not None:
            if self.last_added:
                lines += ["This call was added to ", (result.number, "bold"), " as an event.\n"]
            else:
                status = result.status.replace("_", " ")
                lines += ["Saved ", (result.number, "bold"), f" ({status}).\n"]
                for warning in result.warnings:
                    lines += [(warning, "$warning"), "\n"]
            lines.append("\n")
        elif self.last_note:
            lines += [self.last_note, "\n\n"]
        if self.connection is None:
            lines.append(("Opening the database…\n\n", "dim"))
        lines += [
            (take, "bold"),
            " takes a call: the contact is recorded at once, then identify the caller.\n",
            (channel, "bold"),
            f" changes the channel ({dict(CHANNELS)[self.channel]}),  ",
            (rtype, "bold"),
            f" the request type ({dict(REQUEST_TYPES)[self.request_type]}).",
        ]
        self.query_one("#idle-text", Static).update(Content.assemble(*lines))
        if result is not None:
            button.label = Content(f"Open {result.number}")
            button.display = True
            button.focus()
        else:
            button.display = False

    # -- the caller ------------------------------------------------------------------------------

    def on_caller_search_highlighted(self, event: CallerSearch.Highlighted) -> None:
        if self.caller is not None:
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        match = event.match
        if match is None:
            self._show_existing(None, [])
            return
        if not match.open_incidents:
            self._show_existing(Preview(match.customer_id, match.name), [])
            return
        self._preview_timer = self.set_timer(PREVIEW_SECONDS, lambda: self._preview(match))

    def _preview(self, match: CustomerMatch) -> None:
        self._preview_timer = None
        from cc_tui.services.incidents.intake import existing_incidents

        def shown(rows: list[IncidentRow]) -> None:
            preview = Preview(match.customer_id, match.name, rows)
            current = self.caller_search.highlighted
            if self.caller is None and current and current.customer_id == preview.customer_id:
                self._show_existing(preview, preview.incidents)

        self.call(
            existing_incidents,
            on_result=shown,
            group="intake-preview",
            customer_id=match.customer_id,
        )

    def on_caller_search_picked(self, event: CallerSearch.Picked) -> None:
        match = event.match
        self.matched_by = f"found by {match.matched_by}" + (
            f" {match.unit_serial}" if match.unit_serial else ""
        )
        self.error_line("caller").show("")
        if match.unit_serial:
            self.picker("serial").value = match.unit_serial
        self._load_caller(match.customer_id, match.unit_id, contact_id=match.contact_id)
        self._show_card(Content.assemble((match.name, "bold"), ("  loading…", "dim")))
        self._focus_first_empty(after_caller=True)

    def on_caller_search_unpicked(self) -> None:
        self.caller = None
        self.matched_by = None
        self._show_card(Content(""))
        self._set_contacts([], None)
        self.picker("serial").set_choices([])
        if self.unit is not None and not self.text_of("serial"):
            self._show_unit(None)
        self._show_banner()
        self._show_existing(None, [])
        self._show_default_priority()

    def _load_caller(
        self, customer_id: int, unit_id: int | None, *, contact_id: int | None = None
    ) -> None:
        keep_contact = contact_id if contact_id is not None else self.contact_person

        def loaded(context: CallerContext) -> None:
            if not self.in_call:
                return
            self._apply_caller(context, keep_contact)

        self.call(
            load_caller,
            on_result=loaded,
            group="intake-caller",
            customer_id=customer_id,
            unit_id=unit_id,
        )

    def _apply_caller(self, context: CallerContext, contact_id: int | None) -> None:
        self.caller = context
        customer = context.customer
        self._show_card(customer_card(customer, how=self.matched_by))
        self._set_contacts(customer.contacts, contact_id)
        from cc_tui.widgets.code_picker import Choice

        self.picker("serial").set_choices(
            Choice(u.serial, f"{u.item}" + (f" ({u.unit_type})" if u.unit_type else ""))
            for u in context.units
        )
        if context.unit is not None:
            self._show_unit(context.unit)
        elif self.unit is not None:
            self._show_unit(self.unit)  # re-check its owner against the new caller
        self._show_banner()
        self._show_existing(None, context.incidents, name=customer.name)
        self._show_default_priority()

    def _set_contacts(self, contacts, selected: int | None) -> None:
        select = cast("Select[int]", self.query_one("#contact-person"))
        options = []
        for contact in contacts:
            extra = " · ".join(p for p in (contact.role, contact.phone or contact.mobile) if p)
            label = contact.name + (f"  ({extra})" if extra else "")
            options.append((Content(label), contact.id))
        current = [(str(label), value) for label, value in options]
        if current != self._contact_options:
            # Only when they changed: setting options clears the agent's choice.
            select.set_options(options)
            self._contact_options = current
        ids = {c.id for c in contacts}
        if selected is not None and selected in ids:
            select.value = selected

    def _show_banner(self) -> None:
        banner = self.query_one("#banner", BlockBanner)
        if not self.in_call or self.caller is None:
            banner.hide()
            return
        customer = self.caller.customer
        banner.show_flag(
            customer.block_level,
            customer.block_reason,
            customer.name,
            action=self.request_type == "action",
        )

    # -- open incidents ----------------------------------------------------------------------------

    def _show_existing(
        self, preview: Preview | None, rows: list[IncidentRow], *, name: str | None = None
    ) -> None:
        table = self.existing_table
        current = self._existing_id()
        self.existing = list(rows)
        with self.app.batch_update():
            table.clear()
            for row in rows:
                table.add_row(*existing_cells(row), key=str(row.id))
            if current is not None and any(r.id == current for r in rows):
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        who = name or (preview.name if preview else None)
        title = self.query_one("#existing-title", Static)
        if who is None:
            title.update(Content("Open incidents: identify the caller"))
        else:
            count = f" ({len(rows)})" if rows else ": none"
            title.update(Content.assemble("Open incidents of ", (who, "bold"), count))
        table.display = bool(rows)
        self._show_existing_summary()

    def _existing_id(self) -> int | None:
        table = self.existing_table
        if not table.row_count or not self.existing:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def _highlighted_existing(self) -> IncidentRow | None:
        current = self._existing_id()
        return next((r for r in self.existing if r.id == current), None)

    def _show_existing_summary(self) -> None:
        summary = self.query_one("#existing-summary", Static)
        row = self._highlighted_existing()
        if row is None:
            summary.update(Content(""))
            return
        details = " · ".join(
            p
            for p in (
                f"opened {local_time(row.opened_at, self._zone)}",
                row.priority,
                row.owner or "no owner",
                row.department,
            )
            if p
        )
        lines: list[Content | str | tuple[str, str]] = [
            (row.number, "bold"),
            "  ",
            row.title or "(no title)",
            "\n",
            (details, "dim"),
        ]
        if self.caller is not None:
            key = self._key("intake.add_to_existing", "ctrl+o")
            if len(self.existing) > 1 and not self.existing_table.has_focus:
                lines += ["\n", (key, "bold"), " chooses the incident to add this call to"]
            else:
                lines += ["\n", (key, "bold"), f" adds this call to {row.number} · enter opens it"]
        summary.update(Content.assemble(*lines))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "existing":
            self._show_existing_summary()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "existing":
            self._show_existing_summary()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "existing":
            self._show_existing_summary()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from cc_tui.screens.incident_detail import show_incident

        if event.data_table.id == "existing" and event.row_key.value is not None:
            show_incident(self.app, int(event.row_key.value))

    # -- the unit ----------------------------------------------------------------------------------

    def on_code_picker_changed(self, event: CodePicker.Changed) -> None:
        if event.picker.id == "serial":
            self._serial_changed()
        elif event.picker.id == "reason-general":
            self._general_changed(event.value)

    def _serial_changed(self) -> None:
        if self._serial_timer is not None:
            self._serial_timer.stop()
        self._serial_timer = self.set_timer(SERIAL_SECONDS, self._look_up_serial)

    def _look_up_serial(self) -> None:
        self._serial_timer = None
        serial = self.text_of("serial")
        if not serial:
            self._show_unit(None)
            return
        if self.unit is not None and self.unit.serial.upper() == serial.upper():
            return
        known = self.caller.units if self.caller is not None else []
        unit = next((u for u in known if u.serial.upper() == serial.upper()), None)
        if unit is not None:
            self._show_unit(unit)
            return
        from cc_tui.services.directory.units import unit_by_serial

        def found(unit: UnitInfo) -> None:
            if self.text_of("serial").upper() != serial.upper() or not self.in_call:
                return
            self._show_unit(unit)
            if self.caller is None:
                # The serial number identifies the caller.
                self.matched_by = f"found by serial {unit.serial}"
                self._load_caller(unit.customer_id, unit.id)

        def missing(error: BaseException) -> None:
            if self.text_of("serial").upper() != serial.upper():
                return
            if isinstance(error, NotFound):
                self.unit = None
                self.unit_panel.show_note(error.message)
                self._show_default_priority()
            else:
                show_error(self, error)

        self.call(
            unit_by_serial, on_result=found, on_error=missing, group="intake-unit", serial=serial
        )

    def _show_unit(self, unit: UnitInfo | None) -> None:
        self.unit = unit
        panel = self.unit_panel
        if unit is None:
            panel.show_note("No unit yet: type its serial number.")
        else:
            owner = self.caller.customer.id if self.caller is not None else None
            panel.show_unit(unit, customer_id=owner)
        self._show_default_priority()

    def _show_default_priority(self) -> None:
        customer = self.caller.customer if self.caller is not None else None
        found = default_priority(self.unit, customer, self.catalog)
        hint = self.query_one("#priority-default", Static)
        picker = self.picker("priority")
        if found is None:
            hint.update(Content.styled("no default: choose one", "$warning"))
            picker.input.placeholder = ""
        else:
            code, source = found
            hint.update(
                Content.assemble(("default ", "dim"), (code, "bold"), (f" · {source}", "dim"))
            )
            picker.input.placeholder = code

    # -- codes -------------------------------------------------------------------------------------

    def _general_changed(self, value: str) -> None:
        text = value.strip()
        if "/" in text:
            # A specific code taken from the list: split it over both fields.
            general, _, specific = text.partition("/")
            self.picker("reason-general").value = general
            self.picker("reason-specific").value = specific
            if self.picker("reason-specific").input.has_focus:
                self.picker("request-kind").focus()  # both are filled: on to the next
        self._show_specifics()

    def _show_specifics(self) -> None:
        if self.catalog is None:
            return
        general = self.text_of("reason-general")
        self.picker("reason-specific").set_choices(
            self.catalog.specifics(general) if general else []
        )

    # -- the form ----------------------------------------------------------------------------------

    def _clear_form(self) -> None:
        self.contact = None
        self.contact_pending = False
        self._save_after_contact = False
        self.saving = False
        self.caller = None
        self.matched_by = None
        self.caller_search.reset()
        self._show_card(Content(""))
        for name in ("title", "close-by"):
            cast("Input", self.query_one(f"#{name}")).value = ""
        for name in ("description", "question", "answer"):
            cast("TextArea", self.query_one(f"#{name}")).text = ""
        for name in (
            "reason-general",
            "reason-specific",
            "request-kind",
            "problem",
            "priority",
            "responsible",
            "serial",
        ):
            self.picker(name).value = ""
        self.picker("serial").set_choices([])
        self._set_contacts([], None)
        self._clear_errors()
        self.status("")
        self._show_unit(None)
        self._show_existing(None, [])
        self._show_specifics()
        self._show_banner()

    def _clear_errors(self) -> None:
        from cc_tui.dialogs.new_customer import FieldError

        for line in self.query(FieldError):
            line.show("")

    def something_typed(self) -> bool:
        if self.caller is not None or self.caller_search.text:
            return True
        names = (
            "title",
            "description",
            "question",
            "answer",
            "reason-general",
            "reason-specific",
            "request-kind",
            "problem",
            "priority",
            "responsible",
            "close-by",
            "serial",
        )
        return any(self.text_of(name) for name in names) or self.contact_person is not None

    def caller_words(self) -> str:
        """What the caller said: the question of an information request, else the
        description (or the title when that is all there is)."""
        if self.request_type == "information":
            return self.text_of("question")
        return self.text_of("description") or self.text_of("title")

    def build_form(self) -> IntakeForm:
        """The visible fields as the service's form; a bad date raises a CcError."""
        from cc_tui.dialogs.new_customer import split_typed
        from cc_tui.services.incidents.intake import IntakeForm

        shown = set(SECTIONS[self.request_type])

        def value(name: str, row: str | None = None) -> str | None:
            if (row or name) not in shown:
                return None
            return self.text_of(name) or None

        expected_close = None
        if "responsible" in shown and self.text_of("close-by"):
            from cc_tui.services.directory.units import parse_day

            expected_close = parse_day(self.text_of("close-by"), "expected_close")
        reason = None
        general = value("reason-general", "reason")
        if general:
            specific = value("reason-specific", "reason")
            reason = f"{general}/{specific}" if specific and "/" not in general else general
        typed = {} if self.caller is not None else split_typed(self.caller_search.text)
        if self.caller is not None:
            # Keep the number or address the caller was found by.
            typed = {
                k: v
                for k, v in split_typed(self.caller_search.picked_text or "").items()
                if k != "name"
            }
        return IntakeForm(
            request_type=self.request_type,
            customer_id=self.caller.customer.id if self.caller is not None else None,
            contact_id=self.contact_person if "contact" in shown else None,
            caller_name=typed.get("name"),
            caller_phone=typed.get("phone"),
            caller_email=typed.get("email"),
            serial=value("serial"),
            title=value("title"),
            description=value("description"),
            question=value("question"),
            answer=value("answer"),
            reason=reason,
            request_kind=value("request-kind"),
            problem_code=value("problem"),
            priority=value("priority"),
            responsible=value("responsible"),
            expected_close=expected_close,
        )

    def show_field_error(self, error: BaseException) -> None:
        """Next to the field the service named; else above the status line."""
        text = error_message(error)
        name = getattr(error, "field", None) if isinstance(error, CcError) else None
        row = ERROR_ROWS.get(str(name)) if name else None
        if name == "text":
            row = "question" if self.request_type == "information" else "description"
        shown = set(SECTIONS[self.request_type]) | {"caller"}
        if row == "close-by" and "responsible" in shown:
            shown.add("close-by")
        if row is not None and row in shown:
            self.error_line(row).show(text)
            if name != "customer":  # a refused customer is not fixed by retyping it
                self.query_one(FOCUS_OF.get(row, f"#{row}")).focus()
        else:
            self.error_line("form").show(text)

    def _focus_first_empty(self, *, after_caller: bool = False) -> None:
        """The cursor to where the agent goes next: the caller, else the first field."""
        if not after_caller and self.caller is None and not self.caller_search.text:
            self.caller_search.focus()
            return
        first = {"action": "#title", "information": "#question", "comment": "#description"}
        self.query_one(first[self.request_type]).focus()

    # -- keys --------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"save", "add_to_existing", "new_customer", "end_call", "knowledge_base"}:
            return True if self.in_call else None
        return True

    def action_cycle_type(self) -> None:
        values = [value for value, _label in REQUEST_TYPES]
        self.request_type = values[(values.index(self.request_type) + 1) % len(values)]
        self._show_type()
        if not self.in_call:
            self._show_idle()
            return
        # Another type asks for other fields: old refusals no longer apply.
        self._clear_errors()
        self.status("")
        if self.caller is not None or self.caller_search.picked_text:
            self._focus_first_empty(after_caller=True)

    def action_cycle_channel(self) -> None:
        if self.in_call:
            self.notify(
                "The channel is recorded when the call is taken. End this call (escape) "
                "to take it again on another channel.",
                title="Channel",
                severity="warning",
                markup=False,
            )
            return
        values = [value for value, _label in CHANNELS]
        self.channel = values[(values.index(self.channel) + 1) % len(values)]
        self._show_bar()
        self._show_idle()

    def action_new_customer(self) -> None:
        from cc_tui.dialogs.new_customer import NewCustomerDialog

        connection = self.connection
        if not self.in_call or connection is None:
            return

        def added(result: NewCaller | None) -> None:
            if result is None:
                self.caller_search.focus()
                return
            customer = result.customer
            self.caller_search.mark_picked(self.caller_search.text or customer.name)
            self.matched_by = "added during this call"
            self.error_line("caller").show("")
            contact_id = result.contact.id if result.contact else None
            self._load_caller(customer.id, None, contact_id=contact_id)
            self._focus_first_empty(after_caller=True)

        self.app.push_screen(
            NewCustomerDialog(
                typed=self.caller_search.text,
                default_country=connection.settings.default_country,
            ),
            added,
        )

    def action_knowledge_base(self) -> None:
        """Search the knowledge base for this call: the searches (and the article that
        answered) are recorded on the contact; escape there comes back here."""
        from cc_tui.screens.kb import KbContext, show_knowledge_base

        if not self.in_call:
            return
        if self.contact is None:
            self.status(
                "The contact is not recorded yet; the knowledge base can be searched for it "
                "once it is."
            )
            return
        general = self.text_of("reason-general")
        specific = self.text_of("reason-specific")
        reason = f"{general}/{specific}" if general and specific and "/" not in general else general
        show_knowledge_base(
            self.app,
            KbContext(
                incident_id=self.contact.id,
                text=self.caller_words() or self.text_of("title"),
                problem_code=self.text_of("problem") or None,
                reason=reason or None,
                return_mode="intake",
            ),
        )

    def action_save(self) -> None:
        if not self.in_call or self.saving:
            return
        connection = self.connection
        if connection is None:
            self.error_line("form").show("The database is not open yet.")
            return
        self._clear_errors()
        try:
            form = self.build_form()
        except CcError as error:
            self.show_field_error(error)
            return
        if self.contact_pending:
            self._save_after_contact = True
            self.status("saving as soon as the contact is recorded…")
            return
        from cc_tui.services.incidents.intake import save_call

        self.saving = True
        self.status("saving…")
        started = self.call(
            save_call,
            on_result=self._saved,
            on_error=self._not_saved,
            write=True,
            group="intake-save",
            actor=connection.actor,
            contact_id=self.contact.id if self.contact is not None else None,
            channel=self.channel,
            form=form,
            default_country=connection.settings.default_country,
            kb_search_required=connection.settings.kb_search_required,
        )
        if started is None:
            self.saving = False

    def _saved(self, result: IntakeResult) -> None:
        self.saving = False
        self.notify(
            f"{result.number} saved ({result.status.replace('_', ' ')})",
            title="Saved",
            timeout=6,
            markup=False,
        )
        self._end(result)

    def _not_saved(self, error: BaseException) -> None:
        self.saving = False
        self.show_field_error(error)
        retry = self._key("intake.save", "ctrl+s")
        if isinstance(error, Unavailable) or not isinstance(error, CcError):
            self.status(
                Content.assemble(
                    ("Not saved. ", "bold $error"),
                    f"Everything typed is kept; {retry} tries again.",
                )
            )
            show_error(self, error)
        elif getattr(error, "field", None) == "kb":
            key = self._key("intake.kb", "ctrl+f")
            self.status(
                Content.assemble(
                    ("Not saved: ", "bold $error"),
                    f"{key} searches the knowledge base for this call.",
                )
            )
        else:
            self.status(Content.assemble(("Not saved: ", "bold $error"), "see the message above."))

    def action_add_to_existing(self) -> None:
        if not self.in_call or self.saving:
            return
        connection = self.connection
        target = self._highlighted_existing()
        self._clear_errors()
        if connection is None:
            self.error_line("form").show("The database is not open yet.")
            return
        if target is None or self.caller is None:
            self.error_line("form").show(
                "No open incident chosen: identify the caller, then choose one of their open "
                "incidents on the right."
            )
            return
        table = self.existing_table
        if len(self.existing) > 1 and not table.has_focus:
            # Several open incidents: let the agent see and choose, then press again.
            table.focus()
            key = self._key("intake.add_to_existing", "ctrl+o")
            self.status(f"Choose the incident (↑↓), then {key} adds this call to it.")
            return
        if self.contact_pending:
            self.status("the contact is still being recorded; try again in a moment")
            return
        from cc_tui.services.incidents.intake import add_call_to_incident

        def added(result: IntakeResult) -> None:
            self.saving = False
            self.notify(
                f"Call added to {result.number}", title="Event added", timeout=6, markup=False
            )
            self._end(result, added_to=True)

        self.saving = True
        self.status(f"adding the call to {target.number}…")
        started = self.call(
            add_call_to_incident,
            on_result=added,
            on_error=self._not_saved,
            write=True,
            group="intake-save",
            actor=connection.actor,
            target_ref=target.id,
            text=self.caller_words(),
            channel=self.channel,
            contact_id=self.contact.id if self.contact is not None else None,
            request_type=self.request_type,
            caller_contact_id=self.contact_person,
            default_country=connection.settings.default_country,
        )
        if started is None:
            self.saving = False

    def action_end_call(self) -> None:
        if not self.in_call:
            raise SkipAction()
        if self.saving:
            return
        if not self.something_typed():
            self._abandon()
            return

        from cc_tui.dialogs.confirm import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self._abandon()

        self.app.push_screen(
            ConfirmDialog(
                "End this call without saving?",
                "The contact stays on record, marked abandoned; what you typed is discarded.",
                yes="End call",
                no="Keep typing",
            ),
            answered,
        )

    def _abandon(self) -> None:
        connection = self.connection
        if connection is None:
            self._end(None)
            return
        from cc_tui.services.incidents.intake import abandon_call

        def abandoned(result: IntakeResult) -> None:
            self.saving = False
            self._end(
                None, note=f"Call ended without saving; contact {result.number} kept as abandoned."
            )

        def refused(error: BaseException) -> None:
            self.saving = False
            show_error(self, error)

        self.saving = True
        if self.contact_pending:
            # Let the contact be recorded first; then end it.
            self.saving = False
            self.set_timer(0.2, self._abandon)
            return
        self.call(
            abandon_call,
            on_result=abandoned,
            on_error=refused,
            write=True,
            group="intake-save",
            actor=connection.actor,
            contact_id=self.contact.id if self.contact is not None else None,
            channel=self.channel,
            request_type=self.request_type,
            default_country=connection.settings.default_country,
        )

    def _end(
        self, result: IntakeResult | None, *, added_to: bool = False, note: str | None = None
    ) -> None:
        """The call is over: back to waiting for the next one."""
        self.in_call = False
        # Most calls are action requests: each call starts as one (the channel stays).
        self.request_type = "action"
        self._show_type()
        self.last_result = result
        self.last_added = added_to
        self.last_note = note
        self._clear_form()
        self._show_bar()
        self._show_idle()
        self.refresh_bindings()

    @on(Button.Pressed, "#open-last")
    def _open_last(self) -> None:
        from cc_tui.screens.incident_detail import show_incident

        if self.last_result is not None:
            show_incident(self.app, self.last_result.id)


def _visible(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent if isinstance(node.parent, Widget) else None
    return True
