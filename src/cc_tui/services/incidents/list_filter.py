"""The `/` filter of every incident list: free words plus `status:`, `owner:`, `customer:`,
`prio:` and `dept:` terms, parsed here once and applied in SQL (the paged incident list) or
to rows already loaded (the board, My work).

    printer status:open prio:P1,P2 owner:none dept:FS customer:"Müller GmbH"

Words must all appear (in the number, title, customer, owner or department); a term's
values separated by commas are alternatives; `status:open` means any open status,
`owner:none` unassigned. Case does not matter.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Protocol

from cc_tui.errors import UsageError
from cc_tui.normalize import fold
from cc_tui.statuses import OPEN_STATUSES, Status

TERMS = ("status", "owner", "customer", "prio", "dept")
# Other spellings agents type.
ALIASES = {"priority": "prio", "department": "dept", "state": "status"}
NOBODY = ("none", "-", "nobody", "unassigned")


class ListedIncident(Protocol):
    """What a list row shows (an incident list row, a queue row)."""

    @property
    def number(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def customer(self) -> str | None: ...
    @property
    def priority(self) -> str | None: ...
    @property
    def owner(self) -> str | None: ...
    @property
    def department(self) -> str | None: ...


@dataclass(frozen=True)
class IncidentFilter:
    """A parsed filter; empty matches everything."""

    words: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    owner: tuple[str, ...] = ()
    customer: tuple[str, ...] = ()
    prio: tuple[str, ...] = ()
    dept: tuple[str, ...] = ()
    text: str = field(default="", compare=False)

    @property
    def empty(self) -> bool:
        return not (
            self.words or self.status or self.owner or self.customer or self.prio or self.dept
        )


def _statuses(value: str) -> list[str]:
    word = value.strip().lower().replace(" ", "_").replace("-", "_")
    if word == "open":
        return [s.value for s in OPEN_STATUSES]
    known = {s.value for s in Status}
    if word not in known:
        raise UsageError(
            f"unknown status {value!r}; one of: open, {', '.join(sorted(known))}", field="filter"
        )
    return [word]


def parse_filter(text: str) -> IncidentFilter:
    """`text` as typed in a list's filter field; an unknown term or status is a UsageError
    that names what is allowed."""
    try:
        parts = shlex.split(text)
    except ValueError:  # an unclosed quote: take the text as words
        parts = text.split()
    words: list[str] = []
    terms: dict[str, list[str]] = {name: [] for name in TERMS}
    for part in parts:
        name, colon, value = part.partition(":")
        key = ALIASES.get(name.lower(), name.lower())
        if not colon or not name:
            words.append(part.lower())
            continue
        if key not in terms:
            raise UsageError(
                f"unknown filter term {name!r}: one of {', '.join(t + ':' for t in TERMS)}",
                field="filter",
            )
        values = [v.strip() for v in value.split(",") if v.strip()]
        if not values:
            raise UsageError(f"{name}: needs a value (e.g. {name}:…)", field="filter")
        for v in values:
            if key == "status":
                terms[key].extend(_statuses(v))
            elif key == "owner" and v.lower() in NOBODY:
                terms[key].append("")
            else:
                terms[key].append(v.lower())
    return IncidentFilter(
        words=tuple(words),
        status=tuple(dict.fromkeys(terms["status"])),
        owner=tuple(terms["owner"]),
        customer=tuple(terms["customer"]),
        prio=tuple(terms["prio"]),
        dept=tuple(terms["dept"]),
        text=text.strip(),
    )


def matches(f: IncidentFilter, row: ListedIncident) -> bool:
    """Whether a loaded row passes the filter (the same rules as `sql_conditions`)."""
    if f.status and row.status not in f.status:
        return False
    owner = (row.owner or "").lower()
    if f.owner and not any((owner == "") if v == "" else (v in owner) for v in f.owner):
        return False
    if f.customer and not any(fold(v) in fold(row.customer or "") for v in f.customer):
        return False
    if f.prio and (row.priority or "").lower() not in f.prio:
        return False
    if f.dept and (row.department or "").lower() not in f.dept:
        return False
    if f.words:
        number = row.number.lower()
        haystack = fold(
            " ".join(
                p or "" for p in (row.number, row.title, row.customer, row.owner, row.department)
            )
        )
        for word in f.words:
            digits = word.removeprefix("inc-")
            if digits.isdigit() and number.removeprefix("inc-") == digits:
                continue
            if fold(word) not in haystack:
                return False
    return True


def _like(column: Any, value: str) -> Any:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def sql_conditions(
    f: IncidentFilter,
    *,
    incident_id: Any,
    status: Any,
    title: Any,
    customer: Any,
    customer_folded: Any,
    owner: Any,
    priority: Any,
    department: Any,
) -> list[Any]:
    """The filter as SQL conditions on the list query's columns (names compared without
    case; the same rules as `matches`)."""
    from sqlalchemy import and_, func, or_

    conditions: list[Any] = []
    if f.status:
        conditions.append(status.in_(f.status))
    if f.owner:
        conditions.append(or_(*(owner.is_(None) if v == "" else _like(owner, v) for v in f.owner)))
    if f.customer:
        conditions.append(
            or_(*(or_(_like(customer, v), _like(customer_folded, fold(v))) for v in f.customer))
        )
    if f.prio:
        conditions.append(func.lower(priority).in_(f.prio))
    if f.dept:
        conditions.append(func.lower(department).in_(f.dept))
    for word in f.words:
        digits = word.removeprefix("inc-")
        alternatives = [
            _like(title, word),
            _like(customer, word),
            _like(customer_folded, fold(word)),
            _like(owner, word),
            _like(department, word),
        ]
        if digits.isdigit():
            alternatives.append(incident_id == int(digits))
        conditions.append(or_(*alternatives))
    return [and_(*conditions)] if conditions else []
