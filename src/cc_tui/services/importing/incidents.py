"""Importing a closed incident history from another service desk (`cc-tui import incidents`).

The file is a CSV export; ServiceNow's incident columns are understood as they are
(`number`, `opened_at`, `resolved_at`, `closed_at`, `state`, `priority` "2 - High",
`category`, `subcategory`, `assignment_group`, `assigned_to`, `caller_id`,
`short_description`, `closed_by`, `location`, and `description`, `contact_type`,
`opened_by`, `sys_created_by`, `close_code`, `close_notes` when present); another export
names its columns with `mapping` (column -> field). Three passes:

1. **Read.** The bytes are UTF-8 (with or without a byte-order mark), else Windows-1252
   (said in the result). Every row is parsed and checked before anything is written: a bad
   row (no number, a number seen before in the file, a time that is not one, closed before
   opened, a state that is not closed history, a text too long for its field) is reported
   with its line and reason and left out; the rest go on. Cells are untrusted text: control
   characters are cleaned (`cc_tui.untrusted`); a cell that looks like a spreadsheet formula
   is kept as plain text (report exports neutralise it, `services/reports/export.py`).
2. **Names to ids, once.** Assignment groups become departments, categories general reason
   codes, subcategories specific ones under them, "N - Label" priorities priority codes PN,
   close codes resolution codes ("Solved (Permanently)": general SOLVED, specific
   SOLVED/PERMANENTLY), people (assigned to, closed by, opened by or else
   sys_created_by) agents, callers customers: found by code or name (any case), else
   created, through the directory services (agents the import creates are inactive: they
   worked in the old desk, not here). A row that names nobody who registered it is
   registered by one inactive stand-in agent, `unknown` (`UNKNOWN_REGISTRAR`): an incident
   always has a registering agent, and neither the importing admin nor the owner took that
   call, so neither is credited with it. One transaction.
3. **Write, in chunks.** Each chunk of rows is one transaction: the incidents (one INSERT
   for the chunk), their timelines (an Imported event with the source number and the row's
   own words, then the status steps at the file's times) and one change-feed row. The
   incident's status is data here, as the file gives it (solved or closed history), and the
   steps are checked against the lifecycle's table (`lifecycle.check_step`). A number
   imported before (`incident.source_number`, unique) is counted as already there and
   skipped, so a second run imports nothing and an interrupted one goes on where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import acted_by, record_change
from cc_tui.db.engine import Database
from cc_tui.db.guard import storage_type
from cc_tui.errors import UsageError
from cc_tui.models import Agent, Code, Customer, Department, Event, Incident, Priority
from cc_tui.models.base import stored_id
from cc_tui.models.enums import CodeKind, EventKind, Status, SystemEvent
from cc_tui.normalize import fold as _fold_name
from cc_tui.services.context import Actor
from cc_tui.services.importing.bulk import BulkRows
from cc_tui.untrusted import clean

Progress = Callable[[int, int], None]
# The same few thousand names are folded again and again (callers, priorities).
fold = lru_cache(maxsize=1 << 16)(_fold_name)

# The fields a column can feed; `mapping` names them.
FIELDS = (
    "number",
    "opened_at",
    "resolved_at",
    "closed_at",
    "state",
    "priority",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "caller_id",
    "short_description",
    "closed_by",
    "location",
    "description",
    "contact_type",
    "opened_by",
    "sys_created_by",
    "close_code",
    "close_notes",
)
REQUIRED = ("number", "opened_at")
# Column titles some exports use instead of the field names (after folding: lower case,
# spaces and hyphens as underscores).
_ALIASES = {
    "opened": "opened_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
    "caller": "caller_id",
    "channel": "contact_type",
    "created_by": "sys_created_by",
    "resolution_code": "close_code",
    "resolution_notes": "close_notes",
}
# ServiceNow incident states (display value or number) -> the status the history gets.
_STATES = {
    "resolved": Status.SOLVED,
    "6": Status.SOLVED,
    "closed": Status.CLOSED,
    "7": Status.CLOSED,
    "canceled": Status.CLOSED,
    "cancelled": Status.CLOSED,
    "8": Status.CLOSED,
}
_CANCELED = {"canceled", "cancelled", "8"}
# ServiceNow contact types -> channels; anything else (or nothing) is a phone call, and the
# word the file gave is kept on the Imported event.
_CHANNELS = {
    "phone": "phone",
    "email": "email",
    "e-mail": "email",
    "fax": "fax",
    "walk-in": "walk-in",
    "walk_in": "walk-in",
    "walkin": "walk-in",
    "self-service": "web",
    "self_service": "web",
    "web": "web",
    "portal": "web",
    "chat": "web",
    "virtual_agent": "web",
    "cti": "cti",
}
_PRIORITY = re.compile(r"^\s*(\d{1,3})\s*(?:[-:.]\s*(.*?))?\s*$")
# A ServiceNow close code "Solved (Work Around)": general "Solved", specific "Work Around".
_CLOSE_CODE = re.compile(r"^(.*?\S)\s*\(\s*([^()]*?)\s*\)$")
# Who registered the rows that name nobody (no opened_by, no sys_created_by).
UNKNOWN_REGISTRAR = ("unknown", "Unknown (registered in the imported history)")
_SLUG_DROP = re.compile(r"[^A-Z0-9_.\-]+")
_LOGIN_DROP = re.compile(r"[^a-z0-9_.@\-]+")
CHUNK = 2000  # incidents per transaction (and per INSERT)
_IN = 1000  # values per IN (...) look-up


# --------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class BadRow:
    line: int
    number: str | None
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What `cc-tui import incidents --json` prints (the contract, see README)."""

    file: str
    encoding: str
    rows: int
    imported: int
    skipped_existing: int
    bad: list[BadRow]
    created: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "encoding": self.encoding,
            "rows": self.rows,
            "imported": self.imported,
            "skipped_existing": self.skipped_existing,
            "bad": [{"line": b.line, "number": b.number, "reason": b.reason} for b in self.bad],
            "created": dict(self.created),
        }


