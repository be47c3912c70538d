"""Save an e-mail attachment of the incident to a file (the incident screen's `a`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from cc_tui.dialogs.form import FormDialog


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


class SaveAttachmentDialog(FormDialog[Any]):
    """Which attachment (when the message had several) and the file to write."""

    FIELDS = ("attachment", "path")

    def __init__(self, *, incident_id: int, number: str, files: list[dict[str, Any]]) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.files = files

    def compose(self) -> ComposeResult:
        first = self.files[0]
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Save an attachment of {self.number}"), id="dialog-title")
            yield Label(Content("Attachment"))
            yield Select(
                [
                    (f"{f['filename']} ({size_text(int(f['size']))})", int(f["id"]))
                    for f in self.files
                ],
                value=int(first["id"]),
                allow_blank=False,
                id="attachment",
            )
            yield self.field_error("attachment")
            yield Label(Content("Save to"))
            yield Input(str(Path.cwd() / str(first["filename"])), id="path")
            yield self.field_error("path")
            yield from self.buttons("Save file")

    def on_select_changed(self, event: Select.Changed) -> None:
        # The suggested file name follows the chosen attachment.
        chosen = next((f for f in self.files if f["id"] == event.value), None)
        path = self.query_one("#path", Input)
        if chosen is not None:
            path.value = str(Path(path.value).parent / str(chosen["filename"]))

    def action_save(self) -> None:
        from cc_tui.services.mail.intake import save_attachment

        chosen = self.query_one("#attachment", Select).value
        if not isinstance(chosen, int):
            return
        self.run(
            save_attachment,
            incident_id=self.incident_id,
            attachment_id=chosen,
            path=self.query_one("#path", Input).value,
        )
