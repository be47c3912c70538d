"""Customers and contact persons (M2), and identifying a caller from whatever is typed.

Look-up as you type must stay fast on hundreds of thousands of customers, so every search
is an indexed equality or prefix range: E.164 phone numbers, e-mail keys, customer and
serial numbers, the folded whole name (`customer.search_name`) and the words of customer
and contact names (`customer_token`, kept in step here whenever a name is written).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.db.guard import checked_values
from cc_tui.errors import CcError, Conflict, NotFound, RuleViolation, UsageError, stale_version
from cc_tui.models import Agent, Contact, Customer, Incident, Priority, Unit
from cc_tui.models.customer import CustomerToken
from cc_tui.models.enums import OPEN_STATUSES, BlockLevel
from cc_tui.normalize import (
    TERM_LENGTH,
    email_key,
    fold,
    looks_like_phone,
    name_terms,
    normalize_phone,
    validate_email,
)
from cc_tui.services.context import Actor
from cc_tui.services.partial import given

NUMBER_PREFIX = "K-"
NUMBER_BASE = 100_000
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9_./\-]{0,39}$")
_WORD = re.compile(r"[^\W_]+")
# Customer numbers and serials are one word with at least one digit ("K-100042", "SN-77").
_IDENTIFIER = re.compile(r"^(?=.*\d)[^\s]{1,80}$")
MAX_LIMIT = 100


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ContactInfo:
    id: int
    customer_id: int
    name: str
    role: str | None
    phone: str | None
    phone_e164: str | None
    mobile: str | None
    email: str | None
    is_primary: bool
    mobile_e164: str | None = None
    active: bool = True
    # email, sms, none; None: as the customer.
    notify: str | None = None


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    number: str
    name: str
    address: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    phone: str | None
    phone_e164: str | None
    fax: str | None
    email: str | None
    region: str | None
    block_level: str
    block_reason: str | None
    priority: str | None
    contacts: list[ContactInfo]
    version: int
    fax_e164: str | None = None
    updated_at: datetime | None = None
    # How they hear from us (email, sms, none) and in which language.
    notify: str = "email"
    language: str | None = None


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: int
    number: str
    name: str
    city: str | None
    phone: str | None
    email: str | None
    region: str | None
    block_level: str
    block_reason: str | None
    matched_by: str  # phone | email | name | number | serial | contact
    contact_id: int | None
    contact_name: str | None
    unit_id: int | None
    unit_serial: str | None
    open_incidents: int


# ---------------------------------------------------------------------------- search terms


def query_words(text: str) -> list[str]:
    return [w[:TERM_LENGTH] for w in _WORD.findall(fold(unicodedata.normalize("NFC", text)))]


def write_terms(
    session: Session, *, customer_id: int, contact_id: int | None, name: str, replace: bool
) -> None:
    """(Re)write the words of one name: the customer's own (contact_id None) or a contact's.

    Every function here that writes a name calls it in the same transaction; with `replace`
    the owner's old words go first."""
    if replace:
        if contact_id is None:
            stale = and_(
                col(CustomerToken.customer_id) == customer_id,
                col(CustomerToken.contact_id).is_(None),
            )
        else:
            stale = col(CustomerToken.contact_id) == contact_id
        session.execute(delete(CustomerToken).where(stale))
    rows = [
        {"term": t, "customer_id": customer_id, "contact_id": contact_id}
        for t in sorted(name_terms(name))
    ]
    if rows:
        session.execute(insert(CustomerToken), rows)


def index_names(session: Session, *rows: Customer | Contact) -> None:
    """Write the name words of customers and contacts added without this module (test data,
    an import through the ORM), after they were flushed; their old words are replaced."""
    for row in rows:
        assert row.id is not None, "flush the rows first"
        if isinstance(row, Customer):
            write_terms(session, customer_id=row.id, contact_id=None, name=row.name, replace=True)
        else:
            write_terms(
                session,
                customer_id=row.customer_id,
                contact_id=row.id,
                name=row.name,
                replace=True,
            )


def rebuild_search_index(session: Session, *, batch: int = 5000) -> int:
    """Recompute every name word (after a bulk load that wrote customers directly).
    Returns the number of words written."""
    session.execute(delete(CustomerToken))
    written = 0
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written
        if pending:
            session.execute(insert(CustomerToken), pending)
            written += len(pending)
            pending.clear()

    sources = (
        select(col(Customer.id), literal(None).label("contact_id"), col(Customer.name)),
        select(col(Contact.customer_id), col(Contact.id), col(Contact.name)),
    )
    for source in sources:
        for customer_id, contact_id, name in session.execute(source).yield_per(batch):
            for term in name_terms(name):
                pending.append({"term": term, "customer_id": customer_id, "contact_id": contact_id})
            if len(pending) >= batch:
                flush()
    flush()
    return written