# ------------------------------------------------------------------------------ read pass


@dataclass
class Row:
    """One good row, parsed; names still as the file gives them (cleaned)."""

    line: int
    number: str
    status: Status
    canceled: bool
    opened: datetime
    resolved: datetime | None
    closed: datetime | None
    priority: tuple[int, str] | None  # (rank, label) of "N - Label"
    priority_code: str | None  # an existing priority named by its code or name
    category: str | None
    subcategory: str | None
    group: str | None
    assigned: str | None
    closed_by: str | None
    opened_by: str | None  # opened_by, else sys_created_by; None: nobody named
    close_code: str | None
    caller: str | None
    location: str | None
    channel: str
    title: str | None
    description: str | None
    solution: str | None
    raw: dict[str, str]  # the row's own words for the Imported event


@dataclass
class Parsed:
    encoding: str
    rows: int = 0
    good: list[Row] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


class _Bad(Exception):
    pass


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        # Spreadsheet programs on Windows save CSV in the ANSI code page; the five bytes it
        # leaves undefined become U+FFFD rather than failing the file.
        return data.decode("cp1252", errors="replace"), "cp1252"


def _header_key(title: str) -> str:
    key = re.sub(r"[\s\-]+", "_", title.strip().lower())
    return _ALIASES.get(key, key)


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """`COLUMN=FIELD` options -> {column: field}; the field names are checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        column, target = column.strip(), target.strip().lower()
        if not sep or not column or not target:
            raise UsageError(f"--map takes COLUMN=FIELD, not {pair!r}", field="map")
        if target not in FIELDS:
            raise UsageError(
                f"--map {pair!r}: unknown field {target!r}; one of: {', '.join(FIELDS)}",
                field="map",
            )
        if target in mapping.values():
            raise UsageError(f"--map names field {target} twice", field="map")
        mapping[column] = target
    return mapping


def _columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """field -> index of its column."""
    titles = [clean(h, multiline=False).strip() for h in header]
    found: dict[str, int] = {}
    for index, title in enumerate(titles):
        key = _header_key(title)
        if key in FIELDS and key not in found:
            found[key] = index
    folded = {t.casefold(): i for i, t in reversed(list(enumerate(titles)))}
    for column, target in mapping.items():
        at = folded.get(column.casefold())
        if at is None:
            raise UsageError(
                f"--map {column}={target}: the file has no column {column!r} "
                f"(its columns: {', '.join(titles)})",
                field="map",
            )
        found[target] = at
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise UsageError(
            f"the file has no column for {' and '.join(missing)} (its columns: "
            f"{', '.join(titles) or 'none'}); name one with --map COLUMN=FIELD",
            field="map",
        )
    return found


def _time(value: str, name: str, zone: tzinfo | None, date_format: str | None) -> datetime:
    try:
        moment = (
            datetime.strptime(value, date_format)
            if date_format
            else datetime.fromisoformat(value.replace("/", "-"))
        )
    except ValueError:
        shape = date_format or "YYYY-MM-DD HH:MM[:SS]"
        raise _Bad(f"{name} {value!r} is not a date and time ({shape})") from None
    try:
        if moment.tzinfo is None:
            # The export's wall-clock times, in the zone it was made in.
            moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):  # the first or last day a datetime can hold
        raise _Bad(f"{name} {value!r} is out of range") from None


_INCIDENT = Incident.__table__.c  # type: ignore[attr-defined]
# The incident columns cells go to, and their lengths (the write guard's limits).
_LIMITS = {
    name: storage_type(_INCIDENT[name]).length
    for name in ("source_number", "title", "description", "actual_solution")
}
_MULTILINE = frozenset({"description", "close_notes"})


def _text(value: str, column: str, *, what: str) -> str | None:
    """A cleaned cell for an incident column, within the column's length (else a bad row)."""
    limit = _LIMITS[column]
    if limit is not None and len(value) > limit:
        raise _Bad(f"{what} is too long: {len(value)} characters (at most {limit})")
    return value or None


