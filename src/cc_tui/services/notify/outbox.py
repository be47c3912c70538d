"""The transactional outbox: customer messages queued with the change that causes them.

The service that changes an incident calls `queue` (or `queue_many`) in its own
transaction, so a message exists if and only if the change committed. Each row has one
idempotency key per incident, event, channel and recipient: queuing the same event twice
(a retried request, a second hand-over of the same order) adds nothing. Which events notify
whom is `POLICY`; the sender (`services.notify.sender`) renders and sends the rows later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.models import Contact, Customer, Incident, Notification
from cc_tui.models.enums import NotificationChannel, NotificationStatus, RequestType

REGISTERED = "registered"
HANDED_OVER = "handed_over"
CLOSED = "closed"
EVENTS = (REGISTERED, HANDED_OVER, CLOSED)

# Request type -> channel -> the events that notify the customer. Seed 002: an action
# request's registration, its hand-over to a work order and its closing, by e-mail.
POLICY: dict[str, dict[str, frozenset[str]]] = {
    RequestType.ACTION.value: {NotificationChannel.EMAIL.value: frozenset(EVENTS)},
}


def idempotency_key(incident_id: int, event: str, channel: str, recipient: str) -> str:
    return f"{incident_id}:{event}:{channel}:{recipient.strip().lower()}"


def _address(incident: Incident, contact: str | None, customer: str | None) -> str | None:
    """The contact's address, else the caller's, else the customer's."""
    for candidate in (contact, incident.caller_email, customer):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


def _rows(
    incidents: Iterable[tuple[Incident, str | None, str | None]], event: str, detail: str | None
) -> list[dict[str, Any]]:
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for incident, contact, customer in incidents:
        channels = POLICY.get(incident.request_type, {})
        if event not in channels.get(NotificationChannel.EMAIL.value, frozenset()):
            continue
        recipient = _address(incident, contact, customer)
        if recipient is None or incident.id is None:
            continue
        what = f"{event}:{detail}" if detail else event
        rows.append(
            {
                "channel": NotificationChannel.EMAIL.value,
                "reason": event,
                "incident_id": incident.id,
                "recipient": recipient,
                "body": "",
                "status": NotificationStatus.QUEUED.value,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "idempotency_key": idempotency_key(
                    incident.id, what, NotificationChannel.EMAIL.value, recipient
                ),
            }
        )
    return rows


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Notification.__table__  # type: ignore[attr-defined]
    statement = make(table).on_conflict_do_nothing(index_elements=["idempotency_key"])
    connection = session.connection()
    # One row a statement: the row count then says whether it was new.
    return sum(connection.execute(statement, row).rowcount for row in rows)


def _addresses(session: Session, incident: Incident) -> tuple[str | None, str | None]:
    contact = (
        session.scalar(select(col(Contact.email)).where(col(Contact.id) == incident.contact_id))
        if incident.contact_id
        else None
    )
    customer = (
        session.scalar(select(col(Customer.email)).where(col(Customer.id) == incident.customer_id))
        if incident.customer_id
        else None
    )
    return contact, customer


def queue(session: Session, incident: Incident, event: str, *, detail: str | None = None) -> int:
    """Queue `event`'s messages for one incident (the number of rows queued). `detail`
    tells two events of a kind apart (the work order of a hand-over)."""
    if not _wanted(incident.request_type, event):
        return 0
    contact, customer = _addresses(session, incident)
    return _insert(session, _rows([(incident, contact, customer)], event, detail))


def queue_many(session: Session, incident_ids: list[int], event: str) -> int:
    """Queue `event`'s messages for many incidents with one read of their addresses."""
    if not incident_ids:
        return 0
    session.flush()
    found = session.execute(
        select(Incident, col(Contact.email), col(Customer.email))
        .outerjoin(Contact, col(Contact.id) == col(Incident.contact_id))
        .outerjoin(Customer, col(Customer.id) == col(Incident.customer_id))
        .where(col(Incident.id).in_(incident_ids))
        .order_by(col(Incident.id))
    ).all()
    return _insert(session, _rows([(i, a, b) for i, a, b in found], event, None))


def _wanted(request_type: str, event: str) -> bool:
    return any(event in events for events in POLICY.get(request_type, {}).values())


def status_event(previous: str, target: str) -> str | None:
    """The notifying event of a status move, if it is one."""
    if target == "closed":
        return CLOSED
    if previous == "draft" and target == "registered":
        return REGISTERED
    return None


def detail_of(row: Notification) -> int | None:
    """The work order of a hand-over row (the detail in its idempotency key)."""
    if row.reason != HANDED_OVER or not row.idempotency_key:
        return None
    parts = row.idempotency_key.split(":")
    return int(parts[2]) if len(parts) > 4 and parts[2].isdigit() else None