# ---------------------------------------------------------------------------- validation


def _text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > max_length:
        raise UsageError(f"{field.replace('_', ' ')} is longer than {max_length}", field=field)
    return text or None


def _name(value: str | None) -> str:
    text = _text(value, "name", 200)
    if not text:
        raise UsageError("a name is required", field="name")
    return text


def _country(value: str | None) -> str | None:
    text = _text(value, "country", 2)
    if text is None:
        return None
    import phonenumbers

    code = text.upper()
    if len(code) != 2 or phonenumbers.country_code_for_region(code) == 0:
        raise UsageError(f"not a two-letter country code: {value!r}", field="country")
    return code


def _phone(value: str | None, field: str, country: str) -> tuple[str | None, str | None]:
    """(as typed, E.164) or UsageError naming the field."""
    text = _text(value, field, 40)
    if text is None:
        return None, None
    try:
        return text, normalize_phone(text, country)
    except UsageError as error:
        message = error.message.replace("phone number", f"{field} number")
        raise UsageError(message, field=field) from None


def _email(value: str | None, field: str = "email") -> tuple[str | None, str | None]:
    text = _text(value, field, 254)
    if text is None:
        return None, None
    try:
        valid = validate_email(text)
    except UsageError as error:
        raise UsageError(error.message, field=field) from None
    return valid, email_key(valid)


def _number(value: str) -> str:
    text = value.strip().upper()
    if not _NUMBER.match(text):
        raise UsageError(
            f"customer number {value!r} may hold only letters, digits, '_', '.', '/', '-' (max 40)",
            field="number",
        )
    return text


def _block(level: str | None, reason: str | None) -> tuple[str, str | None]:
    text = (level or BlockLevel.NONE).strip().lower()
    if text not in {b.value for b in BlockLevel}:
        raise UsageError(f"block must be none, warn or block, not {level!r}", field="block")
    reason_text = _text(reason, "block_reason", 500)
    if text == BlockLevel.NONE:
        return text, None
    if not reason_text:
        raise UsageError(
            f"a customer flagged {text} needs a reason (the agent reads it to the caller)",
            field="block_reason",
        )
    return text, reason_text


def _priority_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    from cc_tui.services.sla.priorities import resolve_priority

    return resolve_priority(session, code).id


# ---------------------------------------------------------------------------- reading


def _contact_info(contact: Contact) -> ContactInfo:
    return ContactInfo(
        id=contact.id or 0,
        customer_id=contact.customer_id,
        name=contact.name,
        role=contact.role,
        phone=contact.phone,
        phone_e164=contact.phone_e164,
        mobile=contact.mobile,
        email=contact.email,
        is_primary=contact.is_primary,
        mobile_e164=contact.mobile_e164,
        active=contact.active,
        notify=contact.notify,
    )


def customer_info(session: Session, customer: Customer) -> CustomerInfo:
    contacts = session.scalars(
        select(Contact)
        .where(col(Contact.customer_id) == customer.id, col(Contact.active).is_(True))
        .order_by(col(Contact.is_primary).desc(), col(Contact.name), col(Contact.id))
    ).all()
    priority = session.get(Priority, customer.priority_id) if customer.priority_id else None
    return CustomerInfo(
        id=customer.id or 0,
        number=customer.number,
        name=customer.name,
        address=customer.address,
        postal_code=customer.postal_code,
        city=customer.city,
        country=customer.country,
        phone=customer.phone,
        phone_e164=customer.phone_e164,
        fax=customer.fax,
        email=customer.email,
        region=customer.region,
        block_level=customer.block_level,
        block_reason=customer.block_reason,
        priority=priority.code if priority else None,
        contacts=[_contact_info(c) for c in contacts],
        version=customer.version,
        fax_e164=customer.fax_e164,
        updated_at=customer.updated_at,
        notify=customer.notify,
        language=customer.language,
    )


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="customer")
    return customer


def get_customer(session: Session, customer_id: int) -> CustomerInfo:
    return customer_info(session, _customer(session, customer_id))


def customer_by_number(session: Session, number: str) -> CustomerInfo:
    text = number.strip()
    found = session.scalars(
        select(Customer).where(col(Customer.number).in_({text, text.upper()}))
    ).first()
    if found is None:
        raise NotFound(f"no customer number {text!r}", field="customer")
    return customer_info(session, found)


def customer_by_ref(session: Session, ref: str | int) -> CustomerInfo:
    """A customer by id (`42`) or customer number (`K-100042`)."""
    if isinstance(ref, int):
        return get_customer(session, ref)
    text = ref.strip()
    if not text:
        raise UsageError("empty customer reference", field="customer")
    if text.isdigit():
        found = session.get(Customer, int(text))
        if found is None:
            found = session.scalars(select(Customer).where(col(Customer.number) == text)).first()
        if found is None:
            raise NotFound(f"no customer with id or number {text}", field="customer")
        return customer_info(session, found)
    return customer_by_number(session, text)


