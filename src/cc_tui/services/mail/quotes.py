"""The new part of a reply: quoted history cut off for the timeline (the full text is kept).

mail-parser-reply finds where the quoted history starts: the header blocks and attribution
lines that mail programs write in many languages (Outlook's "From:/Sent:" and "Von:/
Gesendet:" blocks, "-----Original Message-----", Gmail's "On ... wrote:" even when it
wraps over two lines, and the like). What it leaves, a `>`-quoted block at the end and an
attribution line it did not know, is cut here; `>` lines between the customer's own answers
stay, so an answer keeps the question it answers.
"""

from __future__ import annotations

import re
from functools import cache

from mailparser_reply import EmailReplyParser

# The languages of the attribution lines and header blocks looked for (English always).
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "da", "sv", "pl", "cs")

_ATTRIBUTION = re.compile(
    r"^.{0,300}(wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napsal|napisał|написал)"
    r"\b.{0,300}:\s*$",
    re.I | re.S,
)


@cache
def _parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(LANGUAGES))


def _cut_trailing_quote(lines: list[str]) -> list[str]:
    """Without the `>` block at the end and the attribution line that introduces it."""
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    kept = lines[:end]
    if end < len(lines) and kept and _ATTRIBUTION.match(kept[-1].strip()):
        kept = kept[:-1]
        # Wrapped before the address: "On Mon, 3 Mar 2025, Service Desk <" + "desk@...> wrote:"
        if kept and kept[-1].rstrip().endswith(("<", ",")):
            kept = kept[:-1]
    return kept


def strip_quoted(text: str) -> tuple[str, bool]:
    """(the reply's own text, whether anything was cut)."""
    whole = text.strip()
    reply = _parser().parse_reply(text) or ""
    own = "\n".join(_cut_trailing_quote(reply.splitlines())).strip()
    if not own:
        return whole, False
    # The library tidies white space; only a shorter text means something was cut.
    cut = len(re.sub(r"\s+", "", own)) < len(re.sub(r"\s+", "", whole))
    return (own if cut else whole), cut