def _name(value: str, what: str, limit: int = 200) -> str | None:
    text = " ".join(value.split()) if "  " in value else value
    if len(text) > limit:
        raise _Bad(f"{what} is too long: {len(text)} characters (at most {limit})")
    return text or None


def read_export(
    data: bytes,
    *,
    mapping: dict[str, str] | None = None,
    zone: tzinfo | None = None,
    date_format: str | None = None,
    priorities: dict[str, str] | None = None,
) -> Parsed:
    """Parse and check every row of an export. `priorities`: the known priority codes and
    names (folded) -> code, for files that give a priority by its code or name."""
    text, encoding = decode(data)
    parsed = Parsed(encoding=encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UsageError(f"line 1: not a CSV header: {error}") from None
    if header is None:
        raise UsageError("the file is empty: no header line")
    columns = _columns(header, mapping or {})
    known = priorities or {}
    now = clock.now()
    places = list(columns.items())
    seen: dict[str, int] = {}
    line_end = reader.line_num
    while True:
        line = line_end + 1
        try:
            record = next(reader, None)
        except csv.Error as error:
            raise UsageError(f"line {line}: the CSV is broken here ({error})") from None
        line_end = reader.line_num
        if record is None:
            break
        if not any(cell.strip() for cell in record):
            continue
        parsed.rows += 1
        cells: dict[str, str] = {}
        width = len(record)
        for name, index in places:
            raw = record[index] if index < width else ""
            # Most cells hold nothing to clean: one C-level test instead of three regexes.
            if not raw.isprintable():
                raw = clean(raw, multiline=name in _MULTILINE)
            cells[name] = raw.strip()
        number = cells["number"] or None
        try:
            row = _row(line, cells, zone, date_format, known, now)
            if row.number in seen:
                raise _Bad(f"number {row.number} appears again (first on line {seen[row.number]})")
            seen[row.number] = line
            parsed.good.append(row)
        except _Bad as bad:
            parsed.bad.append(BadRow(line, number, str(bad)))
    return parsed


def _row(
    line: int,
    cells: dict[str, str],
    zone: tzinfo | None,
    date_format: str | None,
    known: dict[str, str],
    now: datetime,
) -> Row:
    get = cells.get
    number = get("number", "")
    if not number:
        raise _Bad("number is empty")
    source = _text(number, "source_number", what="number")
    assert source is not None
    if not get("opened_at"):
        raise _Bad("opened_at is empty")
    opened = _time(cells["opened_at"], "opened_at", zone, date_format)
    resolved = (
        _time(cells["resolved_at"], "resolved_at", zone, date_format)
        if get("resolved_at")
        else None
    )
    closed = _time(cells["closed_at"], "closed_at", zone, date_format) if get("closed_at") else None
    state = get("state", "")
    key = state.strip().lower()
    if key:
        status = _STATES.get(key)
        if status is None:
            raise _Bad(f"state {state!r} is not closed history (Resolved, Closed or Canceled)")
    elif closed is not None:
        status = Status.CLOSED
    elif resolved is not None:
        status = Status.SOLVED
    else:
        raise _Bad("no state, resolved_at or closed_at: not closed history")
    canceled = key in _CANCELED
    if status == Status.SOLVED:
        if resolved is None:
            raise _Bad(f"state {state or 'Resolved'} needs resolved_at")
        if closed is not None:
            raise _Bad(f"state {state} but closed_at is set")
    elif closed is None:
        if canceled and resolved is not None:
            closed = resolved
        else:
            raise _Bad(f"state {state or 'Closed'} needs closed_at")
    if opened > now:
        raise _Bad(f"opened_at {cells['opened_at']} is in the future")
    if resolved is not None and resolved < opened:
        raise _Bad(f"resolved before opened ({cells.get('resolved_at')} < {cells['opened_at']})")
    if closed is not None and closed < opened:
        raise _Bad(f"closed before opened ({cells.get('closed_at')} < {cells['opened_at']})")
    if closed is not None and resolved is not None and closed < resolved:
        raise _Bad(f"closed before resolved ({cells['closed_at']} < {cells['resolved_at']})")

    priority: tuple[int, str] | None = None
    priority_code: str | None = None
    given = get("priority", "")
    if given:
        match = _PRIORITY.match(given)
        if match and 1 <= int(match.group(1)) <= 9:
            label = _name(match.group(2) or "", "priority label", 100) or ""
            priority = (int(match.group(1)), label)
        elif fold(given) in known:
            priority_code = known[fold(given)]
        else:
            raise _Bad(
                f"priority {given!r} is not 'N - Label' with N from 1 to 9, nor a known "
                "priority code or name"
            )
    category = _name(get("category", ""), "category")
    contact = get("contact_type", "")
    raw = {
        name: cells[name]
        for name in (
            "state",
            "priority",
            "category",
            "subcategory",
            "assignment_group",
            "assigned_to",
            "caller_id",
            "closed_by",
            "opened_by",
            "sys_created_by",
            "location",
            "contact_type",
            "close_code",
        )
        if cells.get(name)
    }
    return Row(
        line=line,
        number=source,
        status=status,
        canceled=canceled,
        opened=opened,
        resolved=resolved,
        closed=closed,
        priority=priority,
        priority_code=priority_code,
        category=category,
        subcategory=_name(get("subcategory", ""), "subcategory") if category else None,
        group=_name(get("assignment_group", ""), "assignment_group"),
        assigned=_name(get("assigned_to", ""), "assigned_to"),
        closed_by=_name(get("closed_by", ""), "closed_by"),
        opened_by=(
            _name(get("opened_by", ""), "opened_by")
            or _name(get("sys_created_by", ""), "sys_created_by")
        ),
        close_code=_name(get("close_code", ""), "close_code"),
        caller=_name(get("caller_id", ""), "caller_id"),
        location=_name(get("location", ""), "location", 500),
        channel=_CHANNELS.get(contact.lower(), "phone"),
        title=_text(get("short_description", ""), "title", what="short_description"),
        description=_text(get("description", ""), "description", what="description"),
        solution=_text(get("close_notes", ""), "actual_solution", what="close_notes"),
        raw=raw,
    )


# ------------------------------------------------------------------------- names to ids


def slug(text: str, limit: int = 40, *, prefix: str = "X") -> str:
    """A code for a name: 'Service Desk' -> 'SERVICE_DESK'; a name with no Latin letters
    or digits gets a stable code from its hash."""
    code = _SLUG_DROP.sub("_", fold(text).upper()).strip("_.-")[:limit].rstrip("_.-")
    if not code:
        code = f"{prefix}-{hashlib.sha1(text.encode()).hexdigest()[:8].upper()}"
    return code


def login_for(name: str) -> str:
    """A login for a person known by name: 'Beth Anglin' -> 'beth.anglin'."""
    login = _LOGIN_DROP.sub(".", fold(name)).strip("._-@")[:80].rstrip("._-@")
    if not login:
        login = f"agent-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    return login


@dataclass
class Lookups:
    departments: dict[str, int] = field(default_factory=dict)  # name -> id
    agents: dict[str, int] = field(default_factory=dict)
    generals: dict[str, int] = field(default_factory=dict)  # category -> code id
    specifics: dict[tuple[str, str], int] = field(default_factory=dict)
    priorities: dict[tuple[int, str] | str, tuple[int, int]] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)  # folded name -> id
    resolutions: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    registrar: int | None = None  # the stand-in for rows that name nobody who registered
    created: dict[str, int] = field(
        default_factory=lambda: {
            "agents": 0,
            "departments": 0,
            "reason_codes": 0,
            "priorities": 0,
            "customers": 0,
            "resolution_codes": 0,
        }
    )


