"""Mailboxes as data: the IMAP URL, how new incidents are filed, where the password is."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, col, select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Department, Mailbox, MailMessage
from cc_tui.models.base import stored_id
from cc_tui.models.enums import RequestType
from cc_tui.services.context import Actor
from cc_tui.services.loopback import is_loopback
from cc_tui.services.mail.intake import MailDefaults, Outcome, check_filing_codes, retry
from cc_tui.untrusted import has_control


@dataclass(frozen=True)
class ImapUrl:
    secure: bool  # imaps: TLS from the start; imap: STARTTLS, plain only on loopback
    user: str
    host: str
    port: int
    folder: str

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def parse_url(url: str) -> ImapUrl:
    """imaps://user@host:993/INBOX (a user name with `@` percent-encoded as %40)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        user = url.strip().partition("://")[2].partition("/")[0].rpartition("@")[0]
        if "[" in user or "]" in user:
            raise UsageError(
                "the user name in the URL holds [ or ]: write it percent-encoded "
                "([ as %5B, ] as %5D, @ as %40), as in imaps://desk%40example.com@host/INBOX",
                field="url",
            ) from exc
        raise UsageError(f"not an IMAP URL: {exc}", field="url") from exc
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise UsageError("the URL must look like imaps://user@host:993/INBOX", field="url")
    if parts.password:
        raise UsageError(
            "no password in the URL: use --password-file or the environment", field="url"
        )
    if not parts.username:
        raise UsageError("the URL names no user (imaps://user@host/INBOX)", field="url")
    secure = parts.scheme == "imaps"
    return ImapUrl(
        secure,
        unquote(parts.username),
        parts.hostname,
        port or (993 if secure else 143),
        unquote(parts.path.lstrip("/")) or "INBOX",
    )


@dataclass(frozen=True)
class MailboxInfo:
    id: int
    name: str
    url: str
    folder: str
    department: str | None
    request_type: str
    reason: str | None
    priority: str | None
    password_file: str | None
    password_env: str
    done_folder: str | None
    active: bool

    def defaults(self) -> MailDefaults:
        return MailDefaults(
            mailbox=self.name,
            reason=self.reason,
            priority=self.priority,
            request_type=self.request_type,
            department=self.department,
        )


def password_env(name: str) -> str:
    """The environment variable that may hold a mailbox's password."""
    return "CC_TUI_MAIL_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _info(session: Session, box: Mailbox) -> MailboxInfo:
    department = session.get(Department, box.department_id) if box.department_id else None
    return MailboxInfo(
        stored_id(box),
        box.name,
        box.url,
        parse_url(box.url).folder,
        department.code if department else None,
        box.request_type,
        box.reason,
        box.priority,
        box.password_file,
        password_env(box.name),
        box.done_folder,
        box.active,
    )


def add_mailbox(
    session: Session,
    *,
    actor: Actor,
    name: str,
    url: str,
    department: str | None = None,
    request_type: str = RequestType.ACTION,
    reason: str | None = None,
    priority: str | None = None,
    password_file: str | None = None,
    done_folder: str | None = None,
) -> MailboxInfo:
    actor.require_admin("add a mailbox")
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise UsageError("a mailbox name is letters, digits, '.', '_' or '-'", field="name")
    folder = parse_url(url).folder
    if request_type not in (RequestType.ACTION, RequestType.INFORMATION):
        raise UsageError("--type is action or information", field="type")
    done_folder = _done_folder(done_folder, folder)
    reason = reason.strip() if reason is not None else None
    priority = priority.strip() if priority is not None else None
    check_filing_codes(session, reason=reason, priority=priority)
    if session.exec(select(Mailbox).where(col(Mailbox.name) == name)).first() is not None:
        raise RuleViolation(f"there is a mailbox {name} already", field="name")
    department_id = None
    if department:
        found = session.exec(
            select(Department).where(col(Department.code) == department.strip().upper())
        ).first()
        if found is None:
            raise NotFound(f"no department {department!r}", field="department")
        department_id = found.id
    if password_file:
        password_file = str(Path(password_file).expanduser().resolve())
        read_password_file(password_file)
    box = Mailbox(
        name=name,
        url=url.strip(),
        department_id=department_id,
        request_type=request_type,
        reason=reason,
        priority=priority,
        password_file=password_file,
        done_folder=done_folder,
    )
    session.add(box)
    session.flush()
    return _info(session, box)