# ---------------------------------------------------------------------------- writing


def _assign_number(session: Session, customer: Customer) -> None:
    """K-<100000 + id>: unique without a counter table, also under concurrent intake."""
    base = f"{NUMBER_PREFIX}{NUMBER_BASE + (customer.id or 0)}"
    candidate, suffix = base, 1
    while session.scalars(
        select(col(Customer.id)).where(col(Customer.number) == candidate)
    ).first():
        suffix += 1
        candidate = f"{base}-{suffix}"
    customer.number = candidate


def add_customer(
    session: Session,
    *,
    actor: Actor,
    name: str | None,
    phone: str | None = None,
    email: str | None = None,
    fax: str | None = None,
    address: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    country: str | None = None,
    region: str | None = None,
    block: str | None = None,
    block_reason: str | None = None,
    number: str | None = None,
    priority: str | None = None,
    default_country: str = "DE",
    other_contact: str | None = None,
    notes: str | None = None,
    notify: str | None = None,
    language: str | None = None,
) -> CustomerInfo:
    """Add a customer (any agent may, at intake); flagging one warn/block takes a supervisor.
    `notify` (email, sms, none; default email) is how they hear from us."""
    level, reason = _block(block, block_reason)
    preference = (_preference(notify) if notify else None) or "email"
    if level != BlockLevel.NONE:
        actor.require_supervisor("flag a customer warn or block")
    country_code = _country(country)
    phone_country = country_code or default_country
    phone_text, phone_e164 = _phone(phone, "phone", phone_country)
    fax_text, fax_e164 = _phone(fax, "fax", phone_country)
    email_text, email_k = _email(email)
    number_text = _number(number) if number and number.strip() else None
    if (
        number_text is not None
        and session.scalars(
            select(col(Customer.id)).where(col(Customer.number) == number_text)
        ).first()
    ):
        raise RuleViolation(f"customer number {number_text} is taken", field="number")
    customer_name = _name(name)
    customer = Customer(
        # A unique placeholder until the id is known (the number is derived from it).
        number=number_text or f"~{uuid.uuid4().hex[:30]}",
        name=customer_name,
        search_name=fold(customer_name)[:200],
        address=_text(address, "address", 500),
        postal_code=_text(postal_code, "postal_code", 20),
        city=_text(city, "city", 100),
        country=country_code,
        phone=phone_text,
        phone_e164=phone_e164,
        fax=fax_text,
        fax_e164=fax_e164,
        email=email_text,
        email_key=email_k,
        other_contact=_text(other_contact, "other_contact", 500),
        region=_text(region, "region", 40),
        block_level=level,
        block_reason=reason,
        priority_id=_priority_id(session, priority),
        notes=notes.strip() or None if notes else None,
        notify=preference,
        language=_language(language),
        updated_by_id=actor.id,
    )
    session.add(customer)
    session.flush()
    if number_text is None:
        _assign_number(session, customer)
        session.flush()
    assert customer.id is not None
    write_terms(
        session, customer_id=customer.id, contact_id=None, name=customer.name, replace=False
    )
    record_change(
        session, entity="customer", action="added", entity_id=customer.id, agent_id=actor.id
    )
    return customer_info(session, customer)


def add_named_customers(
    session: Session, *, actor: Actor, people: Sequence[tuple[str, str | None]]
) -> list[int]:
    """Customers known only by name (and an address), as an imported history names its
    callers: a few statements for any number of them, numbered K-<100000 + id> as
    `add_customer` numbers them, with their name words for the look-up. `people` are
    (name, address) already cleaned and within their lengths. Returns the new ids, in order."""
    if not people:
        return []
    actor.require_admin("add customers in bulk")
    now = clock.now()
    table = Customer.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "number": f"~{uuid.uuid4().hex[:30]}",
            "name": name,
            "search_name": fold(name)[:200],
            "address": address,
            "block_level": BlockLevel.NONE.value,
            "created_at": now,
            "updated_at": now,
            "updated_by_id": actor.id,
            "version": 1,
        }
        for name, address in people
    ]
    ids: list[int] = []
    for first in range(0, len(rows), _BULK):
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            rows[first : first + _BULK],
        )
        ids.extend(int(row[0]) for row in result)
    wanted = {cid: f"{NUMBER_PREFIX}{NUMBER_BASE + cid}" for cid in ids}
    taken: set[str] = set()
    values = list(wanted.values())
    for first in range(0, len(values), _BULK):
        taken.update(
            session.scalars(
                select(col(Customer.number)).where(
                    col(Customer.number).in_(values[first : first + _BULK])
                )
            )
        )
    numbers = []
    for cid, candidate in wanted.items():
        base, suffix = candidate, 1
        while candidate in taken:  # a number typed by hand earlier: the next free suffix
            suffix += 1
            candidate = f"{base}-{suffix}"
        taken.add(candidate)
        numbers.append({"cid": cid, "num": candidate})
    session.execute(
        update(table).where(table.c.id == bindparam("cid")).values(number=bindparam("num")),
        numbers,
    )
    tokens = [
        {"term": term, "customer_id": cid, "contact_id": None}
        for cid, (name, _address) in zip(ids, people, strict=True)
        for term in sorted(name_terms(name))
    ]
    for first in range(0, len(tokens), _BULK):
        session.execute(insert(CustomerToken), tokens[first : first + _BULK])
    record_change(session, entity="customer", action="added", agent_id=actor.id)
    return ids


