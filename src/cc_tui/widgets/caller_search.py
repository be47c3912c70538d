"""The caller field: type a phone number, name, e-mail, customer or serial number and the
matching customers appear as you type; `up`/`down` choose, `enter` picks.

Each pause in typing runs one look-up in a thread worker. The workers are exclusive and
every answer names the text it was for, so a slow answer to an older text never replaces
the answer to what is in the field now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static

from cc_tui.console.calls import call_service, show_error

if TYPE_CHECKING:
    from textual import getters

    from cc_tui.console.app import CcTuiApp
    from cc_tui.services.directory.customers import CustomerMatch

# Wait this long after the last keystroke before looking up (typing fast costs nothing).
DEBOUNCE_SECONDS = 0.15
# Fewer characters than this find too much to be useful.
MIN_CHARS = 2
LIMIT = 20

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("caller", "Customer · contact", 26),
    ("how", "Found by", 8),
    ("city", "City", 12),
    ("open", "Open", 4),
    ("flag", "Flag", 5),
)

# Theme variables for the flag column (a table cell is a Rich `Text`, styled by colour).
FLAG_COLOUR = {"warn": "warning", "block": "error"}


@dataclass(frozen=True)
class Lookup:
    """One look-up's answer and the text it was for."""

    text: str
    matches: list[CustomerMatch]


def match_cells(match: CustomerMatch, colours: dict[str, str]) -> tuple[Text, ...]:
    """One row; every value plain `Text`, so a customer's name is never markup.
    `colours`: the theme's variables (`App.get_css_variables()`)."""

    def cell(value: str | None, style: str = "") -> Text:
        return Text(value or "", style=style, no_wrap=True, overflow="ellipsis")

    name = match.name + (f" · {match.contact_name}" if match.contact_name else "")
    how = match.matched_by + (f" {match.unit_serial}" if match.unit_serial else "")
    flag = match.block_level if match.block_level != "none" else ""
    return (
        cell(name),
        cell(how, "dim"),
        cell(match.city),
        cell(str(match.open_incidents) if match.open_incidents else "–"),
        cell(flag.upper(), f"bold reverse {colours[FLAG_COLOUR[flag]]}" if flag else ""),
    )