def _done_folder(name: str | None, folder: str) -> str | None:
    """The folder filed messages move to: an IMAP folder name other than the one read."""
    if name is None:
        return None
    name = name.strip()
    if not name or has_control(name) or "*" in name or "%" in name:
        raise UsageError(
            "--done-folder: a folder name such as Filed or INBOX/Filed "
            "(not empty, no * or %, no control characters)",
            field="done_folder",
        )
    same = name.upper() == folder.upper() if folder.upper() == "INBOX" else name == folder
    if same:
        raise UsageError(
            f"--done-folder: {name} is the folder the mailbox reads; name another",
            field="done_folder",
        )
    return name


def set_mailbox_active(session: Session, *, actor: Actor, name: str, active: bool) -> MailboxInfo:
    """Stop reading a mailbox (`mail fetch` and `mail watch` pass it by; what it filed and its
    quarantine stay), or read it again from where it stopped."""
    actor.require_admin("activate a mailbox" if active else "deactivate a mailbox")
    box = session.exec(select(Mailbox).where(col(Mailbox.name) == name.strip())).first()
    if box is None:
        raise NotFound(f"no mailbox {name!r} (see `cc-tui mailbox list --all`)")
    box.active = active
    session.flush()
    return _info(session, box)


def list_mailboxes(
    session: Session, name: str | None = None, *, inactive: bool = False
) -> list[MailboxInfo]:
    """The active mailboxes (with `inactive`, all of them), or the one named."""
    query = select(Mailbox).order_by(col(Mailbox.name))
    if not inactive:
        query = query.where(col(Mailbox.active))
    if name is not None:
        query = query.where(col(Mailbox.name) == name)
    boxes = [_info(session, b) for b in session.exec(query).all()]
    if name is not None and not boxes:
        raise NotFound(f"no mailbox {name!r} (see `cc-tui mailbox list`)")
    return boxes


def read_password_file(path: str) -> str:
    """The password in a file only its owner may read (0600 or stricter)."""
    try:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise RuleViolation(
                f"{path} may be read by others (chmod 600 it)", field="password_file"
            )
        return Path(path).read_text(encoding="utf-8").strip("\r\n")
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}", field="password_file") from exc


def password(box: MailboxInfo) -> str:
    if box.password_file:
        return read_password_file(box.password_file)
    value = os.environ.get(box.password_env)
    if value is None:
        raise UsageError(
            f"mailbox {box.name} has no password: give it --password-file or set {box.password_env}"
        )
    return value


def defaults_of(session: Session, name: str) -> MailDefaults:
    """How mailbox `name` files new incidents; plain defaults when there is no such mailbox
    any more (or the message came from `mail import`)."""
    box = session.exec(select(Mailbox).where(col(Mailbox.name) == name)).first()
    return _info(session, box).defaults() if box is not None else MailDefaults(mailbox=name)


def quarantine_defaults(
    session: Session,
    message_id: int,
    *,
    reason: str | None = None,
    priority: str | None = None,
    own_addresses: frozenset[str] = frozenset(),
) -> MailDefaults:
    """How a quarantined message is filed again: as its mailbox files messages (reason
    code, priority, request type, department), each overridden only by what is given."""
    check_filing_codes(session, reason=reason, priority=priority)
    stored = session.get(MailMessage, message_id)
    base = defaults_of(session, stored.mailbox) if stored is not None else MailDefaults()
    return replace(
        base,
        reason=reason.strip() if reason is not None else base.reason,
        priority=priority.strip() if priority is not None else base.priority,
        own_addresses=own_addresses or base.own_addresses,
    )


def retry_quarantined(
    session: Session,
    *,
    actor: Actor,
    message_id: int,
    reason: str | None = None,
    priority: str | None = None,
    own_addresses: frozenset[str] = frozenset(),
) -> Outcome:
    """Process a quarantined message again (the console's `f`, `mail quarantine retry`),
    with `quarantine_defaults`."""
    defaults = quarantine_defaults(
        session, message_id, reason=reason, priority=priority, own_addresses=own_addresses
    )
    return retry(session, actor=actor, message_id=message_id, defaults=defaults)