_BULK = 1000  # rows per statement in bulk writes


_UPDATABLE = {
    "name",
    "phone",
    "email",
    "fax",
    "address",
    "postal_code",
    "city",
    "country",
    "region",
    "block",
    "block_level",
    "block_reason",
    "priority",
    "number",
    "other_contact",
    "notes",
    "notify",
    "language",
}

NOTIFY_PREFERENCES = ("email", "sms", "none")


def _preference(value: Any, *, allow_default: bool = False) -> str | None:
    text = (value or "").strip().lower()
    if allow_default and text in ("", "default"):
        return None
    if text not in NOTIFY_PREFERENCES:
        raise UsageError(
            f"notify must be one of {', '.join(NOTIFY_PREFERENCES)}, not {value!r}", field="notify"
        )
    return text


def _language(value: Any) -> str | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if not re.fullmatch(r"[a-z]{2,8}", text):
        raise UsageError(
            f"a language is a code of 2 to 8 letters such as de or en, not {value!r}",
            field="language",
        )
    return text


def _conflict(session: Session, customer: Customer, expected_version: int) -> Conflict:
    who = session.get(Agent, customer.updated_by_id) if customer.updated_by_id else None
    return stale_version(
        f"customer {customer.number}",
        by=who.login if who else None,
        at=customer.updated_at,
        version=customer.version,
        expected=expected_version,
        field="version",
    )


