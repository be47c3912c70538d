"""Parsing one raw message defensively: nothing in it is trusted, nothing in it may stop us.

Headers and bodies are attacker-controlled. Bodies decode with the declared charset (as the
wider charset mail programs really write), then the charset an HTML part declares in a meta
tag, then UTF-8, then cp1252, then latin-1 (which never fails). Attachments keep their bytes
exactly as sent; their names (RFC 2047/2231) are decoded and made safe to use as a file name.
"""

from __future__ import annotations

import binascii
import codecs
import contextlib
import hashlib
import html
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from cc_tui.untrusted import ZERO_WIDTH, clean

MAX_ATTACHMENT = 25 * 1024 * 1024
MAX_MESSAGE = 50 * 1024 * 1024

# Beyond the project's control-character rule: zero-width and direction-override marks,
# with which a sender disguises a file name or a link.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} (\S[^\r\n]*)$", re.M)
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.M)
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# Charsets mail programs declare and the wider ones they actually write (as browsers read
# them, WHATWG Encoding): a strict gb2312 decoder fails on the GBK characters in "gb2312".
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "windows-874": "cp874",
}
# An Outlook .msg file (an OLE compound file), not an RFC 822 message.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A sender without an address that still names a mail system (a bounce: "MAILER DAEMON <>").
_SYSTEM_SENDER = re.compile(r"mailer.?daemon|postmaster|mail delivery", re.I)


class Unparseable(Exception):
    """The message cannot be filed; the text says why (it becomes the quarantine reason)."""


def untrusted(text: str | None, *, limit: int | None = None) -> str:
    """Text from outside without control characters (`cc_tui.untrusted.clean`, newlines and
    tabs kept), bidirectional controls or zero-width marks, normalised to NFC, cut to `limit`
    characters."""
    if not text:
        return ""
    cleaned = ZERO_WIDTH.sub("", clean(unicodedata.normalize("NFC", text), multiline=True))
    return cleaned[:limit] if limit is not None else cleaned


def one_line(text: str | None, *, limit: int) -> str:
    return " ".join(untrusted(text).split())[:limit]


def subject_of(raw: bytes) -> str | None:
    """The Subject of a message that cannot be parsed as a whole (for the quarantine list),
    or None."""
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw[:65536], headersonly=True)
        return one_line(_header(headers, "Subject"), limit=1000) or None
    except Exception:  # what made the message unparseable may break its headers too
        return None


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the address, folded to lower case
    sender_name: str
    to: str
    subject: str
    in_reply_to: str | None
    references: list[str]
    text: str
    attachments: list[Attachment]
    skipped: list[str] = field(default_factory=list)  # attachments over the size cap
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    return_path: str | None = None
    # For a delivery report: the Message-ID and subject of the message that bounced.
    bounced_id: str | None = None
    bounced_subject: str | None = None


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _header(msg: Message, name: str) -> str | None:
    """A header as text; a malformed one is read raw rather than failing."""
    try:
        value = msg.get(name)
    except Exception:
        value = _raw_header(msg, name)
    if value is not None and "\ufffd" in str(value):
        # Raw 8-bit bytes in a header (no RFC 2047): decoded like a body without charset.
        raw = _raw_header(msg, name)
        if raw is not None:
            value = decode_bytes(raw.encode("ascii", "surrogateescape"), "utf-8")
    if value is not None and _ENCODED_WORD.search(str(value)):
        value = _encoded_words(str(value))
    return None if value is None else str(value)


