"""The intake form and its side panel (the caller's open incidents and unit).

The form owns what is typed: the caller picked and how, the codes its fields complete
from, every field, its refusals and status line. The side panel owns the open incidents
shown and the unit. The Intake screen calls the services and hands them the answers. Both
are built when the first call is taken, so the console's first frame does not wait for a
form nobody has used yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea

from cc_tui.console.calls import error_message
from cc_tui.console.local_time import local_time
from cc_tui.dialogs.new_customer import FieldError, split_typed
from cc_tui.errors import CcError
from cc_tui.statuses import status_name
from cc_tui.widgets.caller_search import CallerSearch
from cc_tui.widgets.code_picker import Choice, CodePicker
from cc_tui.widgets.list_table import ColumnSpec, ListTable
from cc_tui.widgets.unit_panel import UnitPanel

if TYPE_CHECKING:
    from textual import getters

    from cc_tui.console.app import CcTuiApp
    from cc_tui.services.directory.customers import ContactInfo, CustomerInfo
    from cc_tui.services.directory.units import UnitInfo
    from cc_tui.services.incidents.call_context import CallerContext, Catalog
    from cc_tui.services.incidents.intake import IntakeForm as CallForm
    from cc_tui.services.incidents.records import IncidentRow

# Fixed widths, so the table never measures its cells; the title takes the side panel's
# free width (a wide terminal shows whole titles).
EXISTING_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("number", "Number", 9),
    ColumnSpec("status", "Status", 11, least=8),
    ColumnSpec("title", "Title", 15, least=8, grow=1),
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
# Every row a request type may show or hide.
ROWS = (
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
)
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
# The fields whose text counts as something typed.
TYPED_FIELDS = (
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
CODE_FIELDS = (
    "reason-general",
    "reason-specific",
    "request-kind",
    "problem",
    "priority",
    "responsible",
    "serial",
)


def _row(name: str, label: str, *widgets: Widget, group: bool = False) -> ComposeResult:
    """A labelled line of the form and its error line; `group` starts a new block."""
    with Horizontal(id=f"row-{name}", classes="row -group" if group else "row"):
        yield Label(Content(label), id=f"label-{name}", classes="field-label")
        yield from widgets
    yield FieldError(id=f"{name}-error")


def _text_area(name: str) -> TextArea:
    return TextArea(id=name, soft_wrap=True, tab_behavior="focus", compact=True)


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
    def cell(value: str | None) -> Text:
        return Text(value or "–", no_wrap=True, overflow="ellipsis")

    return (cell(row.number), cell(status_name(row.status)), cell(row.title))


def visible(widget: Widget) -> bool:
    node: Widget | None = widget
    while node is not None and isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent if isinstance(node.parent, Widget) else None
    return True


class SidePanel(Vertical):
    """The caller's open incidents (one highlighted, to add the call to) and the unit."""

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[IncidentRow] = []
        self.unit: UnitInfo | None = None
        # Whether a caller is picked: only then can the call be added to one of them.
        self.can_add = False
        self.zone: tzinfo | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content("Open incidents"), id="existing-title", classes="side-title")
        table: ListTable[Text] = ListTable(id="existing", cursor_type="row", zebra_stripes=True)
        table.add_fitted_columns(EXISTING_COLUMNS)
        yield table
        yield Static(Content(""), id="existing-summary")
        yield Static(Content("Unit"), classes="side-title")
        yield UnitPanel(Content(""), id="unit-panel")

    @property
    def table(self) -> DataTable[Text]:
        return cast("DataTable[Text]", self.query_one("#existing"))

    @property
    def unit_panel(self) -> UnitPanel:
        return self.query_one("#unit-panel", UnitPanel)

    # -- open incidents ------------------------------------------------------------------

    def show_existing(self, who: str | None, rows: list[IncidentRow], *, can_add: bool) -> None:
        """The open incidents of `who` (None: nobody identified yet)."""
        table = self.table
        current = self.existing_id()
        self.rows = list(rows)
        self.can_add = can_add
        with self.app.batch_update():
            table.clear()
            for row in rows:
                table.add_row(*existing_cells(row), key=str(row.id))
            if current is not None and any(r.id == current for r in rows):
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        title = self.query_one("#existing-title", Static)
        if who is None:
            title.update(Content("Open incidents: identify the caller"))
        else:
            count = f" ({len(rows)})" if rows else ": none"
            title.update(Content.assemble("Open incidents of ", (who, "bold"), count))
        table.display = bool(rows)
        self.show_summary()

    def existing_id(self) -> int | None:
        table = self.table
        if not table.row_count or not self.rows:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def highlighted(self) -> IncidentRow | None:
        current = self.existing_id()
        return next((r for r in self.rows if r.id == current), None)

    def show_summary(self) -> None:
        summary = self.query_one("#existing-summary", Static)
        row = self.highlighted()
        if row is None:
            summary.update(Content(""))
            return
        details = " · ".join(
            p
            for p in (
                f"opened {local_time(row.opened_at, self.zone)}",
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
        if self.can_add:
            key = self.app.key_display("intake.add_to_existing", "ctrl+o")
            if len(self.rows) > 1 and not self.table.has_focus:
                lines += ["\n", (key, "bold"), " chooses the incident to add this call to"]
            else:
                lines += ["\n", (key, "bold"), f" adds this call to {row.number} · enter opens it"]
        summary.update(Content.assemble(*lines))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "existing":
            self.show_summary()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget.id == "existing":
            self.show_summary()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "existing":
            self.show_summary()

    # -- the unit ------------------------------------------------------------------------

    def show_unit(self, unit: UnitInfo | None, *, owner: int | None) -> None:
        """The unit typed (checked against the caller `owner`), or how to give one."""
        self.unit = unit
        if unit is None:
            self.unit_panel.show_note("No unit yet: type its serial number.")
        else:
            self.unit_panel.show_unit(unit, customer_id=owner)

    def unit_not_found(self, note: str) -> None:
        self.unit = None
        self.unit_panel.show_note(note)


class IntakeForm(Horizontal):
    """Every field of a call, in `tab` order, and the side panel."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # The caller picked, as loaded, and how they were identified (the card says it).
        self.caller: CallerContext | None = None
        self.matched_by: str | None = None
        self.catalog: Catalog | None = None
        # The contact persons the select offers now (label, id).
        self._contact_options: list[tuple[str, int]] | None = None

    def compose(self) -> ComposeResult:
        # Not a tab stop itself: focusing a field scrolls it into view.
        with VerticalScroll(id="intake-form", can_focus=False):
            yield CallerSearch(id="caller")
            yield Static(Content(""), id="caller-card", classes="-empty")
            yield FieldError(id="caller-error")
            yield from _row(
                "title", "Title", Input(id="title", max_length=200, compact=True), group=True
            )
            yield from _row("description", "Description", _text_area("description"))
            yield from _row("question", "Question", _text_area("question"), group=True)
            yield from _row("answer", "Answer", _text_area("answer"))
            yield from _row(
                "reason",
                "Reason",
                CodePicker(id="reason-general", placeholder="general"),
                Label(Content(" / "), classes="joiner"),
                CodePicker(id="reason-specific", placeholder="specific"),
                group=True,
            )
            yield from _row("request-kind", "Request type", CodePicker(id="request-kind"))
            yield from _row(
                "problem", "Problem code", CodePicker(id="problem", placeholder="department/…/code")
            )
            yield from _row(
                "priority",
                "Priority",
                CodePicker(id="priority", max_length=20),
                Static(Content(""), id="priority-default"),
            )
            contact: Select[int] = Select(
                [], prompt="contact person", id="contact-person", compact=True
            )
            yield from _row("contact", "Contact", contact, group=True)
            yield from _row(
                "responsible",
                "Responsible",
                CodePicker(id="responsible", placeholder="agent login"),
                Label(Content("Close by"), classes="inline-label"),
                Input(id="close-by", placeholder="YYYY-MM-DD", max_length=10, compact=True),
            )
            yield FieldError(id="close-by-error")
            yield from _row("serial", "Serial", CodePicker(id="serial", max_length=80), group=True)
            yield FieldError(id="form-error")
            yield Static(Content(""), id="form-status")
        yield SidePanel(id="intake-side")

    # -- reading the fields --------------------------------------------------------------

    @property
    def side(self) -> SidePanel:
        return self.query_one("#intake-side", SidePanel)

    @property
    def caller_search(self) -> CallerSearch:
        return self.query_one("#caller", CallerSearch)

    def picker(self, name: str) -> CodePicker:
        return self.query_one(f"#{name}", CodePicker)

    def error_line(self, row: str) -> FieldError:
        return self.query_one(f"#{row}-error", FieldError)

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

    def status(self, text: str | Content) -> None:
        self.query_one("#form-status", Static).update(
            text if isinstance(text, Content) else Content(text)
        )

    def something_typed(self) -> bool:
        if self.caller is not None or self.caller_search.text:
            return True
        return any(self.text_of(name) for name in TYPED_FIELDS) or self.contact_person is not None

    def caller_words(self, request_type: str) -> str:
        """What the caller said: the question of an information request, else the
        description (or the title when that is all there is)."""
        if request_type == "information":
            return self.text_of("question")
        return self.text_of("description") or self.text_of("title")

    def reason(self) -> str:
        """The reason as typed: GENERAL, or GENERAL/SPECIFIC."""
        general = self.text_of("reason-general")
        specific = self.text_of("reason-specific")
        return f"{general}/{specific}" if general and specific and "/" not in general else general

    def build_form(self, request_type: str) -> CallForm:
        """The visible fields as the service's form; a bad date raises a CcError."""
        from cc_tui.services.incidents.intake import IntakeForm as CallForm

        shown = set(SECTIONS[request_type])

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
        return CallForm(
            request_type=request_type,
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

    # -- the request type, refusals, the cursor -----------------------------------------

    def show_type(self, request_type: str) -> None:
        """Show the rows the request type asks for; hidden rows' refusals go."""
        shown_rows = set(SECTIONS[request_type])
        for name in ROWS:
            shown = name in shown_rows
            self.query_one(f"#row-{name}").display = shown
            if not shown:
                self.error_line(name).show("")
        if "responsible" not in shown_rows:
            self.error_line("close-by").show("")
        # Without a title above it, the text starts the block.
        self.query_one("#row-description").set_class(request_type == "comment", "-group")
        label = "Comment" if request_type == "comment" else "Description"
        self.query_one("#label-description", Static).update(Content(label))

    def clear_errors(self) -> None:
        for line in self.query(FieldError):
            line.show("")

    def show_field_error(self, error: BaseException, request_type: str) -> None:
        """Next to the field the service named; else above the status line."""
        text = error_message(error)
        name = getattr(error, "field", None) if isinstance(error, CcError) else None
        row = ERROR_ROWS.get(str(name)) if name else None
        if name == "text":
            row = "question" if request_type == "information" else "description"
        shown = set(SECTIONS[request_type]) | {"caller"}
        if row == "close-by" and "responsible" in shown:
            shown.add("close-by")
        if row is not None and row in shown:
            self.error_line(row).show(text)
            if name != "customer":  # a refused customer is not fixed by retyping it
                self.query_one(FOCUS_OF.get(row, f"#{row}")).focus()
        else:
            self.error_line("form").show(text)

    def focus_first_empty(self, request_type: str, *, after_caller: bool = False) -> None:
        """The cursor to where the agent goes next: the caller, else the first field."""
        if not after_caller and self.caller is None and not self.caller_search.text:
            self.caller_search.focus()
            return
        first = {"action": "#title", "information": "#question", "comment": "#description"}
        self.query_one(first[request_type]).focus()

    def clear(self) -> None:
        """Nothing typed, nobody picked, no refusals."""
        self.caller = None
        self.matched_by = None
        self.caller_search.reset()
        self.show_card(Content(""))
        for name in ("title", "close-by"):
            self.query_one(f"#{name}", Input).value = ""
        for name in ("description", "question", "answer"):
            self.query_one(f"#{name}", TextArea).text = ""
        for name in CODE_FIELDS:
            self.picker(name).value = ""
        self.picker("serial").set_choices([])
        self.set_contacts([], None)
        self.clear_errors()
        self.status("")

    # -- the caller ----------------------------------------------------------------------

    def show_card(self, content: Content) -> None:
        card = self.query_one("#caller-card", Static)
        card.update(content)
        card.set_class(not content.plain, "-empty")

    def show_caller(self, context: CallerContext, contact_id: int | None) -> None:
        """The picked caller: card, contact persons, their units as serial choices."""
        self.caller = context
        customer = context.customer
        self.show_card(customer_card(customer, how=self.matched_by))
        self.set_contacts(customer.contacts, contact_id)
        self.picker("serial").set_choices(
            Choice(u.serial, f"{u.item}" + (f" ({u.unit_type})" if u.unit_type else ""))
            for u in context.units
        )

    def forget_caller(self) -> None:
        self.caller = None
        self.matched_by = None
        self.show_card(Content(""))
        self.set_contacts([], None)
        self.picker("serial").set_choices([])

    def set_contacts(self, contacts: Iterable[ContactInfo], selected: int | None) -> None:
        select = cast("Select[int]", self.query_one("#contact-person"))
        contacts = list(contacts)
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

    # -- codes ---------------------------------------------------------------------------

    def show_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
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
        self.show_specifics()

    def general_changed(self, value: str) -> None:
        text = value.strip()
        known = {code.path.upper() for code in self.catalog.reasons} if self.catalog else set()
        if "/" in text and text.upper() in known:
            # A specific code taken from the list (or typed in full): split it over both
            # fields. A part typed (`HW/PR`) stays as it is, so the list keeps offering.
            general, _, specific = text.partition("/")
            self.picker("reason-general").value = general
            self.picker("reason-specific").value = specific
            if self.picker("reason-specific").input.has_focus:
                self.picker("request-kind").focus()  # both are filled: on to the next
        self.show_specifics()

    def show_specifics(self) -> None:
        if self.catalog is None:
            return
        general = self.text_of("reason-general")
        specifics = self.catalog.specifics(general) if general else []
        self.picker("reason-specific").set_choices(Choice(code, name) for code, name in specifics)

    def show_default_priority(self, unit: UnitInfo | None) -> None:
        customer = self.caller.customer if self.caller is not None else None
        found = default_priority(unit, customer, self.catalog)
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