def known_priorities(session: Session) -> dict[str, str]:
    """Folded code and name of every priority -> its code."""
    known: dict[str, str] = {}
    for code, name in session.execute(select(col(Priority.code), col(Priority.name))).all():
        known.setdefault(fold(name), code)
        known[fold(code)] = code
    return known


def resolve_names(session: Session, *, actor: Actor, rows: Sequence[Row]) -> Lookups:
    """Every name the rows use -> an id, creating what is missing (one transaction)."""
    from cc_tui.services.directory.agents import add_agent, add_department, update_agent
    from cc_tui.services.directory.customers import add_named_customers
    from cc_tui.services.sla.priorities import add_priority

    found = Lookups()

    # Departments: by code (the name's code) or name.
    groups = {r.group for r in rows if r.group}
    by_code: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for dept_id, code, name in session.execute(
        select(col(Department.id), col(Department.code), col(Department.name))
    ).all():
        by_code[code.upper()] = dept_id
        by_name.setdefault(name.casefold(), dept_id)
    for group in sorted(groups):
        code = slug(group, prefix="G")
        dept_id = by_code.get(code) or by_name.get(group.casefold())
        if dept_id is None:
            dept_id = add_department(session, actor=actor, code=code, name=group).id
            by_code[code] = dept_id
            found.created["departments"] += 1
        found.departments[group] = dept_id

    # Agents: by login, the login their name gives, or name.
    people = {n for r in rows for n in (r.assigned, r.closed_by, r.opened_by) if n}
    logins: dict[str, int] = {}
    names: dict[str, int] = {}
    for agent_id, login, name in session.execute(
        select(col(Agent.id), col(Agent.login), col(Agent.name))
    ).all():
        logins[login.casefold()] = agent_id
        names.setdefault(name.casefold(), agent_id)

    def inactive_agent(login: str, name: str) -> int:
        # They worked in the desk the history comes from: no sign-in here.
        agent_id = add_agent(session, actor=actor, login=login, name=name).id
        update_agent(session, actor=actor, login=login, active=False)
        logins[login] = agent_id
        found.created["agents"] += 1
        return agent_id

    for person in sorted(people):
        login = login_for(person)
        agent_id = (
            logins.get(person.casefold()) or logins.get(login) or names.get(person.casefold())
        )
        found.agents[person] = agent_id or inactive_agent(login, person)
    if any(r.opened_by is None for r in rows):
        login, name = UNKNOWN_REGISTRAR
        found.registrar = logins.get(login) or inactive_agent(login, name)

    # Reason codes: category -> general, subcategory -> specific under it.
    reasons = _Catalogue(session, actor, found, kind=CodeKind.REASON, prefix="R")
    for category in sorted({r.category for r in rows if r.category}):
        found.generals[category] = reasons.general(category)[0]
    pairs = {(r.category, r.subcategory) for r in rows if r.category and r.subcategory}
    for category, sub in sorted(pairs):
        found.specifics[(category, sub)] = reasons.specific(reasons.general(category), sub)

    _resolutions(session, actor=actor, rows=rows, found=found)

    # Priorities: "N - Label" -> PN (rank N), created when missing.
    existing = {
        code.upper(): (pid, rank)
        for pid, code, rank in session.execute(
            select(col(Priority.id), col(Priority.code), col(Priority.rank))
        ).all()
    }
    wanted = {r.priority for r in rows if r.priority is not None}
    for rank, label in sorted(wanted):
        pcode = f"P{rank}"
        ranked = existing.get(pcode)
        if ranked is None:
            added = add_priority(
                session, actor=actor, code=pcode, name=label or f"Priority {rank}", rank=rank
            )
            ranked = (added.id, rank)
            existing[pcode] = ranked
            found.created["priorities"] += 1
        found.priorities[(rank, label)] = ranked
    for named in {r.priority_code for r in rows if r.priority_code}:
        found.priorities[named] = existing[named.upper()]

    # Customers: the caller's folded name, else a new customer of that name.
    callers: dict[str, tuple[str, str | None]] = {}
    for r in rows:
        if r.caller and fold(r.caller) not in callers:
            callers[fold(r.caller)] = (r.caller, r.location)
    keys = list(callers)
    for first in range(0, len(keys), _IN):
        for cid, key in session.execute(
            select(func.min(col(Customer.id)), col(Customer.search_name))
            .where(col(Customer.search_name).in_(keys[first : first + _IN]))
            .group_by(col(Customer.search_name))
        ).all():
            found.customers[key] = cid
    new = [key for key in keys if key not in found.customers]
    ids = add_named_customers(session, actor=actor, people=[callers[k] for k in new])
    found.customers.update(zip(new, ids, strict=True))
    found.created["customers"] = len(ids)
    return found


