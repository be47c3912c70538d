"""Priority codes (M6) and the default priority of a new incident.

The default comes from the first of: the service contract's override, the customer's
priority, the system default (the one priority flagged default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Customer, Priority, ServiceContract
from cc_tui.models.enums import CoverageBasis
from cc_tui.services import per_batch
from cc_tui.services.context import Actor
from cc_tui.services.worktime.hours import MAX_DURATION_MINUTES

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,19}$")


@dataclass(frozen=True)
class PriorityInfo:
    id: int
    code: str
    name: str
    rank: int
    is_default: bool
    response_minutes: int | None
    follow_up_minutes: int | None
    warning_minutes: int | None
    late_minutes: int | None
    resolve_minutes: int | None
    basis: str
    calendar: str | None
    active: bool
    created_at: datetime


def priority_info(session: Session, priority: Priority) -> PriorityInfo:
    calendar = None
    if priority.calendar_id is not None:
        from cc_tui.models import Calendar

        found = session.get(Calendar, priority.calendar_id)
        calendar = found.name if found else None
    return PriorityInfo(
        id=priority.id or 0,
        code=priority.code,
        name=priority.name,
        rank=priority.rank,
        is_default=priority.is_default,
        response_minutes=priority.response_minutes,
        follow_up_minutes=priority.follow_up_minutes,
        warning_minutes=priority.warning_minutes,
        late_minutes=priority.late_minutes,
        resolve_minutes=priority.resolve_minutes,
        basis=priority.basis,
        calendar=calendar,
        active=priority.active,
        created_at=priority.created_at,
    )


def normalize_code(code: str) -> str:
    text = code.strip().upper()
    if not _CODE.match(text):
        raise UsageError(
            f"priority code {code!r} may hold only letters, digits, '_', '-', '.' (max 20)",
            field="code",
        )
    return text


def _find(session: Session, code: str) -> Priority | None:
    return session.scalars(
        select(Priority).where(func.upper(Priority.code) == code.strip().upper())
    ).first()


def add_priority(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    rank: int = 3,
    is_default: bool = False,
    response_minutes: int | None = None,
    follow_up_minutes: int | None = None,
    warning_minutes: int | None = None,
    late_minutes: int | None = None,
    resolve_minutes: int | None = None,
    basis: str = CoverageBasis.BUSINESS,
    calendar: str | None = None,
) -> PriorityInfo:
    """Add a priority code; a new default takes the flag from the old one."""
    actor.require_admin("add priority codes")
    text = normalize_code(code)
    if not name or not name.strip():
        raise UsageError("a priority needs a name", field="name")
    if not 1 <= rank <= 9:
        raise UsageError(f"rank must be 1 (most urgent) to 9, not {rank}", field="rank")
    offsets = {
        "response_minutes": response_minutes,
        "follow_up_minutes": follow_up_minutes,
        "warning_minutes": warning_minutes,
        "late_minutes": late_minutes,
        "resolve_minutes": resolve_minutes,
    }
    for field, value in offsets.items():
        if value is not None and value < 0:
            raise UsageError(f"{field.replace('_', ' ')} must not be negative", field=field)
        if value is not None and value > MAX_DURATION_MINUTES:
            # Deadlines are instants: an offset beyond ten years means nothing and would
            # overflow the dates computed with it.
            raise UsageError(
                f"{field.replace('_', ' ')} must be 0 to {MAX_DURATION_MINUTES} "
                f"(ten years), not {value}",
                field=field,
            )
    if basis not in {b.value for b in CoverageBasis}:
        raise UsageError(
            f"unknown basis {basis!r}; one of: {', '.join(b.value for b in CoverageBasis)}",
            field="basis",
        )
    if _find(session, text) is not None:
        raise RuleViolation(f"priority {text} exists already", field="code")
    calendar_id = None
    if calendar:
        from cc_tui.services.directory.agents import resolve_calendar

        calendar_id = resolve_calendar(session, calendar).id
    if is_default:
        # Only one default: the new one takes the flag.
        session.execute(
            update(Priority).where(col(Priority.is_default).is_(True)).values(is_default=False)
        )
    priority = Priority(
        code=text,
        name=name.strip(),
        rank=rank,
        is_default=is_default,
        basis=basis,
        calendar_id=calendar_id,
        response_minutes=response_minutes,
        follow_up_minutes=follow_up_minutes,
        warning_minutes=warning_minutes,
        late_minutes=late_minutes,
        resolve_minutes=resolve_minutes,
    )
    session.add(priority)
    session.flush()
    record_change(
        session, entity="priority", action="added", entity_id=priority.id, agent_id=actor.id
    )
    return priority_info(session, priority)


def list_priorities(session: Session, *, include_inactive: bool = False) -> list[PriorityInfo]:
    """Most urgent first."""
    query = select(Priority).order_by(col(Priority.rank), col(Priority.code))
    if not include_inactive:
        query = query.where(col(Priority.active).is_(True))
    return [priority_info(session, p) for p in session.scalars(query).all()]


def resolve_priority(session: Session, code: str) -> Priority:
    """A priority by its code (any case); NotFound lists the valid codes."""
    if not code or not code.strip():
        raise UsageError("empty priority code", field="priority")
    found = _find(session, code)
    if found is None or not found.active:
        valid = session.scalars(
            select(col(Priority.code))
            .where(col(Priority.active).is_(True))
            .order_by(col(Priority.rank))
        ).all()
        listing = ", ".join(valid) if valid else "none defined yet"
        raise NotFound(f"no priority {code.strip()!r}; valid: {listing}", field="priority")
    return found


def default_priority_for(
    session: Session, *, contract_id: int | None = None, customer_id: int | None = None
) -> Priority | None:
    """Contract override, then the customer's priority, then the system default."""
    if contract_id is not None:
        contract = session.get(ServiceContract, contract_id)
        if contract is not None and contract.priority_id is not None:
            priority = session.get(Priority, contract.priority_id)
            if priority is not None and priority.active:
                return priority
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is not None and customer.priority_id is not None:
            priority = session.get(Priority, customer.priority_id)
            if priority is not None and priority.active:
                return priority
    system_default = (
        select(Priority)
        .where(col(Priority.is_default).is_(True), col(Priority.active).is_(True))
        .order_by(col(Priority.id))
    )
    if not per_batch.active():
        return session.scalars(system_default).first()

    def read_id() -> int | None:
        found = session.scalars(system_default).first()
        return found.id if found is not None else None

    default_id = per_batch.shared("default_priority", read_id)
    return per_batch.row(session, Priority, default_id) if default_id is not None else None
