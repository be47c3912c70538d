"""What a message is: our own mail coming back, a bounce, an auto-reply, or a customer's.

Bounces are checked before auto-replies (a delivery report often carries Auto-Submitted
too) and are never treated as one: they belong on the incident whose mail bounced.
"""

from __future__ import annotations

import re
from enum import StrEnum

from cc_tui.services.mail.parse import ParsedMail

# Our outgoing mail carries this header (the notifier sets it), so a loop is seen at once.
OWN_HEADER = "x-cc-tui"
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?)([+@-]|$)", re.I)
_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|antwort|wg|fw|fwd|tr|rif|r|ref|odp|vl|vb)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.I,
)
_NUMBER = re.compile(r"\[(INC-\d+)\]", re.I)


class Kind(StrEnum):
    OWN = "own"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto-reply"
    CUSTOMER = "customer"


def classify(mail: ParsedMail, own_addresses: frozenset[str] = frozenset()) -> Kind:
    headers = mail.headers
    if OWN_HEADER in headers or mail.sender in own_addresses:
        return Kind.OWN
    if (
        mail.content_type == "multipart/report"
        or mail.bounced_id is not None
        or (mail.return_path is not None and mail.return_path.replace(" ", "") == "<>")
        or _DAEMONS.match(mail.sender)
    ):
        return Kind.BOUNCE
    auto = headers.get("auto-submitted", "no").lower()
    precedence = headers.get("precedence", "").lower()
    if (
        auto != "no"
        or "x-auto-response-suppress" in headers
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or "list-id" in headers
    ):
        return Kind.AUTO_REPLY
    return Kind.CUSTOMER


def bare_subject(subject: str) -> str:
    """The subject without reply and forward prefixes (Re:, AW:, SV:, VS:, Antw:, Fwd: ...)."""
    return _PREFIX.sub("", subject).strip()


def subject_number(subject: str) -> str | None:
    """The incident number a subject names as `[INC-1042]`, upper-cased."""
    found = _NUMBER.search(subject)
    return found.group(1).upper() if found else None
