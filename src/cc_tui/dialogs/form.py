"""The base of the console's form dialogs: fields, a message line for the service's answer,
`ctrl+s` to send and `escape` to cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from cc_tui.console.calls import call_service, error_message
from cc_tui.errors import CcError

if TYPE_CHECKING:
    from sqlmodel import Session


DIALOG_CSS = """
FormDialog {
    align: center middle;
    background: $background 60%;
}
FormDialog > #dialog {
    width: 84;
    max-width: 95%;
    height: auto;
    max-height: 95%;
    padding: 1 2;
    border: thick $primary;
    background: $surface;
}
FormDialog #dialog-title {
    text-style: bold;
    margin-bottom: 1;
}
FormDialog #dialog-context {
    color: $text-muted;
    margin-bottom: 1;
}
FormDialog .field-label {
    margin-top: 1;
    color: $text-muted;
}
FormDialog .field-error {
    color: $error;
    height: auto;
}
FormDialog .field-error.-empty {
    display: none;
}
FormDialog TextArea {
    height: 5;
}
FormDialog #form-error {
    color: $error;
    margin-top: 1;
}
FormDialog #form-error.-empty {
    display: none;
}
FormDialog #dialog-buttons {
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}
FormDialog #dialog-buttons Button {
    margin-left: 2;
}
FormDialog #dialog-hint {
    color: $text-muted;
    margin-top: 1;
}
/* A short terminal (80x24): no blank lines between the fields and lower text boxes, so
   that a form such as Solve shows its title, every field and its buttons without
   scrolling. */
FormDialog.-short > #dialog {
    padding: 0 2;
}
FormDialog.-short #dialog-title,
FormDialog.-short #dialog-context {
    margin-bottom: 0;
}
FormDialog.-short .field-label,
FormDialog.-short #dialog-buttons,
FormDialog.-short #dialog-hint,
FormDialog.-short #form-error {
    margin-top: 0;
}
FormDialog.-short TextArea {
    height: 4;
}
"""
# Under this many rows a form drops its blank lines (the `-short` class).
SHORT_ROWS = 30


T = TypeVar("T")
P = ParamSpec("P")


class MessageLine(Static):
    """A line that takes no room while it has nothing to say; its text is never markup."""

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(Content(""), id=id, classes=f"{classes} -empty".strip())

    def show(self, content: Content | str) -> None:
        content = content if isinstance(content, Content) else Content(content)
        self.update(content)
        self.set_class(not content.plain, "-empty")


class FormDialog(ModalScreen[T]):
    """A dialog whose save button runs one service call."""

    DEFAULT_CSS = DIALOG_CSS
    VERTICAL_BREAKPOINTS = [
        (0, "-short"),
        (SHORT_ROWS, "-tall"),
    ]
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    # Field names the service may report, in the order they appear.
    FIELDS: tuple[str, ...] = ()  # an article's dialog adds its kind's field per instance
    # Service field names that are shown at another field.
    FIELD_ALIASES: ClassVar[dict[str, str]] = {}
    saving = False

    def field_error(self, name: str) -> MessageLine:
        return MessageLine(id=f"{name}-error", classes="field-error")

    def buttons(self, save_label: str) -> ComposeResult:
        yield MessageLine(id="form-error")
        with Horizontal(id="dialog-buttons"):
            yield Button(Content("Cancel"), id="cancel")
            yield Button(Content(save_label), id="save", variant="primary")
        yield Static(Content("ctrl+s saves · esc cancels · tab moves on"), id="dialog-hint")

    def clear_errors(self) -> None:
        for line in self.query(MessageLine):
            line.show("")

    def show_error(self, error: BaseException) -> None:
        """Next to the field the service named, else above the buttons."""
        self.saving = False
        text = Content(error_message(error))
        field = getattr(error, "field", None) if isinstance(error, CcError) else None
        field = self.FIELD_ALIASES.get(str(field), str(field)) if field else None
        if field in self.FIELDS:
            self.query_one(f"#{field}-error", MessageLine).show(text)
            self.query_one(f"#{field}").focus()
        else:
            self.query_one("#form-error", MessageLine).show(text)

    def run(
        self, service: Callable[Concatenate[Session, P], Any], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Save: `service(session, **kwargs)` in one transaction; its answer closes the
        dialog, a refusal shows next to the field it names."""
        if self.saving:
            return
        self.saving = True
        self.clear_errors()
        started = call_service(
            self, service, self._finish, self.show_error, True, "dialog", True, *args, **kwargs
        )
        if started is None:
            self.saving = False

    def _finish(self, result: Any) -> None:
        # Not awaited: dismissing from the dialog's own message loop must not wait on it.
        self.dismiss(result)

    def action_save(self) -> None:
        raise NotImplementedError

    def on_mount(self) -> None:
        # What the fields held when the dialog opened: escape asks before throwing typing away.
        self._opened_with = self._typed()

    def _typed(self) -> list[str]:
        return [
            area.text if isinstance(area, TextArea) else area.value
            for area in self.query("Input, TextArea").results()
            if isinstance(area, Input | TextArea)
        ]

    def has_typed_text(self) -> bool:
        return self._typed() != getattr(self, "_opened_with", self._typed())

    def action_cancel(self) -> None:
        if not self.has_typed_text():
            self.dismiss(None)
            return
        from cc_tui.dialogs.confirm import ConfirmDialog

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmDialog(
                "Discard what you typed?",
                "The dialog closes and what you typed in it is lost.",
                yes="Discard",
                no="Keep typing",
            ),
            answered,
        )

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
