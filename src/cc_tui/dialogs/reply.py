"""Reply by e-mail from the incident: To prefilled with the caller's address, the subject,
and a text that starts with the reply template's greeting and the incident's thread quoted.

Saving queues the e-mail (services.notify.replies.send_reply): an EmailOut event on the
timeline, sent by `notify send`/`notify watch`. A refusal (no address, a suppressed one, an
empty text) is shown at its field and nothing typed is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Static, TextArea

from cc_tui.console.calls import connected
from cc_tui.dialogs.form import FormDialog

if TYPE_CHECKING:
    from cc_tui.services.notify.replies import ReplyDraft


class ReplyDialog(FormDialog[Any]):
    FIELDS = ("to", "subject", "body")
    AUTO_FOCUS = "#body"
    DEFAULT_CSS = (
        FormDialog.DEFAULT_CSS
        + """
    ReplyDialog #body { height: 12; }
    /* 80x24: the whole form, recipient and buttons too, without scrolling. */
    ReplyDialog.-short #body { height: 6; }
    """
    )

    def __init__(self, *, incident_id: int, draft: ReplyDraft, sender: str | None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.draft = draft
        self.sender = sender

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(
                Content(f"Reply to the caller of {self.draft.incident}"), id="dialog-title"
            )
            yield Label(Content("To"), classes="field-label")
            yield Input(self.draft.to or "", id="to", placeholder="name@example.com")
            yield self.field_error("to")
            yield Label(Content("Subject"), classes="field-label")
            yield Input(self.draft.subject, id="subject", max_length=450)
            yield self.field_error("subject")
            yield Label(Content("Message"), classes="field-label")
            yield TextArea(self.draft.body, id="body", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("body")
            yield from self.buttons("Send")

    def on_mount(self) -> None:
        super().on_mount()
        # The cursor where the agent writes: the empty line after the greeting.
        area = self.query_one("#body", TextArea)
        lines = self.draft.greeting.split("\n")
        row = next((i for i, line in enumerate(lines) if i > 0 and not line.strip()), 0)
        area.cursor_location = (min(row + 1, max(len(lines) - 1, 0)), 0)

    def action_save(self) -> None:
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.notify.replies import send_reply

        self.run(
            send_reply,
            actor=connection.actor,
            ref=self.incident_id,
            body=self.query_one("#body", TextArea).text,
            to=self.query_one("#to", Input).value,
            subject=self.query_one("#subject", Input).value,
            sender=self.sender,
        )