class _Catalogue:
    """The codes of one kind as the import finds and creates them: a general code by its
    code (the name's slug) or folded name, a specific one under it likewise, a code by its
    path; created when missing, counted in `created` under the kind's plural."""

    def __init__(
        self, session: Session, actor: Actor, found: Lookups, *, kind: CodeKind, prefix: str
    ) -> None:
        self.session, self.actor, self.found = session, actor, found
        self.kind, self.prefix = kind, prefix
        self.paths: dict[str, tuple[int, int | None]] = {}  # path -> (general, specific)
        self.generals: dict[str, tuple[int, str]] = {}  # code or folded name -> (id, path)
        self.children: dict[int, dict[str, int]] = {}
        codes = session.execute(
            select(
                col(Code.id), col(Code.code), col(Code.path), col(Code.name), col(Code.parent_id)
            )
            .where(col(Code.kind) == kind)
            .order_by(col(Code.id))
        ).all()
        for code_id, code, path, name, parent in codes:
            if parent is None:
                self.paths.setdefault(path.upper(), (code_id, None))
                self.generals.setdefault(code.upper(), (code_id, path))
                self.generals.setdefault(name.casefold(), (code_id, path))
        for code_id, code, path, name, parent in codes:
            if parent is not None:
                self.paths.setdefault(path.upper(), (parent, code_id))
                kids = self.children.setdefault(parent, {})
                kids.setdefault(code.upper(), code_id)
                kids.setdefault(name.casefold(), code_id)

    def _add(self, path: str, name: str) -> Any:
        from cc_tui.services.directory.codes import add_code

        self.found.created[f"{self.kind.value}_codes"] += 1
        return add_code(self.session, actor=self.actor, kind=self.kind.value, path=path, name=name)

    def general(self, name: str) -> tuple[int, str]:
        code = slug(name, prefix=self.prefix)
        got = self.generals.get(code) or self.generals.get(name.casefold())
        if got is None:
            made = self._add(code, name)
            got = self.generals[code] = (made.id, made.path)
        return got

    def specific(self, general: tuple[int, str], name: str) -> int:
        general_id, path = general
        kids = self.children.setdefault(general_id, {})
        code = slug(name, prefix=self.prefix)
        code_id = kids.get(code) or kids.get(name.casefold())
        if code_id is None:
            code_id = kids[code] = self._add(f"{path}/{code}", name).id
        return code_id