def update_customer(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    expected_version: int,
    default_country: str = "DE",
    **fields: Any,
) -> CustomerInfo:
    """Change the given fields (None clears an optional one). A stale `expected_version`
    is refused with who changed the customer and when; nothing is overwritten. A field
    passed as UNSET counts as not given."""
    fields = given(fields)
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise UsageError(
            f"cannot change {', '.join(sorted(unknown))}; changeable: "
            f"{', '.join(sorted(_UPDATABLE))}"
        )
    if not fields:
        raise UsageError("nothing to change")
    customer = _customer(session, customer_id)
    if customer.version != expected_version:
        raise _conflict(session, customer, expected_version)

    values: dict[str, Any] = {}
    if "name" in fields:
        values["name"] = _name(fields["name"])
        values["search_name"] = fold(values["name"])[:200]
    if "country" in fields:
        values["country"] = _country(fields["country"])
    phone_country = values.get("country", customer.country) or default_country
    if "phone" in fields:
        values["phone"], values["phone_e164"] = _phone(fields["phone"], "phone", phone_country)
    if "fax" in fields:
        values["fax"], values["fax_e164"] = _phone(fields["fax"], "fax", phone_country)
    if "email" in fields:
        values["email"], values["email_key"] = _email(fields["email"])
    for field, length in (
        ("address", 500),
        ("postal_code", 20),
        ("city", 100),
        ("region", 40),
        ("other_contact", 500),
    ):
        if field in fields:
            values[field] = _text(fields[field], field, length)
    if "notes" in fields:
        values["notes"] = fields["notes"].strip() or None if fields["notes"] else None
    if "priority" in fields:
        values["priority_id"] = _priority_id(session, fields["priority"])
    if "notify" in fields:
        values["notify"] = _preference(fields["notify"])
    if "language" in fields:
        values["language"] = _language(fields["language"])
    if "number" in fields:
        if not fields["number"]:
            raise UsageError("a customer number cannot be removed", field="number")
        new_number = _number(fields["number"])
        if (
            new_number != customer.number
            and session.scalars(
                select(col(Customer.id)).where(col(Customer.number) == new_number)
            ).first()
        ):
            raise RuleViolation(f"customer number {new_number} is taken", field="number")
        values["number"] = new_number
    if {"block", "block_level", "block_reason"} & set(fields):
        level = fields.get("block", fields.get("block_level", customer.block_level))
        # A new level without a new reason keeps the reason already on record.
        reason = fields.get("block_reason", customer.block_reason)
        new_level, new_reason = _block(level, reason)
        if (new_level, new_reason) != (customer.block_level, customer.block_reason):
            actor.require_supervisor("change a customer's block flag")
        values["block_level"], values["block_reason"] = new_level, new_reason

    # A Core UPDATE fires no flush hook: the write guard's rule is applied here.
    values = checked_values(Customer, values)
    result = session.exec(
        update(Customer)
        .where(col(Customer.id) == customer_id, col(Customer.version) == expected_version)
        .values(
            **values,
            version=expected_version + 1,
            updated_at=clock.now(),
            updated_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(customer)
    if result.rowcount != 1:
        # Changed between our read and our write (another agent's transaction).
        raise _conflict(session, _customer(session, customer_id), expected_version)
    if "name" in values:
        write_terms(
            session,
            customer_id=customer_id,
            contact_id=None,
            name=values["name"],
            replace=True,
        )
    record_change(
        session, entity="customer", action="changed", entity_id=customer_id, agent_id=actor.id
    )
    return customer_info(session, _customer(session, customer_id))


def add_contact(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    name: str,
    phone: str | None = None,
    mobile: str | None = None,
    email: str | None = None,
    role: str | None = None,
    is_primary: bool = False,
    default_country: str = "DE",
) -> ContactInfo:
    """Add a contact person; a new primary contact takes the flag from the old one."""
    customer = _customer(session, customer_id)
    contact_name = _name(name)
    country = customer.country or default_country
    phone_text, phone_e164 = _phone(phone, "phone", country)
    mobile_text, mobile_e164 = _phone(mobile, "mobile", country)
    email_text, email_k = _email(email)
    if is_primary:
        session.execute(
            update(Contact)
            .where(col(Contact.customer_id) == customer_id, col(Contact.is_primary).is_(True))
            .values(is_primary=False)
            .execution_options(synchronize_session=False)
        )
    contact = Contact(
        customer_id=customer_id,
        name=contact_name,
        search_name=fold(contact_name)[:200],
        role=_text(role, "role", 100),
        phone=phone_text,
        phone_e164=phone_e164,
        mobile=mobile_text,
        mobile_e164=mobile_e164,
        email=email_text,
        email_key=email_k,
        is_primary=is_primary,
    )
    session.add(contact)
    session.flush()
    assert contact.id is not None
    write_terms(
        session, customer_id=customer_id, contact_id=contact.id, name=contact.name, replace=False
    )
    record_change(
        session, entity="contact", action="added", entity_id=contact.id, agent_id=actor.id
    )
    return _contact_info(contact)


@dataclass(frozen=True)
class NewCaller:
    """A customer added during a call, with the person calling for it (if named)."""

    customer: CustomerInfo
    contact: ContactInfo | None


def add_caller(
    session: Session,
    *,
    actor: Actor,
    customer: dict[str, str | None],
    contact_name: str | None = None,
    contact_phone: str | None = None,
    default_country: str = "DE",
) -> NewCaller:
    """A new customer (`customer` holds `add_customer`'s fields) and its caller as the
    primary contact: both are recorded, or neither. A refusal about the contact names
    its field `contact_...`."""
    added = add_customer(session, actor=actor, default_country=default_country, **customer)
    contact = None
    if contact_name:
        try:
            contact = add_contact(
                session,
                actor=actor,
                customer_id=added.id,
                name=contact_name,
                phone=contact_phone,
                is_primary=True,
                default_country=default_country,
            )
        except CcError as error:
            # The contact's fields are named like the customer's: point at the contact's.
            error.field = f"contact_{error.field or 'name'}"
            raise
    return NewCaller(added, contact)


def set_block(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    level: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> CustomerInfo:
    """Flag a customer none / warn / block (supervisors). Without `expected_version` the
    current version is used: a deliberate flag change wins over an edit in progress."""
    customer = _customer(session, customer_id)
    fields: dict[str, Any] = {"block": level}
    if reason is not None:
        fields["block_reason"] = reason
    return update_customer(
        session,
        actor=actor,
        customer_id=customer_id,
        expected_version=customer.version if expected_version is None else expected_version,
        **fields,
    )


# ---------------------------------------------------------------------------- look-up


def _next(prefix: str) -> str:
    """The smallest string above every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _c(session: Session, column: Any) -> Any:
    # Code-point comparison on PostgreSQL (matches the COLLATE "C" expression indexes).
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    return and_(column >= prefix, column < _next(prefix))


def phone_prefix(text: str, default_country: str) -> str | None:
    """The E.164 start of a partly typed number ('030/12' -> '+493012'), or None."""
    import phonenumbers

    digits = re.sub(r"\D", "", text)
    stripped = text.strip()
    if not digits:
        return None
    if stripped.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:] if len(digits) > 2 else None
    code = phonenumbers.country_code_for_region(default_country.upper())
    if code == 0:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(default_country.upper())
    trunk = metadata.national_prefix if metadata is not None else None
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    return f"+{code}{digits}"


@dataclass
class _Hit:
    customer_id: int
    matched_by: str
    rank: int
    contact_id: int | None = None
    unit_id: int | None = None
    unit_serial: str | None = None


class _Hits:
    """Best hit per customer, in rank order then discovery order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.by_customer: dict[int, tuple[int, int, _Hit]] = {}
        self.seq = 0

    def add(self, hit: _Hit) -> None:
        known = self.by_customer.get(hit.customer_id)
        if known is None or hit.rank < known[0]:
            self.seq += 1
            self.by_customer[hit.customer_id] = (hit.rank, self.seq, hit)

    def full(self) -> bool:
        return len(self.by_customer) >= self.limit

    def ordered(self) -> list[_Hit]:
        entries = sorted(self.by_customer.values(), key=lambda e: (e[0], e[1]))
        return [hit for _rank, _seq, hit in entries[: self.limit]]


# Ranks: identifiers typed in full first, then names, then partial identifiers, then typos.
RANK_EXACT, RANK_NAME, RANK_WORD, RANK_PARTIAL, RANK_FUZZY = 0, 1, 2, 3, 4


def find_customers(
    session: Session, *, text: str, default_country: str = "DE", limit: int = 20
) -> list[CustomerMatch]:
    """Identify a caller from a phone number, e-mail, customer number, unit serial or name.

    Best first: exact identifiers, then names starting with the text, then names with a
    word starting with each typed word (customer or contact person), then partly typed
    numbers and addresses, then names within a small typo. Each search is an index
    look-up; nothing scans the customer table.
    """
    query = (text or "").strip()
    limit = max(1, min(limit, MAX_LIMIT))
    if not query:
        return []
    hits = _Hits(limit)
    is_phone = looks_like_phone(query)
    is_email = "@" in query
    if is_email:
        _by_email(session, hits, query)
    if is_phone:
        _by_phone(session, hits, query, default_country)
    _by_identifier(session, hits, query)
    # Names unless the text was a number or an address that matched: 'a@b.example' split
    # into words would only add noise (and text like '[@x]' is still tried as a name).
    if not is_phone and not (is_email and hits.by_customer):
        _by_name(session, hits, query)
    return _matches(session, hits.ordered())


def _owner_columns(model: Any) -> tuple[Any, Any]:
    """(customer id, contact id) of a customer or contact row."""
    if model is Customer:
        return Customer.id, literal(None, type_=Integer)
    return Contact.customer_id, Contact.id


def _collect(
    session: Session, hits: _Hits, branches: list[Any], matched_by: str, rank: int
) -> None:
    """Run several limited look-ups as one statement (one round trip), in branch order."""
    parts = [select(*branch.subquery().c) for branch in branches]
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    for customer_id, contact_id in session.execute(stmt):
        hits.add(_Hit(customer_id, matched_by, rank, contact_id=contact_id))


def _by_email(session: Session, hits: _Hits, query: str) -> None:
    key = email_key(query)
    if not key:
        return
    models = (Customer, Contact)
    exact = [
        select(*_owner_columns(m)).where(col(m.email_key) == key).limit(hits.limit) for m in models
    ]
    _collect(session, hits, exact, "email", RANK_EXACT)
    if hits.full():
        return
    partial = []
    for model in models:
        column = _c(session, model.email_key)
        partial.append(
            select(*_owner_columns(model))
            .where(_prefix(column, key))
            .order_by(column)
            .limit(hits.limit)
        )
    _collect(session, hits, partial, "email", RANK_PARTIAL)


# Every number a caller may call from: the customer's phone and fax, a contact's phone
# and mobile.
_PHONE_COLUMNS = (
    (Customer, "phone_e164"),
    (Customer, "fax_e164"),
    (Contact, "phone_e164"),
    (Contact, "mobile_e164"),
)


def _by_phone(session: Session, hits: _Hits, query: str, default_country: str) -> None:
    e164 = normalize_phone(query, default_country, strict=False)
    if e164:
        exact = [
            select(*_owner_columns(m)).where(getattr(m, name) == e164).limit(hits.limit)
            for m, name in _PHONE_COLUMNS
        ]
        _collect(session, hits, exact, "phone", RANK_EXACT)
    if hits.full():
        return
    start = phone_prefix(query, default_country)
    if not start or len(start) < 5:
        return
    partial = []
    for model, name in _PHONE_COLUMNS:
        column = getattr(model, name)
        partial.append(
            select(*_owner_columns(model))
            .where(_prefix(column, start))
            .order_by(column)
            .limit(hits.limit)
        )
    _collect(session, hits, partial, "phone", RANK_PARTIAL)


def _by_identifier(session: Session, hits: _Hits, query: str) -> None:
    """Customer number or unit serial typed in full: one statement for both."""
    if not _IDENTIFIER.match(query):
        return
    candidates = {query, query.upper()}
    numbers = candidates | ({f"{NUMBER_PREFIX}{query}"} if query.isdigit() else set())
    stmt: CompoundSelect[str, int | None, int | None, str | None] = union_all(
        select(literal("number"), col(Customer.id), literal(None), literal(None)).where(
            col(Customer.number).in_(numbers)
        ),
        select(literal("serial"), col(Unit.customer_id), col(Unit.id), col(Unit.serial)).where(
            col(Unit.serial).in_(candidates)
        ),
    )
    for kind, customer_id, unit_id, serial in session.execute(stmt):
        hits.add(_Hit(customer_id, kind, RANK_EXACT, unit_id=unit_id, unit_serial=serial))


def _by_name(session: Session, hits: _Hits, query: str) -> None:
    folded = fold(unicodedata.normalize("NFC", query))
    if folded:
        column = _c(session, Customer.search_name)
        rows = session.execute(
            select(col(Customer.id))
            .where(_prefix(column, folded))
            .order_by(column)
            .limit(hits.limit)
        )
        for (customer_id,) in rows:
            hits.add(_Hit(customer_id, "name", RANK_NAME))
    words = query_words(query)[:5]
    if not words or hits.full():
        return
    if len(words) > 1:
        words = _rarest_first(session, words)
    _token_search(session, hits, [(w, []) for w in words], RANK_WORD)
    if hits.full() or (len(words) > 1 and hits.by_customer):
        # Several words that matched exactly name the caller well enough: typos are only
        # looked for when that found nobody (or, for one word, too few).
        return
    # Typos are looked for in words, not in numbers.
    near = [
        _near_terms(session, w) if len(w) >= _NEAR_MIN_LENGTH and w.isalpha() else [] for w in words
    ]
    if any(near):
        _token_search(session, hits, list(zip(words, near, strict=True)), RANK_FUZZY)


_RARITY_CAP = 2000


def _rarest_first(session: Session, words: list[str]) -> list[str]:
    """The typed words ordered by how many name words start with them (capped count, one
    statement): the join is driven by the rarest, not by the longest."""
    counts = []
    for word in words:
        capped = (
            select(literal(1)).where(_prefix(CustomerToken.term, word)).limit(_RARITY_CAP)
        ).subquery()
        counts.append(select(func.count()).select_from(capped).scalar_subquery())
    row = session.execute(select(*counts)).one()
    ranked = sorted(range(len(words)), key=lambda i: (row[i], -len(words[i])))
    return [words[i] for i in ranked]


def _token_search(
    session: Session, hits: _Hits, words: Sequence[tuple[str, list[str]]], rank: int
) -> None:
    """Customers or contacts with a name word matching each typed word (all in one name):
    a word starting with it, or one of the near words found for it."""

    def matches(table: Any, word: str, near: list[str]) -> ColumnElement[bool]:
        condition = _prefix(table.term, word)
        return or_(condition, table.term.in_(near)) if near else condition

    def also(table: Any, word: str, near: list[str]) -> ColumnElement[bool]:
        # The other words are checked on the few rows of each candidate customer, reached
        # by (customer_id, term). Written so the term index cannot serve them: PostgreSQL
        # underestimates narrow text ranges and would otherwise nest two term-range scans.
        whole = func.substr(table.term, 1, TERM_LENGTH)
        condition = func.substr(table.term, 1, len(word)) == word
        return or_(condition, whole.in_(near)) if near else condition

    # Drive with the first word (the caller puts the rarest first), in index order; each
    # other word is an EXISTS probe of that customer's few words by (customer_id, term).
    # OFFSET 0 keeps PostgreSQL from turning the probe into a hash join over the table,
    # which it picks when it misjudges how many rows a text range holds.
    driver = aliased(CustomerToken)
    stmt = select(col(driver.customer_id), col(driver.contact_id)).where(matches(driver, *words[0]))
    for i in range(1, len(words)):
        table = aliased(CustomerToken)
        probe = (
            select(literal(1))
            .select_from(table)
            .where(
                col(table.customer_id) == col(driver.customer_id),
                # No index can serve this: the probe must go by customer_id (an index on
                # contact_id would pick every customer-name row for NULL).
                func.coalesce(col(table.contact_id), 0) == func.coalesce(col(driver.contact_id), 0),
                also(table, *words[i]),
            )
            .offset(0)
        )
        stmt = stmt.where(probe.exists())
    if rank == RANK_FUZZY:
        # Near words are few but may each have many rows: stop at the limit, unsorted.
        stmt = stmt.limit(hits.limit * 4)
    else:
        stmt = stmt.order_by(col(driver.term), col(driver.customer_id)).limit(hits.limit * 4)
    for customer_id, contact_id in session.execute(stmt):
        hits.add(
            _Hit(
                customer_id,
                "contact" if contact_id is not None else "name",
                rank,
                contact_id=contact_id,
            )
        )


_NEAR_SCAN = 400
_NEAR_MAX = 20
_NEAR_MIN_LENGTH = 5


def _near_terms(session: Session, word: str) -> list[str]:
    """Known name words within a small typo of `word` (as a prefix). Typos in the first two
    letters are not searched, except those two swapped: that keeps it a few index seeks."""
    limit = 1 if len(word) < 8 else 2
    found: dict[str, int] = {}
    for start in {word[:2], word[1] + word[0]}:
        for term in _distinct_terms(session, start, _NEAR_SCAN):
            if not term.startswith(word):
                distance = _prefix_distance(word, term, limit)
                if distance <= limit:
                    found[term] = distance
    return sorted(found, key=lambda t: (found[t], t))[:_NEAR_MAX]


def _distinct_terms(session: Session, start: str, limit: int) -> list[str]:
    """Distinct words beginning with `start`: one index seek each (a loose index scan),
    so a thousand Müllers cost one step, not a thousand rows."""
    from sqlalchemy import text as sql

    rows = session.execute(
        sql(
            "WITH RECURSIVE v(term, n) AS ("
            " SELECT (SELECT min(term) FROM customer_token WHERE term >= :lo AND term < :hi), 1"
            " UNION ALL"
            " SELECT (SELECT min(term) FROM customer_token WHERE term > v.term AND term < :hi),"
            " n + 1 FROM v WHERE v.term IS NOT NULL AND n < :limit"
            ") SELECT term FROM v WHERE term IS NOT NULL"
        ),
        {"lo": start, "hi": _next(start), "limit": limit},
    )
    return [row[0] for row in rows]


def _prefix_distance(word: str, term: str, limit: int) -> int:
    """Edit distance (with adjacent swaps) from `word` to the closest start of `term` at
    least as long as `word` (or to the whole term when it is shorter); anything above
    `limit` is reported as limit + 1. Shorter starts are not tried: they would make every
    word sharing all but the last typed letter 'near'."""
    n = len(word)
    candidate = term[: n + limit]
    m = len(candidate)
    if m < n - limit:
        return limit + 1
    previous2: list[int] | None = None
    previous = list(range(m + 1))
    for i in range(1, n + 1):
        current = [i] + [0] * m
        for j in range(1, m + 1):
            cost = 0 if word[i - 1] == candidate[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                previous2 is not None
                and j > 1
                and word[i - 1] == candidate[j - 2]
                and word[i - 2] == candidate[j - 1]
            ):
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    best = previous[m] if m < n else min(previous[n : m + 1])
    return best if best <= limit else limit + 1


def _matches(session: Session, hits: list[_Hit]) -> list[CustomerMatch]:
    if not hits:
        return []
    ids = [h.customer_id for h in hits]
    open_count = (
        select(func.count())
        .where(
            col(Incident.customer_id) == col(Customer.id), col(Incident.status).in_(OPEN_STATUSES)
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    customers = {
        row[0]: row
        for row in session.execute(
            select(
                col(Customer.id),
                col(Customer.number),
                col(Customer.name),
                col(Customer.city),
                col(Customer.phone),
                col(Customer.email),
                col(Customer.region),
                col(Customer.block_level),
                col(Customer.block_reason),
                open_count,
            ).where(col(Customer.id).in_(ids))
        )
    }
    contact_ids = [h.contact_id for h in hits if h.contact_id is not None]
    contacts: dict[int, str] = {}
    if contact_ids:
        rows = session.execute(
            select(col(Contact.id), col(Contact.name)).where(col(Contact.id).in_(contact_ids))
        )
        contacts = {contact_id: name for contact_id, name in rows}
    result = []
    for hit in hits:
        row = customers.get(hit.customer_id)
        if row is None:
            continue
        result.append(
            CustomerMatch(
                customer_id=row[0],
                number=row[1],
                name=row[2],
                city=row[3],
                phone=row[4],
                email=row[5],
                region=row[6],
                block_level=row[7],
                block_reason=row[8],
                matched_by=hit.matched_by,
                contact_id=hit.contact_id,
                contact_name=contacts.get(hit.contact_id) if hit.contact_id else None,
                unit_id=hit.unit_id,
                unit_serial=hit.unit_serial,
                open_incidents=row[9] or 0,
            )
        )
    return result


def set_contact_notify(
    session: Session, *, actor: Actor, contact_id: int, notify: str | None
) -> ContactInfo:
    """How a contact person hears from us: email, sms, none, or None/'default' (as their
    customer)."""
    contact = session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        raise NotFound(f"no contact person with id {contact_id}", field="contact")
    contact.notify = _preference(notify, allow_default=True)
    session.flush()
    record_change(
        session,
        entity="customer",
        action="updated",
        entity_id=contact.customer_id,
        agent_id=actor.id,
    )
    return _contact_info(contact)
