"""The Intake mode: where a call becomes an incident, in seconds, by keyboard.

F2 (from any mode) takes a call: the contact is recorded at once, before anything is
typed. The agent identifies the caller (the field searches as they type), sees the
caller's open incidents and unit, classifies the request and saves it (`ctrl+s`), or adds
the call as an event to one of the open incidents instead (`ctrl+o`), or ends the call
without saving (`escape`: the contact stays, marked abandoned).

The rules are the services'; this screen only shows their answers. A refused or failed
save changes nothing on screen but the message: everything typed stays for the retry.

The screen holds the call (its progress, contact, channel and request type) and calls
the services; the form (`widgets.intake_form`) owns what is typed, the caller and the
codes, its side panel the open incidents and the unit, the contact bar shows the call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.actions import SkipAction
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Static

from cc_tui import clock
from cc_tui.console.calls import Connection, error_message, show_error
from cc_tui.console.local_time import display_zone
from cc_tui.console.messages import ChangeBatch
from cc_tui.errors import CcError, NotFound, Unavailable
from cc_tui.screens.base import ConsoleScreen
from cc_tui.statuses import status_name
from cc_tui.widgets.contact_bar import CHANNELS, REQUEST_TYPES, CallProgress, ContactBar
from cc_tui.widgets.unit_panel import BlockBanner

# The form's widgets (DataTable, TextArea, the pickers) are imported with the form, when
# the first call is taken: the console's first frame does not wait for them.
if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from textual.timer import Timer
    from textual.widgets import DataTable

    from cc_tui.dialogs.new_customer import FieldError
    from cc_tui.services.cti.calls import TakenCall
    from cc_tui.services.directory.customers import CustomerMatch, NewCaller
    from cc_tui.services.directory.units import UnitInfo
    from cc_tui.services.incidents.call_context import CallerContext, Catalog
    from cc_tui.services.incidents.intake import (
        CallerSeen,
        ContactDraft,
        IntakeForm,
        IntakeResult,
    )
    from cc_tui.services.incidents.records import IncidentRow
    from cc_tui.widgets.caller_search import CallerSearch
    from cc_tui.widgets.code_picker import CodePicker
    from cc_tui.widgets.intake_form import IntakeForm as FormWidget
    from cc_tui.widgets.intake_form import SidePanel

# Wait this long after the agent stops moving through matches or typing a serial number.
PREVIEW_SECONDS = 0.12
SERIAL_SECONDS = 0.3
# Changes to these entities can alter the picked caller's card, unit or open incidents.
CALLER_ENTITIES = ("customer", "contact", "unit", "contract", "subcontract")
CATALOG_ENTITIES = ("code", "priority", "agent")


@dataclass(frozen=True)
class CallEnd:
    """How the last call ended, for the waiting screen."""

    # The incident saved, or the one the call was added to; None when none is left to open.
    result: IntakeResult | None
    added: bool = False
    note: str | None = None


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
        self.progress = CallProgress.IDLE
        self.channel = "phone"
        self.request_type = "action"
        self.contact: ContactDraft | None = None
        self.call_started: datetime | None = None
        self.catalog: Catalog | None = None
        self.last_call = CallEnd(None)
        # The form is built when the first call is taken.
        self._form: FormWidget | None = None
        self._preview_timer: Timer | None = None
        self._serial_timer: Timer | None = None
        self._zone: tzinfo | None = None
        # Why the service refused this call's caller (a blocked customer), if it did.
        self._refusal: str | None = None
        # The agent is choosing (or chose) the open incident to add this call to.
        self._choosing = False
        # Where the cursor was when the knowledge base was opened.
        self._before_kb: Widget | None = None

    # -- the call --------------------------------------------------------------------------

    @property
    def in_call(self) -> bool:
        return self.progress.in_call

    @property
    def last_result(self) -> IntakeResult | None:
        return self.last_call.result

    @property
    def last_added(self) -> bool:
        """The last call went onto an existing incident (not a new one)."""
        return self.last_call.added

    # -- layout ----------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        yield ContactBar(id="contact-bar")
        yield BlockBanner(id="banner")
        with Vertical(id="intake-idle"):
            yield Static(Content(""), id="idle-text")
            yield Button(Content(""), id="open-last", variant="primary")

    async def _ensure_form(self) -> None:
        """Build the form the first time a call is taken."""
        if self._form is not None:
            return
        from cc_tui.widgets.intake_form import IntakeForm as FormWidget

        form = FormWidget(id="intake-body")
        await self.mount(form, after="#intake-idle")
        self._form = form
        form.side.zone = self._zone
        if self.catalog is not None:
            self._got_catalog(self.catalog)
        self._show_type()
        self._clear_form()

    # -- the form's parts --------------------------------------------------------------------

    @property
    def form(self) -> FormWidget:
        assert self._form is not None, "the form is built when the first call is taken"
        return self._form

    @property
    def side(self) -> SidePanel:
        return self.form.side

    @property
    def caller(self) -> CallerContext | None:
        return self._form.caller if self._form is not None else None

    @property
    def unit(self) -> UnitInfo | None:
        return self._form.side.unit if self._form is not None else None

    @property
    def caller_search(self) -> CallerSearch:
        return self.form.caller_search

    @property
    def existing_table(self) -> DataTable:
        return self.side.table

    def picker(self, name: str) -> CodePicker:
        return self.form.picker(name)

    def error_line(self, row: str) -> FieldError:
        return self.form.error_line(row)

    def text_of(self, name: str) -> str:
        return self.form.text_of(name)

    @property
    def contact_person(self) -> int | None:
        return self.form.contact_person

    def status(self, text: str | Content) -> None:
        self.form.status(text)

    def caller_words(self) -> str:
        return self.form.caller_words(self.request_type)

    def _highlighted_existing(self) -> IncidentRow | None:
        return self.side.highlighted()

    def _key(self, binding_id: str, default: str) -> str:
        return self.app.key_display(binding_id, default)

    # -- start -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self._show_bar()
        self._show_type()
        self._show_idle()

    def database_ready(self, connection: Connection) -> None:
        self._zone = display_zone(connection.settings)
        if self._form is not None:
            self.side.zone = self._zone
        self._load_catalog()
        if self.progress is CallProgress.IN_CALL and self.contact is None:
            self._open_contact()
        self._show_idle()

    def _load_catalog(self) -> None:
        from cc_tui.services.incidents.call_context import code_catalog

        self.call(code_catalog, on_result=self._got_catalog, group="intake-catalog")

    def _got_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        if self._form is None:
            return  # applied when the form is built
        self.form.show_catalog(catalog)
        self._show_default_priority()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches(*CATALOG_ENTITIES):
            self._load_catalog()
        caller = self.caller
        if self.in_call and caller is not None and self._touches_caller(caller, batch):
            self._load_caller(caller.customer.id, self.unit.id if self.unit else None)

    def _touches_caller(self, caller: CallerContext, batch: ChangeBatch) -> bool:
        """Whether others' work may have changed what is shown of the caller: their card
        or flag, contacts, units, an open incident shown, or a new incident (maybe theirs)."""
        customer_id = caller.customer.id
        shown = {row.id for row in self.side.rows}
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

    # -- taking a call -----------------------------------------------------------------------

    def take_call(self) -> None:
        """The intake key: start a contact, or go back to the one in progress."""
        self.call_later(self._take_call)

    async def _take_call(self) -> None:
        if self.in_call:
            self._focus_first_empty()
            return
        await self._ensure_form()
        self._clear_form()
        self.progress = CallProgress.IN_CALL
        self.last_call = CallEnd(None)
        # When the call began: stored as its start even if the database answers only later.
        self.call_started = clock.now()
        self._show_idle()
        self._show_bar()
        self.refresh_bindings()
        self.caller_search.focus()
        self._open_contact()

    def take_phone_call(self, taken: TakenCall) -> None:
        """A ringing call taken from its pop: the contact is recorded already (channel CTI);
        the caller is identified by number, or the number is filled in to search or add."""
        self.call_later(self._take_phone_call, taken)

    async def _take_phone_call(self, taken: TakenCall) -> None:
        if self.in_call:
            return
        await self._ensure_form()
        self._clear_form()
        self.channel = "cti"
        self.progress = CallProgress.IN_CALL
        self.last_call = CallEnd(None)
        self.call_started = clock.now()
        self.contact = taken.contact
        self._show_idle()
        self._show_bar()
        self.refresh_bindings()
        if taken.customer_id is None:
            self.caller_search.input.value = taken.number
            self.caller_search.focus()
            return
        self.caller_search.mark_picked(taken.number)
        self.form.matched_by = "found by phone"
        self._load_caller(taken.customer_id, None, contact_id=taken.contact_id)
        self._focus_first_empty(after_caller=True)

    def _open_contact(self) -> None:
        connection = self.connection
        if connection is None:
            self.status("The contact will be recorded as soon as the database is open.")
            return
        from cc_tui.services.incidents.intake import open_contact

        self.progress = CallProgress.RECORDING
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
            started_at=self.call_started,
        )

    def _recorded(self) -> bool:
        """The contact's recording ended; whether save was pressed meanwhile."""
        save = self.progress is CallProgress.SAVE_WHEN_RECORDED
        if self.progress.recording:
            self.progress = CallProgress.IN_CALL
        return save

    def _contact_opened(self, draft: ContactDraft) -> None:
        if not self.in_call:
            return
        save = self._recorded()
        self.contact = draft
        self._show_bar()
        if save:
            self.action_save()

    def _contact_failed(self, error: BaseException) -> None:
        save = self._recorded()
        self._show_bar()
        if self._form is not None:
            self.status(
                Content.assemble(
                    ("Contact not recorded yet: ", "bold"),
                    error_message(error),
                    " — keep typing; it is recorded when you save.",
                )
            )
        if save:
            self.action_save()

    def _show_bar(self) -> None:
        bar = self.query_one("#contact-bar", ContactBar)
        number = self.contact.number if self.contact is not None else None
        bar.show_call(self.progress, number, self.channel)

    def _show_type(self) -> None:
        self.query_one("#contact-bar", ContactBar).show_type(self.request_type)
        self._show_banner()
        if self._form is None:
            return
        self.form.show_type(self.request_type)
        focused = self.focused
        from cc_tui.widgets.intake_form import visible

        if self.in_call and (focused is None or not visible(focused)):
            self._focus_first_empty()

    def _show_idle(self) -> None:
        self.query_one("#intake-idle").display = not self.in_call
        if self._form is not None:
            self._form.display = self.in_call
        if self.in_call:
            return
        take = self._key("mode.intake", "f2")
        channel = self._key("intake.channel", "ctrl+l")
        rtype = self._key("intake.type", "ctrl+t")
        button = self.query_one("#open-last", Button)
        lines: list[Content | str | tuple[str, str]] = []
        result = self.last_call.result
        if result is not None:
            if self.last_call.added:
                lines += ["This call was added to ", (result.number, "bold"), " as an event.\n"]
            else:
                status = status_name(result.status)
                lines += ["Saved ", (result.number, "bold"), f" ({status}).\n"]
                for warning in result.warnings:
                    lines += [(warning, "$warning"), "\n"]
            lines.append("\n")
        elif self.last_call.note:
            lines += [self.last_call.note, "\n\n"]
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

    # -- the caller --------------------------------------------------------------------------

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
            self._show_existing(match.name, [])
            return
        self._preview_timer = self.set_timer(PREVIEW_SECONDS, lambda: self._preview(match))

    def _preview(self, match: CustomerMatch) -> None:
        """The open incidents of the match the agent is on, while still choosing."""
        self._preview_timer = None
        from cc_tui.services.incidents.intake import existing_incidents

        def shown(rows: list[IncidentRow]) -> None:
            current = self.caller_search.highlighted
            if self.caller is None and current and current.customer_id == match.customer_id:
                self._show_existing(match.name, rows)

        self.call(
            existing_incidents,
            on_result=shown,
            group="intake-preview",
            customer_id=match.customer_id,
        )

    def on_caller_search_picked(self, event: CallerSearch.Picked) -> None:
        match = event.match
        self.form.matched_by = f"found by {match.matched_by}" + (
            f" {match.unit_serial}" if match.unit_serial else ""
        )
        self.error_line("caller").show("")
        if match.unit_serial:
            self.picker("serial").value = match.unit_serial
        self._load_caller(match.customer_id, match.unit_id, contact_id=match.contact_id)
        self.form.show_card(Content.assemble((match.name, "bold"), ("  loading…", "dim")))
        self._focus_first_empty(after_caller=True)

    def on_caller_search_unpicked(self) -> None:
        self.form.forget_caller()
        if self.unit is not None and not self.text_of("serial"):
            self._show_unit(None)
        self._show_banner()
        self._show_existing(None, [])
        self._show_default_priority()

    def _load_caller(
        self, customer_id: int, unit_id: int | None, *, contact_id: int | None = None
    ) -> None:
        from cc_tui.services.incidents.call_context import caller_context

        keep_contact = contact_id if contact_id is not None else self.contact_person

        def loaded(context: CallerContext) -> None:
            if not self.in_call:
                return
            self._apply_caller(context, keep_contact)

        self.call(
            caller_context,
            on_result=loaded,
            group="intake-caller",
            customer_id=customer_id,
            unit_id=unit_id,
        )

    def _apply_caller(self, context: CallerContext, contact_id: int | None) -> None:
        self.form.show_caller(context, contact_id)
        if context.unit is not None:
            self._show_unit(context.unit)
        elif self.unit is not None:
            self._show_unit(self.unit)  # re-check its owner against the new caller
        self._show_banner()
        self._show_existing(context.customer.name, context.incidents)
        self._show_default_priority()

    def _show_banner(self) -> None:
        banner = self.query_one("#banner", BlockBanner)
        caller = self.caller
        if not self.in_call or caller is None:
            banner.hide()
            return
        customer = caller.customer
        banner.show_flag(
            customer.block_level,
            customer.block_reason,
            customer.name,
            action=self.request_type == "action",
        )

    # -- open incidents ----------------------------------------------------------------------

    def _show_existing(self, who: str | None, rows: list[IncidentRow]) -> None:
        self.side.show_existing(who, rows, can_add=self.caller is not None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from cc_tui.screens.incident_detail import show_incident

        if event.data_table.id != "existing" or event.row_key.value is None:
            return
        row = self._highlighted_existing()
        if self._choosing and self.in_call and row is not None:
            self._write_call(row)  # chosen for this call: now what the caller said
            return
        show_incident(self.app, int(event.row_key.value))

    # -- the unit ----------------------------------------------------------------------------

    def on_code_picker_changed(self, event: CodePicker.Changed) -> None:
        if event.picker.id == "serial":
            self._serial_changed()
        elif event.picker.id == "reason-general":
            self.form.general_changed(event.value)

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
                self.form.matched_by = f"found by serial {unit.serial}"
                self._load_caller(unit.customer_id, unit.id)

        def missing(error: BaseException) -> None:
            if self.text_of("serial").upper() != serial.upper():
                return
            if isinstance(error, NotFound):
                self.side.unit_not_found(error.message)
                self._show_default_priority()
            else:
                show_error(self, error)

        self.call(
            unit_by_serial, on_result=found, on_error=missing, group="intake-unit", serial=serial
        )

    def _show_unit(self, unit: UnitInfo | None) -> None:
        owner = self.caller.customer.id if self.caller is not None else None
        self.side.show_unit(unit, owner=owner)
        self._show_default_priority()

    def _show_default_priority(self) -> None:
        self.form.show_default_priority(self.unit)

    # -- the form ----------------------------------------------------------------------------

    def _clear_form(self) -> None:
        self.contact = None
        self._refusal = None
        self._choosing = False
        self.form.clear()
        self._show_unit(None)
        self._show_existing(None, [])
        self.form.show_specifics()
        self._show_banner()

    def something_typed(self) -> bool:
        return self.form.something_typed()

    def build_form(self) -> IntakeForm:
        """The visible fields as the service's form; a bad date raises a CcError."""
        return self.form.build_form(self.request_type)

    def show_field_error(self, error: BaseException) -> None:
        self.form.show_field_error(error, self.request_type)

    def _focus_first_empty(self, *, after_caller: bool = False) -> None:
        self.form.focus_first_empty(self.request_type, after_caller=after_caller)

    # -- keys --------------------------------------------------------------------------------

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
        self.form.clear_errors()
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
            self.form.matched_by = "added during this call"
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
        reason = self.form.reason()
        # The question of an information request, else the title: searched at once.
        if self.request_type == "information":
            query = self.text_of("question")
        else:
            query = self.text_of("title") or self.caller_words()
        self._before_kb = self.focused
        show_knowledge_base(
            self.app,
            KbContext(
                incident_id=self.contact.id,
                text=self.caller_words() or self.text_of("title"),
                problem_code=self.text_of("problem") or None,
                reason=reason or None,
                return_mode="intake",
                query=query,
            ),
        )

    def on_screen_resume(self) -> None:
        # Back from the knowledge base: the cursor where the agent left it.
        before, self._before_kb = self._before_kb, None
        if before is not None and before.is_attached and self.in_call:
            before.focus()

    def use_kb_answer(self, contact_id: int, answer: str) -> None:
        """The article the agent marked in the knowledge base, for this call: it goes into
        the Answer (after what is there already), and the cursor with it."""
        if not self.in_call or self.contact is None or self.contact.id != contact_id:
            return
        from textual.widgets import TextArea

        if self.request_type != "information":
            self.status(f"Answered from the knowledge base: {answer}")
            return
        area = self.query_one("#answer", TextArea)
        self._before_kb = None  # the cursor goes to the Answer, not back where it was
        current = area.text.rstrip()
        area.text = f"{current}\n{answer}" if current else answer
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        if not self.in_call or self.progress is CallProgress.SAVING:
            return
        connection = self.connection
        if connection is None:
            self.error_line("form").show("The database is not open yet.")
            return
        self.form.clear_errors()
        try:
            form = self.build_form()
        except CcError as error:
            self.show_field_error(error)
            return
        if self.progress.recording:
            self.progress = CallProgress.SAVE_WHEN_RECORDED
            self.status("saving as soon as the contact is recorded…")
            return
        from cc_tui.services.incidents.intake import save_call

        self.progress = CallProgress.SAVING
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
            started_at=self.call_started,
        )
        if started is None:
            self.progress = CallProgress.IN_CALL

    def _saved(self, result: IntakeResult) -> None:
        self.progress = CallProgress.IN_CALL
        self.notify(
            f"{result.number} saved ({status_name(result.status)})",
            title="Saved",
            timeout=6,
            markup=False,
        )
        self._end(CallEnd(result))

    def _not_saved(self, error: BaseException) -> None:
        self.progress = CallProgress.IN_CALL
        if isinstance(error, CcError) and getattr(error, "field", None) == "customer":
            self._refusal = error_message(error)  # kept on the contact if the call ends
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
        """Choose the open incident first (with several, the list takes the cursor: enter
        or this key again), then write what the caller said in a dialog."""
        if not self.in_call or self.progress is CallProgress.SAVING:
            return
        target = self._highlighted_existing()
        self.form.clear_errors()
        if self.connection is None:
            self.error_line("form").show("The database is not open yet.")
            return
        if target is None or self.caller is None:
            self.error_line("form").show(
                "No open incident chosen: identify the caller, then choose one of their open "
                "incidents on the right."
            )
            return
        table = self.existing_table
        if len(self.side.rows) > 1 and not table.has_focus and not self._choosing:
            # Several open incidents: let the agent see and choose first.
            self._choosing = True
            table.focus()
            key = self._key("intake.add_to_existing", "ctrl+o")
            self.status(f"Choose the incident (↑↓), then enter or {key} to write the call.")
            return
        self._write_call(target)

    def _write_call(self, target: IncidentRow) -> None:
        from cc_tui.dialogs.incident import AddCallDialog

        connection = self.connection
        if connection is None:
            return
        if self.progress.recording:
            self.status("the contact is still being recorded; try again in a moment")
            return
        self._choosing = True  # the choice stays while the dialog is open and after it
        self.status(f"{target.number} chosen: write what the caller said.")
        before = self.focused

        def done(result: IntakeResult | None) -> None:
            if result is None:
                # Back to the call: the incident stays chosen (highlighted) for the next try.
                if before is not None and before.is_attached:
                    before.focus()
                return
            self._choosing = False
            self.notify(
                f"Call added to {result.number}", title="Event added", timeout=6, markup=False
            )
            self._end(CallEnd(result, added=True))

        self.app.push_screen(
            AddCallDialog(
                number=target.number,
                title=target.title,
                text=self.caller_words(),
                arguments={
                    "actor": connection.actor,
                    "target_ref": target.id,
                    "channel": self.channel,
                    "contact_id": self.contact.id if self.contact is not None else None,
                    "request_type": self.request_type,
                    "caller_contact_id": self.contact_person,
                    "default_country": connection.settings.default_country,
                    "started_at": self.call_started,
                },
            ),
            done,
        )

    def action_end_call(self) -> None:
        if not self.in_call:
            raise SkipAction()
        if self.progress is CallProgress.SAVING:
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
            self._end(CallEnd(None))
            return
        if self.progress.recording:
            # Let the contact be recorded first; then end it.
            self.set_timer(0.2, self._abandon)
            return
        from cc_tui.services.incidents.intake import abandon_call

        def abandoned(result: IntakeResult) -> None:
            self.progress = CallProgress.IN_CALL
            note = f"Call ended without saving; contact {result.number} kept as abandoned."
            self._end(CallEnd(None, note=note))

        def refused(error: BaseException) -> None:
            self.progress = CallProgress.IN_CALL
            show_error(self, error)

        self.progress = CallProgress.SAVING
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
            started_at=self.call_started,
            caller=self._caller_seen(),
            note=self._why_unsaved(),
        )

    def _caller_seen(self) -> CallerSeen | None:
        """Who called, as far as identified: kept on the abandoned contact."""
        from cc_tui.dialogs.new_customer import split_typed
        from cc_tui.services.incidents.intake import CallerSeen

        if self._form is None:
            return None
        search = self.caller_search
        typed = split_typed(search.picked_text or search.text or "")
        caller = self.caller
        if caller is None:
            if not typed:
                return None
            return CallerSeen(
                name=typed.get("name"), phone=typed.get("phone"), email=typed.get("email")
            )
        customer = caller.customer
        return CallerSeen(
            customer_id=customer.id,
            contact_id=self.contact_person,
            phone=typed.get("phone") or customer.phone,
            email=typed.get("email") or customer.email,
        )

    def _why_unsaved(self) -> str | None:
        """The refusal that ended the call, or the block shown for the caller."""
        if self._refusal:
            return self._refusal
        caller = self.caller
        if caller is not None and caller.customer.block_level == "block":
            return f"customer blocked: {caller.customer.block_reason or 'no reason given'}"
        return None

    def _end(self, end: CallEnd) -> None:
        """The call is over: back to waiting for the next one."""
        self.progress = CallProgress.IDLE
        # Most calls are action requests: each call starts as one (the channel stays).
        self.request_type = "action"
        self._show_type()
        self.last_call = end
        if self._form is not None:
            self._clear_form()
        self._show_bar()
        self._show_idle()
        self.refresh_bindings()

    @on(Button.Pressed, "#open-last")
    def _open_last(self) -> None:
        from cc_tui.screens.incident_detail import show_incident

        if self.last_call.result is not None:
            show_incident(self.app, self.last_call.result.id)