class CallerSearch(Vertical):
    """Find the caller; posts `Highlighted` while choosing, `Picked` on `enter`."""

    if TYPE_CHECKING:
        # For the checker only: Textual types `self.app` as a plain App.
        app = getters.app(CcTuiApp)

    DEFAULT_CSS = """
    CallerSearch {
        height: auto;
    }
    CallerSearch > #caller-line {
        height: 1;
    }
    CallerSearch #caller-label {
        width: 13;
        color: $text-muted;
    }
    CallerSearch > #caller-hint {
        color: $text-muted;
        height: auto;
        padding-left: 13;
    }
    CallerSearch > #caller-hint.-empty {
        display: none;
    }
    CallerSearch > #caller-matches {
        height: auto;
        max-height: 9;
        display: none;
    }
    CallerSearch.-listing > #caller-matches {
        display: block;
    }
    """

    BINDINGS = [
        Binding("down", "move(1)", "Next match", show=False),
        Binding("up", "move(-1)", "Previous match", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The agent moved to this match (None: the list is empty)."""

        search: CallerSearch
        match: CustomerMatch | None

    @dataclass
    class Picked(Message):
        """The agent chose the caller; `text` is what they had typed to find them."""

        search: CallerSearch
        match: CustomerMatch
        text: str

    @dataclass
    class Unpicked(Message):
        """The text was changed after a pick: the caller is not known any more."""

        search: CallerSearch

    def __init__(self, *, label: str = "Caller", id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.matches: list[CustomerMatch] = []
        self.picked_text: str | None = None
        self.searching_for: str | None = None
        # Enter came before the answer: pick the best match when it arrives.
        self._pick_on_answer = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="caller-line"):
            yield Label(Content(self.label), id="caller-label")
            yield Input(
                placeholder="phone, name, e-mail, customer or serial number",
                id="caller-input",
                max_length=200,
                compact=True,
            )
        yield Static(Content(""), id="caller-hint", classes="-empty")
        table: DataTable[Text] = DataTable(
            id="caller-matches", cursor_type="row", zebra_stripes=True, show_cursor=True
        )
        table.can_focus = False
        for key, heading, width in COLUMNS:
            table.add_column(heading, width=width, key=key)
        yield table

    @property
    def input(self) -> Input:
        return self.query_one("#caller-input", Input)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#caller-matches", DataTable)

    @property
    def text(self) -> str:
        return self.input.value.strip()

    def focus(self, scroll_visible: bool = True) -> CallerSearch:
        self.input.focus(scroll_visible)
        return self

    def reset(self) -> None:
        """Empty, for the next call."""
        self._stop_timer()
        self.picked_text = None
        self.searching_for = None
        self._pick_on_answer = False
        self.input.value = ""
        self._list([])
        self.hint("")

    def hint(self, text: str | Content) -> None:
        content = text if isinstance(text, Content) else Content(text)
        line = self.query_one("#caller-hint", Static)
        line.update(content)
        line.set_class(not content.plain, "-empty")

    @property
    def highlighted(self) -> CustomerMatch | None:
        if not self.matches or not self.has_class("-listing"):
            return None
        row = self.table.cursor_row
        return self.matches[row] if 0 <= row < len(self.matches) else None

    # -- typing --------------------------------------------------------------------------------

    @on(Input.Changed, "#caller-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value.strip()
        if self.picked_text is not None:
            if text == self.picked_text:
                return
            self.picked_text = None
            self.post_message(self.Unpicked(self))
        self._stop_timer()
        self._pick_on_answer = False
        if len(text) < MIN_CHARS:
            self.searching_for = None
            self._list([])
            self.hint("")
            return
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.search_now)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def search_now(self) -> None:
        """Look up what is in the field now (also after a new customer was added)."""
        self._stop_timer()
        text = self.text
        if len(text) < MIN_CHARS or self.picked_text is not None:
            return
        connection = self.app.connection
        if connection is None:
            self.hint("The database is not open yet.")
            return
        country = connection.settings.default_country
        self.searching_for = text
        self.hint("searching…")

        from cc_tui.services.directory.customers import find_customers

        call_service(
            self,
            find_customers,
            on_result=lambda matches: self._found(Lookup(text, matches)),
            on_error=self._failed,
            group="caller-search",
            text=text,
            default_country=country,
            limit=LIMIT,
        )

    def _failed(self, error: BaseException) -> None:
        self.searching_for = None
        self._pick_on_answer = False
        self.hint("look-up failed; keep typing to try again")
        show_error(self, error)

    def _found(self, lookup: Lookup) -> None:
        # Only the answer for the text in the field now counts.
        if lookup.text != self.text or self.picked_text is not None:
            return
        self.searching_for = None
        self._list(lookup.matches)
        if lookup.matches and self._pick_on_answer:
            self._pick_on_answer = False
            self.pick()
            return
        self._pick_on_answer = False
        if lookup.matches:
            count = len(lookup.matches)
            more = "+" if count >= LIMIT else ""
            noun = "match" if count == 1 else "matches"
            self.hint(f"{count}{more} {noun} · ↑↓ choose · enter picks")
        else:
            new_key = self.app.key_display("intake.new_customer", "ctrl+n")
            self.hint(
                Content.assemble(
                    "No customer matches ", (repr(lookup.text), "bold"), f" · {new_key} adds one"
                )
            )

    def _list(self, matches: list[CustomerMatch]) -> None:
        self.matches = list(matches)
        table = self.table
        colours = self.app.get_css_variables() if self.matches else {}
        with self.app.batch_update():
            table.clear()
            for match in self.matches:
                table.add_row(*match_cells(match, colours), key=str(match.customer_id))
            if self.matches:
                table.move_cursor(row=0, animate=False)
        self.set_class(bool(self.matches), "-listing")
        self.post_message(self.Highlighted(self, self.highlighted))

    # -- choosing -------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if not self.matches or not self.has_class("-listing"):
            self.screen.focus_next() if step > 0 else self.screen.focus_previous()
            return
        table = self.table
        row = max(0, min(len(self.matches) - 1, table.cursor_row + step))
        table.move_cursor(row=row, animate=False)
        self.post_message(self.Highlighted(self, self.highlighted))

    @on(DataTable.RowSelected, "#caller-matches")
    def _clicked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.pick()

    @on(Input.Submitted, "#caller-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.picked_text is not None:
            self.screen.focus_next()
            return
        if self._timer is not None or self.searching_for is not None:
            # Enter pressed before the answer came: look up now and pick when it arrives.
            self._pick_on_answer = True
            if self._timer is not None:
                self.search_now()
            return
        self.pick()

    def mark_picked(self, text: str) -> None:
        """The caller was identified elsewhere (e.g. added as a new customer): show `text`
        and stop searching."""
        self._stop_timer()
        self._pick_on_answer = False
        self.searching_for = None
        self.picked_text = text.strip()
        if not self.text:
            self.input.value = text
        self._list([])
        self.hint("")

    def pick(self) -> None:
        match = self.highlighted
        if match is None:
            return
        self.picked_text = self.text
        self._list([])
        self.hint("")
        self.post_message(self.Picked(self, match, self.picked_text))
