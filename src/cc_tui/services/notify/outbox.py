"""The transactional outbox: customer messages queued with the change that causes them.

The service that changes an incident calls `queue` (or `queue_many`) in its own
transaction, so a message exists if and only if the change committed. Each row has one
idempotency key per incident, event, channel and recipient: queuing the same event twice
(a retried request, a second hand-over of the same order) adds nothing. Which events notify
whom is the `notify_policy` table (`policy_of`, read once a transaction; admins change it
with `cc-tui notify policy set`); the sender (`services.notify.sender`) renders and sends
the rows later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import inspect, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.models import Contact, Customer, Incident, Notification, NotifyPolicy
from cc_tui.models.enums import NotificationChannel, NotificationStatus
from cc_tui.normalize import is_mobile
from cc_tui.services import per_batch

REGISTERED = "registered"
HANDED_OVER = "handed_over"
SOLVED = "solved"
CLOSED = "closed"
# Every event that may notify a customer (each has a template); the policy picks.
EVENTS = (REGISTERED, HANDED_OVER, SOLVED, CLOSED)

# The customer's channels a policy row may name (alerts to agents are not customer messages).
CHANNELS = (NotificationChannel.EMAIL.value, NotificationChannel.SMS.value)
# What `session.info` keeps the policy read in a transaction under.
_POLICY_KEY = "cc_tui.notify_policy"

# (request type, channel, event) triples that notify.
Policy = frozenset[tuple[str, str, str]]


def policy_of(session: Session) -> Policy:
    """The switched-on rows of `notify_policy`: read once a transaction (one small
    statement), so a change an admin committed counts from the next change on."""
    transaction = session.get_transaction()
    cached = session.info.get(_POLICY_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        kept: Policy = cached[1]
        return kept
    policy: Policy = per_batch.shared("notify_policy", lambda: _read_policy(session))
    session.info[_POLICY_KEY] = (session.get_transaction(), policy)
    return policy


def _read_policy(session: Session) -> Policy:
    with session.no_autoflush:  # the change's own rows go at its next statement as ever
        rows = session.execute(
            select(
                col(NotifyPolicy.request_type), col(NotifyPolicy.channel), col(NotifyPolicy.event)
            ).where(col(NotifyPolicy.enabled))
        ).all()
    return frozenset((t, c, e) for t, c, e in rows)


def forget_policy(session: Session) -> None:
    """Read the policy again at its next use (it was just changed in this session)."""
    session.info.pop(_POLICY_KEY, None)


def idempotency_key(incident_id: int, event: str, channel: str, recipient: str) -> str:
    return f"{incident_id}:{event}:{channel}:{recipient.strip().lower()}"


M = TypeVar("M", Contact, Customer)

# Preferences (customer.notify, contact.notify): how a customer hears from us.
PREFERENCES = ("email", "sms", "none")
# PostgreSQL: an insert into the outbox notifies this channel (a trigger, migration 0019),
# so `notify watch` wakes when the change commits (never for one that rolled back).
WAKE_CHANNEL = "cc_tui_outbox"


@dataclass(frozen=True)
class Reach:
    """How one incident's customer is reached: the preferred channel, the address and
    (for SMS) the mobile number."""

    preference: str
    email: str | None
    mobile: str | None = None


# (email, notify, mobile_e164, phone_e164) of the contact; (email, notify, phone_e164) of
# the customer.
ContactReach = tuple[str | None, str | None, str | None, str | None]
CustomerReach = tuple[str | None, str | None, str | None]


def reach(
    incident: Incident, contact: ContactReach | None, customer: CustomerReach | None
) -> Reach:
    """The contact's preference, else the customer's (e-mail when neither says); the
    contact's address, else the caller's, else the customer's. For SMS the contact's
    mobile number, else the first of the caller's, the contact's and the customer's phone
    numbers that is a mobile one."""
    c_email, c_pref, c_mobile, c_phone = contact or (None, None, None, None)
    k_email, k_pref, k_phone = customer or (None, None, None)
    preference = c_pref or k_pref or "email"
    email = next(
        (c.strip() for c in (c_email, incident.caller_email, k_email) if c and c.strip()), None
    )
    mobile = None
    if preference == NotificationChannel.SMS.value:
        mobile = c_mobile or next(
            (n for n in (incident.caller_phone_e164, c_phone, k_phone) if n and is_mobile(n)),
            None,
        )
    return Reach(preference, email, mobile)


def _rows(
    policy: Policy,
    incidents: Iterable[tuple[Incident, Reach]],
    event: str,
    detail: str | None,
) -> list[dict[str, Any]]:
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for incident, how in incidents:
        channel = how.preference
        if (incident.request_type, channel, event) not in policy:
            continue
        recipient = how.mobile if channel == NotificationChannel.SMS.value else how.email
        if recipient is None or incident.id is None:
            continue
        what = f"{event}:{detail}" if detail else event
        rows.append(
            {
                "channel": channel,
                "reason": event,
                "incident_id": incident.id,
                "recipient": recipient,
                "body": "",
                "status": NotificationStatus.QUEUED.value,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "idempotency_key": idempotency_key(incident.id, what, channel, recipient),
            }
        )
    return rows


def wake(session: Session) -> None:
    """Tell a waiting `notify watch` that there is mail (PostgreSQL; on commit): for a
    row made due again (an insert wakes it by itself)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Notification.__table__  # type: ignore[attr-defined]
    statement = (
        make(table).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)
    )
    connection = session.connection()
    # One row a statement: what it returns says whether it was new (its row count does not
    # on PostgreSQL, where SQLAlchemy reports -1).
    # On PostgreSQL a trigger (migration 0019) wakes `notify watch` when this commits.
    return sum(len(connection.execute(statement, row).all()) for row in rows)


