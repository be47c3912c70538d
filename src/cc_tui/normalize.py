"""Canonical forms used for matching: phone numbers (E.164), names, e-mail addresses."""

from __future__ import annotations

import re
import unicodedata

from cc_tui.errors import UsageError

_DIGITS = re.compile(r"\d")


def fold(value: str) -> str:
    """Lower-case, accents removed, inner white space collapsed: 'Müller  GmbH' -> 'muller gmbh'.

    Also folds the letters NFKD does not decompose (ß, ø, æ, ł, đ, œ).
    """
    value = value.casefold()  # ß -> ss
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.translate(_EXTRA)
    return " ".join(stripped.split())


_EXTRA = str.maketrans({"ø": "o", "æ": "ae", "ł": "l", "đ": "d", "œ": "oe", "ı": "i", "þ": "th"})

_WORD = re.compile(r"[^\W_]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
# The longest word the customer look-up stores (the width of `customer_token.term`).
TERM_LENGTH = 60


def name_terms(name: str) -> set[str]:
    """The words a name is found by: folded ('Müller' -> 'muller'), plus the German
    spelling of umlauts ('mueller') so either way of typing finds it."""
    text = unicodedata.normalize("NFC", name)
    words = set(_WORD.findall(fold(text)))
    words |= set(_WORD.findall(fold(text.casefold().translate(_UMLAUTS))))
    return {w[:TERM_LENGTH] for w in words}


def normalize_phone(raw: str, default_country: str = "DE", *, strict: bool = True) -> str | None:
    """E.164 form of a phone number as typed ('030/1234567' -> '+49301234567').

    Numbers without a country prefix are read in `default_country`; '00' is the
    international prefix. With `strict`, text that is not a possible number raises
    UsageError (a clear message for a form); without, it returns None.
    """
    import phonenumbers

    text = raw.strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_country)
    except phonenumbers.NumberParseException as error:
        if strict:
            raise UsageError(f"not a phone number: {raw!r} ({error})", field="phone") from error
        return None
    if not phonenumbers.is_possible_number(parsed):
        if strict:
            raise UsageError(f"not a possible phone number: {raw!r}", field="phone")
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether a number in E.164 is a mobile one (one that takes SMS), as far as its
    numbering plan tells (where fixed and mobile numbers look alike, it may be)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def looks_like_phone(text: str) -> bool:
    """Enough digits and nothing but phone punctuation: worth a phone look-up."""
    digits = len(_DIGITS.findall(text))
    return digits >= 5 and re.fullmatch(r"[\d\s+()/.\-]+", text.strip()) is not None


def email_key(raw: str | None) -> str | None:
    """The form e-mail addresses are matched by (trimmed, lower-case)."""
    if raw is None:
        return None
    text = raw.strip().lower()
    return text or None


def validate_email(raw: str) -> str:
    """A syntactically valid address (no DNS look-up), normalised, or UsageError."""
    from email_validator import EmailNotValidError
    from email_validator import validate_email as _validate

    try:
        return _validate(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise UsageError(f"not an e-mail address: {raw!r} ({error})", field="email") from error
