"""Units, warranty, service contracts and subcontract agreements (M3).

A unit is a serial number of an item a customer owns. When it is identified at intake, the
agent sees whether it is under warranty (until when), which service contract covers it,
and which subcontractor services it, if any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_, select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Calendar, Customer, Priority, ServiceContract, SubcontractAgreement, Unit
from cc_tui.services.context import Actor

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_./\-]{0,39}$")
_SERIAL_MAX = 80


@dataclass(frozen=True)
class ContractInfo:
    id: int
    code: str
    customer_id: int
    coverage: str
    description: str | None
    starts_on: date
    ends_on: date | None
    active_now: bool
    priority: str | None
    calendar: str | None
    response_minutes: int | None


@dataclass(frozen=True)
class SubcontractInfo:
    id: int
    code: str
    subcontractor: str
    phone: str | None
    transfer_allowed: bool
    contact: str | None
    customer_id: int | None
    item: str | None
    unit_type: str | None
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class UnitInfo:
    id: int
    serial: str
    item: str
    item_description: str | None
    unit_type: str | None
    customer_id: int
    customer_name: str
    warranty_until: date | None
    under_warranty: bool
    contract: ContractInfo | None
    subcontract: SubcontractInfo | None
    installed_on: date | None = None


def today() -> date:
    return clock.now().date()


def parse_day(text: str | None, field: str) -> date | None:
    """'2026-12-31' -> date; empty -> None; anything else -> UsageError naming the field."""
    if text is None or not text.strip():
        return None
    return require_day(text, field)


def require_day(text: str | None, field: str) -> date:
    if text is None or not text.strip():
        raise UsageError(f"{field.replace('_', ' ')} is required (YYYY-MM-DD)", field=field)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{field.replace('_', ' ')} must be a date YYYY-MM-DD, not {text!r}", field=field
        ) from None


def _code(value: str, what: str) -> str:
    text = value.strip().upper()
    if not _CODE.match(text):
        raise UsageError(
            f"{what} code {value!r} may hold only letters, digits, '_', '.', '/', '-' (max 40)",
            field="code",
        )
    return text


def _label(value: str | None, field: str, max_length: int = 80) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > max_length:
        raise UsageError(f"{field.replace('_', ' ')} is longer than {max_length}", field=field)
    return text or None


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="customer")
    return customer


def _runs(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise UsageError(
            f"ends {ends_on.isoformat()} before it starts {starts_on.isoformat()}", field="ends_on"
        )


# ---------------------------------------------------------------------------- contracts


def _active_on(starts_on: date, ends_on: date | None, active: bool, on: date) -> bool:
    return active and starts_on <= on and (ends_on is None or on <= ends_on)


def contract_info(
    session: Session, contract: ServiceContract, *, on: date | None = None
) -> ContractInfo:
    day = on or today()
    priority = session.get(Priority, contract.priority_id) if contract.priority_id else None
    calendar = session.get(Calendar, contract.calendar_id) if contract.calendar_id else None
    return ContractInfo(
        id=contract.id or 0,
        code=contract.code,
        customer_id=contract.customer_id,
        coverage=contract.coverage,
        description=contract.description,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        active_now=_active_on(contract.starts_on, contract.ends_on, contract.active, day),
        priority=priority.code if priority else None,
        calendar=calendar.name if calendar else None,
        response_minutes=contract.response_minutes,
    )


def _find_contract(session: Session, code: str) -> ServiceContract | None:
    return session.scalars(
        select(ServiceContract).where(col(ServiceContract.code) == code.strip().upper())
    ).first()


def resolve_contract(session: Session, code: str) -> ServiceContract:
    found = _find_contract(session, code)
    if found is None:
        raise NotFound(f"no service contract {code.strip()!r}", field="contract")
    return found


def add_contract(
    session: Session,
    *,
    actor: Actor,
    code: str,
    customer_id: int,
    starts_on: date,
    ends_on: date | None = None,
    coverage: str = "",
    description: str | None = None,
    priority: str | None = None,
    calendar: str | None = None,
    response_minutes: int | None = None,
) -> ContractInfo:
    actor.require_admin("add service contracts")
    text = _code(code, "contract")
    _customer(session, customer_id)
    _runs(starts_on, ends_on)
    if response_minutes is not None and response_minutes <= 0:
        raise UsageError("response minutes must be positive", field="response_minutes")
    if _find_contract(session, text) is not None:
        raise RuleViolation(f"service contract {text} exists already", field="code")
    priority_id = None
    if priority:
        from cc_tui.services.sla.priorities import resolve_priority

        priority_id = resolve_priority(session, priority).id
    calendar_id = None
    if calendar:
        from cc_tui.services.directory.agents import resolve_calendar

        calendar_id = resolve_calendar(session, calendar).id
    contract = ServiceContract(
        code=text,
        customer_id=customer_id,
        description=_label(description, "description", 500),
        coverage=_label(coverage, "coverage", 500) or "",
        starts_on=starts_on,
        ends_on=ends_on,
        calendar_id=calendar_id,
        priority_id=priority_id,
        response_minutes=response_minutes,
    )
    session.add(contract)
    session.flush()
    record_change(
        session, entity="contract", action="added", entity_id=contract.id, agent_id=actor.id
    )
    return contract_info(session, contract)


def list_contracts(
    session: Session, *, customer_id: int | None = None, on: date | None = None
) -> list[ContractInfo]:
    query = select(ServiceContract).order_by(ServiceContract.code)
    if customer_id is not None:
        query = query.where(col(ServiceContract.customer_id) == customer_id)
    return [contract_info(session, c, on=on) for c in session.scalars(query).all()]


# ---------------------------------------------------------------------------- subcontracts


def subcontract_info(session: Session, agreement: SubcontractAgreement) -> SubcontractInfo:
    return SubcontractInfo(
        id=agreement.id or 0,
        code=agreement.code,
        subcontractor=agreement.subcontractor,
        phone=agreement.phone,
        transfer_allowed=agreement.transfer_allowed,
        contact=agreement.contact,
        customer_id=agreement.customer_id,
        item=agreement.item,
        unit_type=agreement.unit_type,
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
    )


def add_subcontract(
    session: Session,
    *,
    actor: Actor,
    code: str,
    subcontractor: str,
    starts_on: date,
    ends_on: date | None = None,
    customer_id: int | None = None,
    item: str | None = None,
    unit_type: str | None = None,
    phone: str | None = None,
    contact: str | None = None,
    transfer_allowed: bool = True,
) -> SubcontractInfo:
    """An agreement with a third party servicing a customer's, an item's or a unit type's
    units (any combination; an empty scope field matches any)."""
    actor.require_admin("add subcontract agreements")
    text = _code(code, "subcontract")
    name = _label(subcontractor, "subcontractor", 200)
    if not name:
        raise UsageError("a subcontract agreement needs the subcontractor", field="subcontractor")
    _runs(starts_on, ends_on)
    if customer_id is not None:
        _customer(session, customer_id)
    if session.scalars(
        select(col(SubcontractAgreement.id)).where(col(SubcontractAgreement.code) == text)
    ).first():
        raise RuleViolation(f"subcontract agreement {text} exists already", field="code")
    agreement = SubcontractAgreement(
        code=text,
        subcontractor=name,
        contact=_label(contact, "contact", 200),
        phone=_label(phone, "phone", 40),
        customer_id=customer_id,
        item=_label(item, "item"),
        unit_type=_label(unit_type, "unit_type"),
        starts_on=starts_on,
        ends_on=ends_on,
        transfer_allowed=transfer_allowed,
    )
    session.add(agreement)
    session.flush()
    record_change(
        session, entity="subcontract", action="added", entity_id=agreement.id, agent_id=actor.id
    )
    return subcontract_info(session, agreement)


def subcontract_for(
    session: Session, unit: Unit, *, on: date | None = None
) -> SubcontractAgreement | None:
    """The active agreement that covers the unit; the most specific scope wins."""
    day = on or today()
    A = SubcontractAgreement
    specificity = (
        case((col(A.customer_id).is_not(None), 1), else_=0)
        + case((col(A.item).is_not(None), 1), else_=0)
        + case((col(A.unit_type).is_not(None), 1), else_=0)
    )
    query = (
        select(A)
        .where(
            col(A.active).is_(True),
            col(A.starts_on) <= day,
            or_(col(A.ends_on).is_(None), col(A.ends_on) >= day),
            or_(col(A.customer_id).is_(None), col(A.customer_id) == unit.customer_id),
            or_(col(A.item).is_(None), col(A.item) == unit.item),
            or_(col(A.unit_type).is_(None), col(A.unit_type) == unit.unit_type),
        )
        .order_by(specificity.desc(), col(A.starts_on).desc(), col(A.id).desc())
        .limit(1)
    )
    return session.scalars(query).first()


# ---------------------------------------------------------------------------- units


def unit_info_of(session: Session, unit: Unit, *, on: date | None = None) -> UnitInfo:
    day = on or today()
    customer = session.get(Customer, unit.customer_id)
    contract = session.get(ServiceContract, unit.contract_id) if unit.contract_id else None
    agreement = subcontract_for(session, unit, on=day)
    return UnitInfo(
        id=unit.id or 0,
        serial=unit.serial,
        item=unit.item,
        item_description=unit.item_description,
        unit_type=unit.unit_type,
        customer_id=unit.customer_id,
        customer_name=customer.name if customer else "",
        warranty_until=unit.warranty_until,
        under_warranty=unit.warranty_until is not None and day <= unit.warranty_until,
        contract=contract_info(session, contract, on=day) if contract else None,
        subcontract=subcontract_info(session, agreement) if agreement else None,
        installed_on=unit.installed_on,
    )


def _serial(value: str) -> str:
    text = value.strip()
    if not text:
        raise UsageError("a unit needs a serial number", field="serial")
    if len(text) > _SERIAL_MAX or any(c.isspace() for c in text):
        raise UsageError(
            f"serial number {value!r} must be one word of at most {_SERIAL_MAX} characters",
            field="serial",
        )
    # Serial numbers are matched ignoring case: stored upper-case.
    return text.upper()


def _find_unit(session: Session, serial: str) -> Unit | None:
    text = serial.strip()
    return session.scalars(select(Unit).where(col(Unit.serial).in_({text, text.upper()}))).first()


def add_unit(
    session: Session,
    *,
    actor: Actor,
    serial: str,
    item: str,
    customer_id: int,
    unit_type: str | None = None,
    item_description: str | None = None,
    warranty_until: date | None = None,
    contract: str | None = None,
    installed_on: date | None = None,
    location: str | None = None,
) -> UnitInfo:
    """Register a unit (any agent may, at intake). Its contract must be the owner's."""
    text = _serial(serial)
    item_text = _label(item, "item")
    if not item_text:
        raise UsageError("a unit needs an item", field="item")
    _customer(session, customer_id)
    if _find_unit(session, text) is not None:
        raise RuleViolation(f"serial number {text} is registered already", field="serial")
    contract_id = None
    if contract:
        found = resolve_contract(session, contract)
        if found.customer_id != customer_id:
            raise RuleViolation(
                f"contract {found.code} belongs to another customer (id {found.customer_id})",
                field="contract",
            )
        contract_id = found.id
    unit = Unit(
        serial=text,
        item=item_text,
        item_description=_label(item_description, "item_description", 200),
        unit_type=_label(unit_type, "unit_type"),
        customer_id=customer_id,
        installed_on=installed_on,
        warranty_until=warranty_until,
        contract_id=contract_id,
        location=_label(location, "location", 200),
    )
    session.add(unit)
    session.flush()
    record_change(session, entity="unit", action="added", entity_id=unit.id, agent_id=actor.id)
    return unit_info_of(session, unit)


def unit_by_serial(session: Session, serial: str, *, on: date | None = None) -> UnitInfo:
    if not serial or not serial.strip():
        raise UsageError("empty serial number", field="serial")
    unit = _find_unit(session, serial)
    if unit is None:
        raise NotFound(f"no unit with serial number {serial.strip()!r}", field="serial")
    return unit_info_of(session, unit, on=on)


def unit_info(session: Session, unit_id: int, *, on: date | None = None) -> UnitInfo:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit with id {unit_id}", field="unit")
    return unit_info_of(session, unit, on=on)


def units_of_customer(
    session: Session, customer_id: int, *, on: date | None = None
) -> list[UnitInfo]:
    _customer(session, customer_id)
    units = session.scalars(
        select(Unit).where(col(Unit.customer_id) == customer_id).order_by(col(Unit.serial))
    ).all()
    return [unit_info_of(session, u, on=on) for u in units]
