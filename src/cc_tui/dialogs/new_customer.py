"""Add a new customer (and the person calling for it) without leaving the call.

The dialog calls the customer services itself, in one transaction: either the customer and
its contact person are both recorded, or neither. A refusal is shown next to the field the
service named and the dialog keeps everything typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from cc_tui.console.calls import call_service, connected, error_message
from cc_tui.errors import CcError

if TYPE_CHECKING:
    from cc_tui.services.directory.customers import NewCaller


class FieldError(Static):
    """A line under a field that takes no room while it has nothing to say; never markup."""

    DEFAULT_CSS = """
    FieldError {
        color: $error;
        height: auto;
        padding: 0 1;
    }
    FieldError.-empty {
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(Content(""), id=id, classes=f"{classes} -empty".strip())

    def show(self, text: str | Content) -> None:
        content = text if isinstance(text, Content) else Content(text)
        self.update(content)
        self.set_class(not content.plain, "-empty")


def split_typed(text: str) -> dict[str, str]:
    """Put what the agent typed in the caller field into the right field of the dialog."""
    from cc_tui.normalize import looks_like_phone

    value = text.strip()
    if not value:
        return {}
    if "@" in value:
        return {"email": value}
    if looks_like_phone(value):
        return {"phone": value}
    return {"name": value}


# (field, label, placeholder, max length); the service's field names.
CUSTOMER_FIELDS: tuple[tuple[str, str, str, int], ...] = (
    ("name", "Name", "company or person (required)", 200),
    ("phone", "Phone", "+49 30 1234567 or 030/1234567", 40),
    ("email", "E-mail", "name@example.com", 254),
    ("address", "Address", "street and number", 500),
    ("postal_code", "Postal code", "", 20),
    ("city", "City", "", 100),
)
# How the customer hears about their requests (services.notify.outbox).
NOTIFY_CHOICES: tuple[tuple[str, str], ...] = (
    ("email", "e-mail"),
    ("sms", "SMS"),
    ("none", "no messages"),
)
CONTACT_FIELDS: tuple[tuple[str, str, str, int], ...] = (
    ("contact_name", "Caller", "the person calling, if not the customer (optional)", 200),
    ("contact_phone", "Their phone", "", 40),
)


class NewCustomerDialog(ModalScreen["NewCaller | None"]):
    """Name, phone, e-mail, address; optionally the person calling. `ctrl+s` saves."""

    DEFAULT_CSS = """
    NewCustomerDialog {
        align: center middle;
        background: $background 60%;
    }
    NewCustomerDialog > #dialog {
        width: 80;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        padding: 1 2;
        border: thick $primary;
        background: $surface;
    }
    NewCustomerDialog #dialog-title {
        text-style: bold;
        margin-bottom: 1;
    }
    NewCustomerDialog .row {
        height: 1;
    }
    NewCustomerDialog .row > Label {
        width: 14;
        color: $text-muted;
    }
    NewCustomerDialog .row > Input, NewCustomerDialog .row > Select {
        width: 1fr;
    }
    NewCustomerDialog FieldError {
        margin-left: 13;
    }
    NewCustomerDialog #contact-heading {
        color: $text-muted;
        margin-top: 1;
        margin-bottom: 1;
    }
    NewCustomerDialog #dialog-buttons {
        height: auto;
        align-horizontal: right;
    }
    NewCustomerDialog #dialog-buttons Button {
        margin-left: 2;
    }
    NewCustomerDialog #dialog-hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, *, typed: str = "", default_country: str = "DE") -> None:
        super().__init__()
        self.prefill = split_typed(typed)
        self.default_country = default_country
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content("New customer"), id="dialog-title")
            for field, label, placeholder, length in CUSTOMER_FIELDS:
                yield from self._row(field, label, placeholder, length)
            with Horizontal(classes="row"):
                yield Label(Content("Notify by"))
                yield Select(
                    [(Content(text), value) for value, text in NOTIFY_CHOICES],
                    value="email",
                    allow_blank=False,
                    compact=True,
                    id="notify",
                )
            yield FieldError(id="notify-error")
            yield Static(Content("Who is calling for this customer"), id="contact-heading")
            for field, label, placeholder, length in CONTACT_FIELDS:
                yield from self._row(field, label, placeholder, length)
            yield FieldError(id="form-error")
            with Horizontal(id="dialog-buttons"):
                yield Button(Content("Cancel"), id="cancel")
                yield Button(Content("Add customer"), id="save", variant="primary")
            yield Static(Content("ctrl+s saves · esc cancels · tab moves on"), id="dialog-hint")

    def _row(self, field: str, label: str, placeholder: str, length: int) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(Content(label))
            yield Input(
                self.prefill.get(field, ""),
                placeholder=placeholder,
                max_length=length,
                id=field,
                compact=True,
            )
        yield FieldError(id=f"{field}-error")

    def on_mount(self) -> None:
        # Start where something is still missing: the name, unless it came typed.
        first = "#phone" if "name" in self.prefill else "#name"
        self.query_one(first, Input).focus()

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def show_error(self, error: BaseException) -> None:
        self.saving = False
        field = getattr(error, "field", None) if isinstance(error, CcError) else None
        target = f"#{field}-error" if field else ""
        if field and self.query(target):
            self.query_one(target, FieldError).show(error_message(error))
            self.query_one(f"#{field}").focus()
        else:
            self.query_one("#form-error", FieldError).show(error_message(error))

    def action_save(self) -> None:
        if self.saving:
            return
        for line in self.query(FieldError):
            line.show("")
        values = {field: self.value(field) or None for field, *_ in CUSTOMER_FIELDS}
        chosen = self.query_one("#notify", Select).value
        values["notify"] = chosen if isinstance(chosen, str) else "email"
        contact_name = self.value("contact_name")
        contact_phone = self.value("contact_phone") or None
        country = self.default_country
        if contact_phone and not contact_name:
            self.query_one("#contact_name-error", FieldError).show(
                "give the caller's name with their phone number"
            )
            self.query_one("#contact_name", Input).focus()
            return

        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.directory.customers import add_caller

        self.saving = True
        started = call_service(
            self,
            add_caller,
            on_result=self._done,
            on_error=self.show_error,
            write=True,
            group="dialog",
            actor=connection.actor,
            customer=values,
            contact_name=contact_name or None,
            contact_phone=contact_phone,
            default_country=country,
        )
        if started is None:
            self.saving = False

    def _done(self, result: NewCaller) -> None:
        # Not awaited: dismissing from the dialog's own message loop must not wait on it.
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()
