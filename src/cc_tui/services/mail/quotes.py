"""The new part of a reply: quoted history cut off for the timeline (the full text is kept).

Written here rather than taken from a library: the markers below are the ones our
customers' mail programs write (Outlook's header block in English and German, Gmail's and
Thunderbird's attribution line, `>` quoting, signatures), and a plain function is easy to
extend when a new one turns up.
"""

from __future__ import annotations

import re

_MARKERS = [
    re.compile(
        r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Original-Nachricht"
        r"|Opprinnelig melding)\s*-{2,}",
        re.I,
    ),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above the quoted header block
    re.compile(r"^(From|Von|Från|Fra|De|Van):\s.+", re.I),  # a header block follows
    re.compile(
        r"^(On|Am|Le|El|Op|Den)\s.{0,200}(wrote|schrieb|a écrit|escribió|schreef|skrev)\s*:?\s*$",
        re.I,
    ),
    re.compile(r"^-- $"),  # signature separator
]


def strip_quoted(text: str) -> tuple[str, bool]:
    """(the reply's own text, whether anything was cut)."""
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if any(marker.match(stripped) for marker in _MARKERS):
            # A "From:" line only starts a quote when more header lines follow it.
            if stripped.lower().split(":", 1)[0] in ("from", "von", "från", "fra", "de", "van"):
                following = "\n".join(lines[index + 1 : index + 4])
                if not re.search(
                    r"^(Sent|Gesendet|To|An|Date|Datum|Subject|Betreff):", following, re.I | re.M
                ):
                    kept.append(line)
                    continue
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    own = "\n".join(kept).strip()
    if not own:
        return text.strip(), False
    return own, own != text.strip()