def _held(session: Session, model: type[M], row_id: int | None) -> M | Literal[False] | None:
    """The row if the session holds it loaded (None for no id), False if it would have to
    be read."""
    if not row_id:
        return None
    found = session.identity_map.get(session.identity_key(model, row_id))
    if found is None or not isinstance(found, model) or inspect(found).expired_attributes:
        return False
    return found


def reach_of(session: Session, incident: Incident) -> Reach:
    """`reach` for one incident: its contact and customer (by the ids it holds now, flushed
    or not), from the session when it holds both (a registration has just read them), else
    read in one statement."""
    if not incident.contact_id and not incident.customer_id:
        return reach(incident, None, None)
    contact = _held(session, Contact, incident.contact_id)
    customer = _held(session, Customer, incident.customer_id)
    if contact is not False and customer is not False:
        return reach(
            incident,
            (contact.email, contact.notify, contact.mobile_e164, contact.phone_e164)
            if contact is not None
            else None,
            (customer.email, customer.notify, customer.phone_e164)
            if customer is not None
            else None,
        )
    one = select(literal(1).label("one")).subquery()
    found = session.execute(
        select(
            col(Contact.email),
            col(Contact.notify),
            col(Contact.mobile_e164),
            col(Contact.phone_e164),
            col(Customer.email),
            col(Customer.notify),
            col(Customer.phone_e164),
        )
        .select_from(one)
        .outerjoin(Contact, col(Contact.id) == (incident.contact_id or 0))
        .outerjoin(Customer, col(Customer.id) == (incident.customer_id or 0))
    ).one()
    a, b, c, d, e, g, h = found
    return reach(incident, (a, b, c, d), (e, g, h))


def queue(session: Session, incident: Incident, event: str, *, detail: str | None = None) -> int:
    """Queue `event`'s messages for one incident (the number of rows queued). `detail`
    tells two events of a kind apart (the work order of a hand-over)."""
    policy = policy_of(session)
    if not _wanted(policy, incident.request_type, event):
        return 0
    return _insert(session, _rows(policy, [(incident, reach_of(session, incident))], event, detail))


def queue_many(
    session: Session, incident_ids: list[int], event: str, *, detail: str | None = None
) -> int:
    """Queue `event`'s messages for many incidents with one read of their addresses."""
    if not incident_ids:
        return 0
    policy = policy_of(session)
    if not any(e == event for _t, _c, e in policy):
        return 0
    session.flush()
    found = session.execute(
        select(
            Incident,
            col(Contact.email),
            col(Contact.notify),
            col(Contact.mobile_e164),
            col(Contact.phone_e164),
            col(Customer.email),
            col(Customer.notify),
            col(Customer.phone_e164),
        )
        .outerjoin(Contact, col(Contact.id) == col(Incident.contact_id))
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .where(col(Incident.id).in_(incident_ids))
        .order_by(col(Incident.id))
    ).all()
    return _insert(
        session,
        _rows(
            policy,
            [(i, reach(i, (a, b, c, d), (e, g, h))) for i, a, b, c, d, e, g, h in found],
            event,
            detail,
        ),
    )


def _wanted(policy: Policy, request_type: str, event: str) -> bool:
    return any((request_type, channel, event) in policy for channel in CHANNELS)


def closing_detail(at: datetime) -> str:
    """What tells two closings of one incident apart (a re-close after a reopen notifies
    again; the same closing queued twice still adds nothing): when it was closed."""
    return at.strftime("%Y%m%dT%H%M%S%f")


def status_event(previous: str, target: str) -> str | None:
    """The notifying event of a status move, if it is one."""
    if target == "closed":
        return CLOSED
    if target == "solved":
        return SOLVED
    if previous == "draft" and target == "registered":
        return REGISTERED
    return None


def detail_of(row: Notification) -> int | None:
    """The work order of a hand-over row (the detail in its idempotency key)."""
    if row.reason != HANDED_OVER or not row.idempotency_key:
        return None
    parts = row.idempotency_key.split(":")
    return int(parts[2]) if len(parts) > 4 and parts[2].isdigit() else None