def _resolutions(session: Session, *, actor: Actor, rows: Sequence[Row], found: Lookups) -> None:
    """Close codes -> resolution codes. A close code that is a resolution code's path
    (`FIX/REPLACED`) is that code; "General (Specific)" is a general code found by its code
    or name and a specific one under it; any other text a general code alone. Created
    when missing, like reason codes."""
    wanted = sorted({r.close_code for r in rows if r.close_code})
    if not wanted:
        return
    codes = _Catalogue(session, actor, found, kind=CodeKind.RESOLUTION, prefix="S")
    for text in wanted:
        known = codes.paths.get(text.upper())
        if known is not None:
            found.resolutions[text] = known
            continue
        parts = _CLOSE_CODE.match(text)
        if parts is None or not parts.group(2):
            found.resolutions[text] = (codes.general(text)[0], None)
            continue
        general = codes.general(parts.group(1))
        found.resolutions[text] = (general[0], codes.specific(general, parts.group(2)))


# ----------------------------------------------------------------------------- write pass


def _steps(row: Row) -> list[tuple[Status, datetime]]:
    """The status steps of the history after registration, at the file's times."""
    if row.status == Status.SOLVED:
        assert row.resolved is not None
        return [(Status.SOLVED, row.resolved)]
    assert row.closed is not None
    if row.resolved is not None and not row.canceled:
        return [(Status.SOLVED, row.resolved), (Status.CLOSED, row.closed)]
    return [(Status.CLOSED, row.closed)]


