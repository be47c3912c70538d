"""`?`: the current screen's own keys, grouped by task, in a small dialog."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

# (group title, [(keys as shown, what they do)])
KeyGroups = list[tuple[str, list[tuple[str, str]]]]


def keys_content(groups: KeyGroups) -> Content:
    width = max((len(key) for _, rows in groups for key, _ in rows), default=1)
    lines: list[Content] = []
    for title, rows in groups:
        if not rows:
            continue
        if lines:
            lines.append(Content(""))
        lines.append(Content.styled(title, "bold"))
        lines.extend(
            Content.assemble(("  " + key.ljust(width), "bold $accent"), "  ", text)
            for key, text in rows
        )
    return Content("\n").join(lines)


class KeysDialog(ModalScreen[None]):
    """Closes with `escape`, `?` or `q`."""

    DEFAULT_CSS = """
    KeysDialog {
        align: center middle;
        background: $background 60%;
    }
    KeysDialog > #keys {
        width: 60;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        padding: 0 2;
        border: round $accent;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
    }
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, groups: KeyGroups) -> None:
        super().__init__()
        self._title = title
        self._groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys") as box:
            box.border_title = Content(f"Keys · {self._title}")
            box.border_subtitle = Content("esc or ? closes")
            yield Static(keys_content(self._groups), id="keys-text")