def _raw_header(msg: Message, name: str) -> str | None:
    raws = [v for k, v in msg.raw_items() if k.lower() == name.lower()]
    return str(raws[0]) if raws else None


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _superset(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    with contextlib.suppress(LookupError):
        name = codecs.lookup(name).name  # the codec's own name for any of its aliases
    return _SUPERSETS.get(name, name)


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Bytes as text: the declared charset (read as the superset mail programs really
    write, gb2312 as gb18030 and the like), an HTML meta charset, UTF-8, cp1252, latin-1."""
    tried = []
    meta = _META_CHARSET.search(data[:4096])
    for charset in (
        _superset(declared),
        _superset(meta.group(1).decode("ascii") if meta else None),
        "utf-8",
        "cp1252",
    ):
        if not charset or charset in tried:
            continue
        tried.append(charset)
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _encoded_words(value: str) -> str:
    """RFC 2047 words the header parser left encoded (an unknown or too narrow charset)
    decoded as bodies are."""
    try:
        parts = decode_header(value)
    except (ValueError, LookupError, binascii.Error):
        return value
    return "".join(
        decode_bytes(data, charset) if isinstance(data, bytes) else data for data, charset in parts
    )


class _Text(HTMLParser):
    """HTML to plain text: block elements become line breaks, scripts and styles vanish."""

    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A name that is safe on any file system: no path, no control characters, no
    leading dot, at most 200 characters; a made-up one when the sender gave none."""
    cleaned = untrusted(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r'[<>:"|?*]', "_", cleaned).strip().lstrip(".").strip()
    if not cleaned:
        ext = mimetypes.guess_extension(content_type) or ".bin"
        cleaned = f"attachment-{index}{ext}"
    if len(cleaned) > 200:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (
            (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) < 20 else cleaned[:200]
        )
    return cleaned


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _uudecode(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Inline uuencoded files (old mail programs) cut out of a text body."""
    files: list[tuple[str, bytes]] = []
    out: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        match = _UU_BEGIN.match(line)
        if not match:
            out.append(line)
            continue
        data = bytearray()
        taken = [line]
        broken = False
        for body in lines:
            taken.append(body)
            if body.strip() == "end":
                break
            if body.strip() in ("", "`"):
                continue
            try:
                data += binascii.a2b_uu(body)
            except binascii.Error:
                # Some encoders pad short lines wrongly; the length byte says what counts.
                nbytes = ((ord(body[0]) - 32) & 63) * 4 // 3
                try:
                    data += binascii.a2b_uu(body[: nbytes + 1])
                except binascii.Error:
                    broken = True
        if broken:
            out.extend(taken)  # not uuencoded after all: kept as the text it is
        else:
            files.append((match.group(1).strip(), bytes(data)))
    return "\n".join(out), files


def parse(
    raw: bytes, *, max_attachment: int = MAX_ATTACHMENT, max_message: int = MAX_MESSAGE
) -> ParsedMail:
    """The parts of a raw message cc-tui uses; `Unparseable` when it cannot be filed (also
    when something in it trips the parsing up: one message never stops a batch)."""
    try:
        return _parse(raw, max_attachment=max_attachment, max_message=max_message)
    except Unparseable:
        raise
    except Exception as exc:
        raise Unparseable(f"cannot parse: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, *, max_attachment: int, max_message: int) -> ParsedMail:
    if len(raw) > max_message:
        raise Unparseable(f"message of {len(raw)} bytes is over the {max_message}-byte cap")
    if not raw.strip():
        raise Unparseable("empty message")
    if raw.startswith(_OLE_MAGIC):
        raise Unparseable("an Outlook .msg file, not an e-mail message (save it as .eml)")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:
        raise Unparseable(f"cannot parse: {exc}") from exc
    if not msg.keys():
        raise Unparseable("no headers: not an e-mail message")
    from_value = _header(msg, "From") or _header(msg, "Sender") or ""
    name, address = parseaddr(from_value)
    return_path = _header(msg, "Return-Path")
    if "@" not in address:
        null_sender = return_path is not None and return_path.replace(" ", "") == "<>"
        if not (_SYSTEM_SENDER.search(from_value) or null_sender):
            raise Unparseable(f"no sender address (From: {one_line(from_value, limit=80)!r})")
        # A delivery report from a mail system that gives no address of its own.
        address = "mailer-daemon"
    ids = _ids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else f"<{sha256(raw)}@no-message-id.invalid>"
    subject = one_line(_header(msg, "Subject"), limit=1000)
    to = ", ".join(
        a for _, a in getaddresses([_header(msg, "To") or "", _header(msg, "Cc") or ""]) if a
    )
    reply_to = _ids(_header(msg, "In-Reply-To"))

    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    skipped: list[str] = []
    bounced: str | None = None
    bounced_subject: str | None = None

    def add_attachment(filename: str | None, ctype: str, data: bytes) -> None:
        safe = safe_filename(filename, ctype, len(attachments) + len(skipped) + 1)
        if len(data) > max_attachment:
            skipped.append(f"{safe} ({len(data)} bytes, over the {max_attachment}-byte cap)")
        else:
            attachments.append(Attachment(safe, ctype, data))

    def walk(part: Message, report: bool) -> None:
        nonlocal bounced, bounced_subject
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            # The parser reads a delivery report's field blocks as sub-messages: their
            # fields (Action, Status) are the report's text.
            blocks = part.get_payload()
            if isinstance(blocks, list):
                fields = [
                    "\n".join(f"{k}: {v}" for k, v in block.items())
                    for block in blocks
                    if isinstance(block, Message)
                ]
                texts.append(decode_bytes("\n\n".join(fields).encode("utf-8", "replace"), "utf-8"))
            else:
                texts.append(decode_bytes(_payload(part), "us-ascii"))
            return
        if part.is_multipart() and ctype != "message/rfc822":
            sub = report or ctype == "multipart/report"
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else []:
                if isinstance(child, Message):
                    walk(child, sub)
            return
        filename = None
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        disposition = (part.get_content_disposition() or "").lower()
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                data = (
                    inner[0].as_bytes(policy=policy.compat32)
                    if isinstance(inner[0], Message)
                    else b""
                )
            else:
                data = _payload(part)
            if report:
                found = re.search(rb"^Message-ID:\s*(<[^>\s]+>)", data, re.I | re.M)
                bounced = bounced or (found.group(1).decode("ascii", "replace") if found else None)
                if bounced_subject is None:
                    returned = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
                    bounced_subject = _header(returned, "Subject")
                if ctype == "text/rfc822-headers":
                    return
            inner_subject = None
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                inner_subject = _header(inner[0], "Subject")
            add_attachment(filename or f"{inner_subject or 'message'}.eml", "message/rfc822", data)
            return
        if ctype.startswith("multipart/"):
            # A multipart whose boundary is missing or wrong: the first "--" line of its
            # body names the boundary its parts really use; failing that, what it holds is
            # read as text rather than lost in an attachment.
            data = _payload(part)
            guess = _BOUNDARY_LINE.search(data)
            if guess is not None:
                rebuilt = BytesParser(policy=policy.default).parsebytes(
                    b'Content-Type: %s; boundary="%s"\r\n\r\n%s'
                    % (ctype.encode("ascii", "replace"), guess.group(1), data)
                )
                if rebuilt.is_multipart():
                    walk(rebuilt, report or ctype == "multipart/report")
                    return
            body = decode_bytes(data, None)
            texts.append(html_to_text(body) if re.search(r"<html|<body", body, re.I) else body)
            return
        is_body = (
            disposition != "attachment" and not filename and ctype in ("text/plain", "text/html")
        )
        if not is_body:
            add_attachment(filename, ctype, _payload(part))
            return
        declared = part.get_param("charset")
        charset = declared if isinstance(declared, str) else None
        body = decode_bytes(_payload(part), charset)
        if ctype == "text/html":
            htmls.append(body)
        else:
            body, files = _uudecode(body)
            for name, data in files:
                add_attachment(
                    name, mimetypes.guess_type(name)[0] or "application/octet-stream", data
                )
            texts.append(body)

    walk(msg, False)
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    if not text and htmls:
        text = "\n\n".join(html_to_text(h) for h in htmls)
    headers = {}
    for key in (
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "Precedence",
        "List-Id",
        "X-Cc-Tui",
        "X-Loop",
    ):
        value = _header(msg, key)
        if value is not None:
            headers[key.lower()] = one_line(value, limit=500)
    return ParsedMail(
        message_id=one_line(message_id, limit=500),
        sender=address.strip().lower()[:500],
        sender_name=one_line(name, limit=200),
        to=one_line(to, limit=2000),
        subject=subject,
        in_reply_to=reply_to[0] if reply_to else None,
        references=_ids(_header(msg, "References")),
        text=untrusted(text),
        attachments=attachments,
        skipped=skipped,
        headers=headers,
        content_type=msg.get_content_type(),
        return_path=return_path.strip() if return_path is not None else None,
        bounced_id=bounced,
        bounced_subject=one_line(bounced_subject, limit=1000) if bounced_subject else None,
    )