def _check_paths() -> None:
    """The steps the import writes are moves the lifecycle allows (system moves)."""
    from cc_tui.services.incidents.lifecycle import check_step

    for path in ((Status.SOLVED,), (Status.SOLVED, Status.CLOSED), (Status.CLOSED,)):
        previous: str = Status.REGISTERED
        for step in path:
            check_step("an imported incident", previous, step, system=True)
            previous = step


def write_chunk(
    session: Session, *, actor: Actor, rows: Sequence[Row], found: Lookups, types: dict[str, int]
) -> tuple[int, int]:
    """Insert the rows not imported yet; (imported, already there)."""
    from cc_tui.services.incidents.lifecycle import status_text

    numbers = [r.number for r in rows]
    there = set(
        session.scalars(
            select(col(Incident.source_number)).where(col(Incident.source_number).in_(numbers))
        )
    )
    todo = [r for r in rows if r.number not in there]
    if not todo:
        return 0, len(there)
    incidents: list[dict[str, Any]] = []
    for r in todo:
        rank_id: tuple[int, int] | None = None
        if r.priority is not None:
            rank_id = found.priorities[r.priority]
        elif r.priority_code is not None:
            rank_id = found.priorities[r.priority_code]
        owner = found.agents.get(r.assigned) if r.assigned else None
        closer = found.agents.get(r.closed_by) if r.closed_by else None
        opener = found.agents[r.opened_by] if r.opened_by else found.registrar
        resolution = found.resolutions[r.close_code] if r.close_code else (None, None)
        last = r.closed or r.resolved or r.opened
        incidents.append(
            {
                "channel": r.channel,
                "request_type": "action",
                "status": r.status.value,
                "title": r.title,
                "description": r.description,
                "caller_name": r.caller,
                "customer_id": found.customers.get(fold(r.caller)) if r.caller else None,
                "reason_general_id": found.generals.get(r.category) if r.category else None,
                "reason_specific_id": (
                    found.specifics.get((r.category, r.subcategory))
                    if r.category and r.subcategory
                    else None
                ),
                "priority_id": rank_id[0] if rank_id else None,
                "priority_rank": rank_id[1] if rank_id else 9,
                "department_id": found.departments.get(r.group) if r.group else None,
                "owner_id": owner,
                "responsible_id": owner,
                "created_by_id": opener,
                "opened_at": r.opened,
                "contact_ended_at": r.opened,
                "registered_at": r.opened,
                "solved_at": r.resolved,
                "closed_at": r.closed if r.status == Status.CLOSED else None,
                "deadlines_manual": False,
                "escalation": "on_time",
                "escalation_rank": 0,
                "paused_minutes": 0,
                "actual_solution": r.solution,
                "resolution_general_id": resolution[0],
                "resolution_specific_id": resolution[1],
                "closed_by_coordinator": True if r.canceled else None,
                "kb_searches": 0,
                "source_number": r.number,
                "version": 1,
                "updated_at": last,
                "updated_by_id": closer or owner or actor.id,
            }
        )
    bulk = BulkRows(session)
    table = Incident.__table__  # type: ignore[attr-defined]
    ids = bulk.reserve_ids(table, len(incidents))
    for incident_id, values in zip(ids, incidents, strict=True):
        values["id"] = incident_id
    bulk.insert(table, incidents)
    who = acted_by(session)
    events: list[dict[str, Any]] = []

    def event(
        incident_id: int, type_code: str, at: datetime, author: int, text: str, data: Any
    ) -> None:
        events.append(
            {
                "incident_id": incident_id,
                "event_type_id": types[type_code],
                "kind": EventKind.SYSTEM.value,
                "at": at,
                "author_id": author,
                "text": text,
                "contact_id": None,
                "duration_minutes": None,
                "corrects_id": None,
                "data": data,
                "acted_by": who,
            }
        )

    for incident_id, r, values in zip(ids, todo, incidents, strict=True):
        event(
            incident_id,
            SystemEvent.IMPORTED.value,
            r.opened,
            values["created_by_id"],
            f"imported from {r.number}" + (f" ({r.raw['state']})" if "state" in r.raw else ""),
            {"source_number": r.number, "line": r.line, **r.raw},
        )
        previous: str = Status.REGISTERED.value
        for step, at in _steps(r):
            author = values["owner_id"] or actor.id
            if step == Status.CLOSED:
                author = values["updated_by_id"]
            event(
                incident_id,
                SystemEvent.STATUS.value,
                at,
                author,
                status_text(previous, step.value, f"imported from {r.number}"),
                {"field": "status", "from": previous, "to": step.value},
            )
            previous = step.value
    bulk.insert(Event.__table__, events)  # type: ignore[attr-defined]
    record_change(session, entity="incident", action="imported", agent_id=actor.id)
    return len(todo), len(there)


