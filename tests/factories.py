"""Small builders for test data, written straight to the tables (fast, explicit)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cc_tui.models import (
    Agent,
    Contact,
    Customer,
    Department,
    Priority,
    ServiceContract,
    SubcontractAgreement,
    Unit,
)
from cc_tui.normalize import email_key, fold, normalize_phone
from cc_tui.services.context import actor_of
from cc_tui.services.directory.codes import add_code
from cc_tui.services.directory.customers import index_names


def customer(
    session,
    name="Müller GmbH",
    *,
    phone=None,
    email=None,
    block="none",
    reason=None,
    number=None,
    priority_id=None,
) -> Customer:
    row = Customer(
        number=number or f"K-{abs(hash(name)) % 100000:05d}",
        name=name,
        search_name=fold(name),
        phone=phone,
        phone_e164=normalize_phone(phone) if phone else None,
        email=email,
        email_key=email_key(email),
        block_level=block,
        block_reason=reason,
        priority_id=priority_id,
    )
    session.add(row)
    session.flush()
    index_names(session, row)
    return row


def contact(session, customer_row, name="Anna Nowak", *, phone=None, email=None) -> Contact:
    row = Contact(
        customer_id=customer_row.id,
        name=name,
        search_name=fold(name),
        phone=phone,
        phone_e164=normalize_phone(phone) if phone else None,
        email=email,
        email_key=email_key(email),
    )
    session.add(row)
    session.flush()
    index_names(session, row)
    return row


def priority(session, code="P3", *, rank=3, default=False) -> Priority:
    row = Priority(code=code, name=f"Priority {code}", rank=rank, is_default=default)
    session.add(row)
    session.flush()
    return row


def unit(
    session,
    customer_row,
    serial="SN-1",
    *,
    warranty_until=None,
    contract=None,
    unit_type="printer",
    item="LJ-4000",
) -> Unit:
    row = Unit(
        serial=serial,
        item=item,
        unit_type=unit_type,
        customer_id=customer_row.id,
        warranty_until=warranty_until,
        contract_id=contract.id if contract else None,
    )
    session.add(row)
    session.flush()
    return row


def contract(session, customer_row, code="SC-1", *, priority_id=None) -> ServiceContract:
    row = ServiceContract(
        code=code,
        customer_id=customer_row.id,
        coverage="parts and labour",
        starts_on=date(2020, 1, 1),
        priority_id=priority_id,
    )
    session.add(row)
    session.flush()
    return row


def subcontract(session, code="SUB-1", *, item=None, unit_type=None) -> SubcontractAgreement:
    row = SubcontractAgreement(
        code=code,
        subcontractor="PrintFix BV",
        item=item,
        unit_type=unit_type,
        starts_on=date(2020, 1, 1),
    )
    session.add(row)
    session.flush()
    return row


def department(session, code="DESK", name="Service desk") -> Department:
    row = Department(code=code, name=name)
    session.add(row)
    session.flush()
    return row


def agent(session, login="bob", *, role="agent", department_id=None):
    row = Agent(login=login, name=login.title(), role=role, department_id=department_id)
    session.add(row)
    session.flush()
    return actor_of(row)


def codes(session, admin) -> None:
    """A small classification set: reasons, resolutions, a request type, a problem code."""
    department(session, "FIELD", "Field service")
    for kind, path in [
        ("reason", "HW"),
        ("reason", "HW/DISK"),
        ("reason", "HW/PRINT"),
        ("reason", "SW"),
        ("reason", "SW/LOGIN"),
        ("resolution", "FIX"),
        ("resolution", "FIX/REPLACED"),
        ("resolution", "FIX/CONFIG"),
        ("request-type", "COMPLAINT"),
        ("problem", "FIELD/PRINTERS/LASER/PICKUP"),
    ]:
        add_code(session, actor=admin, kind=kind, path=path)


# --- a clock the services read, and action requests on it --------------------------------


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Clock:
    """The program's notion of now, set by the test (`clock.now = ...`)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fake_clock(monkeypatch, now: datetime) -> Clock:
    """Make the program's clock (`cc_tui.clock`) read a `Clock` starting at `now`."""
    import cc_tui.clock

    fake = Clock(now)
    monkeypatch.setattr(cc_tui.clock, "source", fake)
    return fake


def register(db, admin, customer: int, **form) -> str:
    """Save a disk-full action request for the customer (its number); `form` overrides."""
    from cc_tui.services.incidents.intake import IntakeForm, save_call

    values = {
        "request_type": "action",
        "customer_id": customer,
        "title": "Disk full",
        "reason": "HW/DISK",
        "problem_code": "DESK/IT/PC/DISK",
        **form,
    }
    with db.session() as s:
        return save_call(s, actor=admin, channel="phone", form=IntakeForm(**values)).number


def normal_priority(session, admin) -> None:
    """P2, the default: 1h response, 2h follow-up, 4h warning, 8h late, 16h resolve, in
    business hours."""
    from cc_tui.services.sla.priorities import add_priority

    add_priority(
        session,
        actor=admin,
        code="P2",
        name="Normal",
        rank=2,
        is_default=True,
        response_minutes=60,
        follow_up_minutes=120,
        warning_minutes=240,
        late_minutes=480,
        resolve_minutes=960,
        basis="business",
    )
