"""The one rule for untrusted text: what a customer, a caller or an imported file wrote.

Such text is shown in terminals. A control character in it (ESC starting a CSI or OSC
sequence, BEL, a C1 code such as U+009B) would be a command to the agent's terminal: it
could erase the screen, retitle the window or write the clipboard. So:

- on the way in, `clean` removes every C0 and C1 control character and DEL from a stored
  text; a multi-line field keeps tab and newline (CR LF and CR become a newline), a
  one-line field gets a space for them. Lone surrogates (undecodable bytes of an argument)
  become U+FFFD. The database session applies it to every text column on flush
  (`cc_tui.db.guard`), so no writer is missed;
- on the way out, every face shows what may still hold them (older rows, other writers,
  file names) with `visible`: each control character replaced by a visible sign.

The bidirectional embedding, override and isolate controls (U+202A-U+202E,
U+2066-U+2069) count as control characters here: invisible, they reorder what follows
them, so `report<U+202E>txt.exe` reads as "reportexe.txt" (CVE-2021-42574). `clean`
removes them and `visible` shows them as signs. (The implicit marks LRM, RLM and ALM
reorder nothing after them and stay.)

A leaf module: nothing from cc_tui, no third-party import.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI).
BIDI_CODES = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Zero-width spaces, joiners and the implicit direction marks (LRM RLM): invisible, kept by
# `clean` (they belong in some scripts), removed where a name or number must read as itself.
ZERO_WIDTH = re.compile(r"[\u200b-\u200f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# One-line fields: the line breaks and tabs a paste brings become spaces.
_BREAKS = re.compile(r"\r\n|[\t\n\r\x0b\x0c\x85\u2028\u2029]")
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_MULTILINE_DROP = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


def has_control(text: str) -> bool:
    """True if `text` holds a control character (tab and newline included) or a
    bidirectional control."""
    return CONTROL.search(text) is not None or BIDI.search(text) is not None


def has_surrogate(text: str) -> bool:
    """True if `text` holds a lone surrogate: bytes that were not UTF-8, escaped."""
    return _SURROGATE.search(text) is not None


def clean(text: str, *, multiline: bool) -> str:
    """`text` without control characters or bidirectional controls; tab and newline kept
    if `multiline`."""
    text = BIDI.sub("", _SURROGATE.sub("\ufffd", text))
    if multiline:
        text = _NEWLINES.sub("\n", text)
        return _MULTILINE_DROP.sub("", text)
    text = _BREAKS.sub(" ", text)
    return CONTROL.sub("", text)


def _sign(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ESC -> U+241B
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"  # C1 controls and the bidirectional ones have no pictures


# Used as `str.translate` tables (one pass, no regex).
VISIBLE = {code: _sign(code) for code in [*range(0x20), *range(0x7F, 0xA0), *BIDI_CODES]}
VISIBLE.update({code: "\ufffd" for code in range(0xD800, 0xE000)})
VISIBLE_MULTILINE = {code: sign for code, sign in VISIBLE.items() if code not in (0x09, 0x0A)}


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` for a terminal: each control character shown as a sign, never obeyed.

    With `multiline`, tab and newline stay what they are.
    """
    return text.translate(VISIBLE_MULTILINE if multiline else VISIBLE)