def import_incidents(
    db: Database,
    *,
    actor: Actor,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    zone: tzinfo | None = None,
    date_format: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a CSV export of closed incidents (see the module's text); `zone`: the zone of
    times written without one (None: the system's)."""
    actor.require_admin("import history")
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {file}: {error.strerror or error}", field="file") from None
    _check_paths()
    with db.session(write=False) as session:
        known = known_priorities(session)
    parsed = read_export(
        data, mapping=mapping, zone=zone, date_format=date_format, priorities=known
    )
    imported = there = 0
    created = Lookups().created
    if parsed.good:
        total = len(parsed.good)
        if progress:
            progress(0, total)
        # Rows already imported need no names: a second run creates nothing. Every source
        # number the database holds, in one pass over its unique index (one round trip,
        # where a look-up per chunk of the file's numbers would be hundreds).
        numbers = {r.number for r in parsed.good}
        with db.session(write=False) as session:
            have = session.scalars(
                select(col(Incident.source_number)).where(col(Incident.source_number).is_not(None))
            )
            old = {number for number in have if number in numbers}
        there = len(old)
        todo = [r for r in parsed.good if r.number not in old]
        done = there
        if progress and there:
            progress(done, total)
        found = Lookups()
        types: dict[str, int] = {}
        if todo:
            from cc_tui.services.incidents.event_log import event_type, seed_event_types

            with db.session(write=True) as session:
                seed_event_types(session)
                found = resolve_names(session, actor=actor, rows=todo)
                for kind in (SystemEvent.IMPORTED, SystemEvent.STATUS):
                    types[kind.value] = stored_id(event_type(session, kind.value))
        created = found.created
        if todo:
            for first in range(0, len(todo), CHUNK):
                chunk = todo[first : first + CHUNK]
                with db.session(write=True) as session:
                    new, seen = write_chunk(
                        session, actor=actor, rows=chunk, found=found, types=types
                    )
                imported += new
                there += seen
                done += len(chunk)
                if progress:
                    progress(done, total)
    return ImportResult(
        file=str(file),
        encoding=parsed.encoding,
        rows=parsed.rows,
        imported=imported,
        skipped_existing=there,
        bad=parsed.bad,
        created=created,
    )
