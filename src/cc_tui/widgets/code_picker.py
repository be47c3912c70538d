"""A one-line field that completes from a list as you type: codes, logins, serial numbers.

The candidates are given by the screen (loaded once in a worker); filtering happens here,
in memory, so each keystroke costs no database round trip. Free text stays allowed: the
service that receives the value decides whether it is valid and says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from cc_tui.normalize import fold

# Candidates shown at once; the list scrolls past that.
SHOWN = 8


@dataclass(frozen=True)
class Choice:
    """One candidate: the value that goes into the field, and a name to recognise it by."""

    value: str
    label: str = ""


def rank(choice: Choice, text: str) -> int | None:
    """How well `choice` matches typed `text` (lower is better); None: not at all."""
    if not text:
        return 0
    upper = text.upper()
    value = choice.value.upper()
    if value.startswith(upper):
        return 0
    if any(part.startswith(upper) for part in value.split("/")[1:]):
        return 1
    folded = fold(text)
    label = fold(choice.label)
    if label.startswith(folded) or any(word.startswith(folded) for word in label.split()):
        return 2
    if folded in label or upper in value:
        return 3
    return None


def matching(choices: Sequence[Choice], text: str) -> list[Choice]:
    """Candidates for `text`, best first, in their given order within a rank."""
    ranked = [(r, i, c) for i, c in enumerate(choices) if (r := rank(c, text.strip())) is not None]
    return [c for _r, _i, c in sorted(ranked, key=lambda e: (e[0], e[1]))]


class CodePicker(Widget):
    """An input with a drop-down of matching candidates.

    `down`/`up` move through the candidates (and open the list), `enter` takes the
    highlighted one and moves on, `tab` takes it when the text typed is not a value
    already, `escape` closes the list.
    """

    DEFAULT_CSS = """
    CodePicker {
        height: auto;
        width: 1fr;
    }
    CodePicker > Input {
        width: 1fr;
    }
    CodePicker > OptionList {
        overlay: screen;
        constrain: none inside;
        display: none;
        width: auto;
        min-width: 30;
        max-width: 80;
        height: auto;
        max-height: 10;
        border: tall $primary;
        background: $panel;
        padding: 0;
    }
    CodePicker.-open > OptionList {
        display: block;
    }
    """

    BINDINGS = [
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("tab", "take_and_next", "Take", show=False),
        Binding("escape", "close", "Close list", show=False),
    ]

    @dataclass
    class Changed(Message):
        """The agent changed the value (typed, or took a candidate); not sent for values
        set by code."""

        picker: CodePicker
        value: str

        @property
        def control(self) -> CodePicker:
            return self.picker

    def __init__(
        self,
        *,
        placeholder: str = "",
        choices: Iterable[Choice] = (),
        max_length: int = 0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._placeholder = placeholder
        self._max_length = max_length
        self.choices: list[Choice] = list(choices)
        self._shown: list[Choice] = []
        # A value set by code, not typed: it must not open the list.
        self._set_by_code: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self._placeholder, max_length=self._max_length, compact=True)
        options = OptionList()
        options.can_focus = False
        yield options

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        if text == self.input.value:
            return
        self._set_by_code = text
        self.input.value = text
        self.input.cursor_position = len(text)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def focus(self, scroll_visible: bool = True) -> CodePicker:
        self.input.focus(scroll_visible)
        return self

    def set_choices(self, choices: Iterable[Choice]) -> None:
        self.choices = list(choices)
        if self.is_open:
            self._show(self.value)

    # -- the list ----------------------------------------------------------------------------

    def _show(self, text: str) -> None:
        found = matching(self.choices, text)
        self._shown = found
        options = self.options
        options.clear_options()
        options.add_options(
            Option(Content.assemble((c.value, "bold"), "  ", (c.label, "dim"))) for c in found[:100]
        )
        if found:
            options.highlighted = 0
        self.set_class(bool(found), "-open")

    def close(self) -> None:
        self.remove_class("-open")

    def _take(self, index: int | None) -> bool:
        if index is None or not (0 <= index < len(self._shown)):
            return False
        self.value = self._shown[index].value
        self.close()
        self.post_message(self.Changed(self, self.value))
        return True

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._set_by_code is not None and event.value == self._set_by_code:
            self._set_by_code = None  # set by code: whoever set it knows
            return
        self._set_by_code = None
        if self.input.has_focus:
            self._show(event.value)
        self.post_message(self.Changed(self, event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.is_open:
            self._take(self.options.highlighted)
        self.screen.focus_next()

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._take(event.option_index)
        self.input.focus()

    def on_descendant_blur(self) -> None:
        self.close()

    # -- keys --------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if not self.is_open:
            self._show(self.value if self.value not in self.values() else "")
            return
        options = self.options
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_take_and_next(self) -> None:
        if self.is_open and self.value.strip() and self.value.upper() not in self.values():
            self._take(self.options.highlighted)
        self.close()
        self.screen.focus_next()

    def action_close(self) -> None:
        if not self.is_open:
            raise SkipAction()  # let the screen have escape
        self.close()

    def values(self) -> set[str]:
        return {c.value.upper() for c in self.choices}
