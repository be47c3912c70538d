"""No text the console shows can command the terminal.

Rich's `Text` and Textual's `Content` already drop five control codes (BEL, BS, VT, FF, CR)
from every string they are built from; an ESC, a C1 code (U+009B is a CSI) or NUL passes
through into the frame, where the terminal obeys it: a title holding `ESC ] 0 ; ... BEL`
retitles the window, `ESC ] 52` writes the clipboard, a CSI erases lines. Every piece of
text on a screen (tables, labels, Markdown, notifications, inputs) is built through one
of those two constructors, so their tables are the one place to close this: `install`
widens both to every C0 and C1 control code and DEL, each shown as a visible sign (tab and
newline stay, as the text layout needs them). Stored text is cleaned when written
(`cc_tui.db.guard`); this covers older rows and other writers.
"""

from __future__ import annotations

from cc_tui.untrusted import VISIBLE

# Kept as the libraries have them: they lay out tab and newline, and drop these five.
_LIBRARY_OWN = {0x09, 0x0A, 0x07, 0x08, 0x0B, 0x0C, 0x0D}
SIGNS = {code: sign for code, sign in VISIBLE.items() if code not in _LIBRARY_OWN}


def install() -> None:
    """Widen Rich's and Textual's control-code tables (idempotent)."""
    import rich.control
    import textual.content

    # Both functions take their table as a default argument bound to these very dicts.
    for table in (rich.control._CONTROL_STRIP_TRANSLATE, textual.content._CONTROL_STRIP_TRANSLATE):
        table.update(SIGNS)
