"""The suppression list: addresses nothing is sent to for a while.

A permanent refusal (a 5xx answer of the SMTP server, or a delivery report with a 5.x.x
status read by the e-mail intake) puts the address here for `SUPPRESS_FOR`; the sender
then fails the address's messages at once instead of sending into a bounce loop. An admin
lifts it with `cc-tui notify unsuppress ADDRESS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import NotFound, UsageError
from cc_tui.models import Notification, NotifySuppression

SUPPRESS_FOR = timedelta(days=30)
# A delivery report's per-recipient status: 5.x.x is a permanent failure.
_DSN_STATUS = re.compile(r"^\s*Status:\s*(\d)\.\d{1,3}\.\d{1,3}", re.I | re.M)


@dataclass(frozen=True)
class Suppressed:
    address: str
    reason: str
    until: datetime
    created_at: datetime


def _key(address: str) -> str:
    return address.strip().lower()


def suppress(
    session: Session, address: str, reason: str, *, days: float | None = None
) -> Suppressed:
    """Put `address` on the list (or keep it there longer) from now on."""
    key = _key(address)
    if "@" not in key:
        raise UsageError(f"not an e-mail address: {address!r}", field="address")
    now = clock.now()
    until = now + (timedelta(days=days) if days is not None else SUPPRESS_FOR)
    row = session.scalar(
        select(NotifySuppression).where(col(NotifySuppression.address) == key).with_for_update()
    )
    if row is None:
        row = NotifySuppression(address=key, reason=reason[:500], until=until, created_at=now)
        session.add(row)
    else:
        row.reason, row.until, row.created_at = reason[:500], until, now
    session.flush()
    return _public(row)


def lift(session: Session, address: str) -> Suppressed:
    """Take an address off the list (it stays listed as lifted, until now)."""
    row = session.scalar(
        select(NotifySuppression).where(col(NotifySuppression.address) == _key(address))
    )
    if row is None or row.until <= clock.now():
        raise NotFound(f"{address} is not suppressed")
    row.until = clock.now()
    session.flush()
    return _public(row)


def suppressed(session: Session, addresses: Iterable[str]) -> dict[str, datetime]:
    """Of these addresses, the ones suppressed now (lower-case) and until when."""
    keys = {_key(a) for a in addresses if a}
    if not keys:
        return {}
    rows = session.execute(
        select(col(NotifySuppression.address), col(NotifySuppression.until)).where(
            col(NotifySuppression.address).in_(keys),
            col(NotifySuppression.until) > clock.now(),
        )
    ).all()
    return {address: until for address, until in rows}


def listed(session: Session, *, all_rows: bool = False) -> list[Suppressed]:
    """The suppressed addresses (with `all_rows`, also the lifted and expired ones)."""
    query = select(NotifySuppression).order_by(col(NotifySuppression.address))
    if not all_rows:
        query = query.where(col(NotifySuppression.until) > clock.now())
    return [_public(r) for r in session.scalars(query)]


def permanent_dsn(report_text: str) -> str | None:
    """The 5.x.x status of a delivery report's text, if it reports a permanent failure."""
    for found in _DSN_STATUS.finditer(report_text):
        if found.group(1) == "5":
            return found.group(0).strip()
    return None


def _public(row: NotifySuppression) -> Suppressed:
    return Suppressed(row.address, row.reason, row.until, row.created_at)


def bounced(session: Session, bounced_id: str | None, report_text: str) -> Suppressed | None:
    """A delivery report of one of our messages: when it reports a permanent failure,
    the message's recipient goes on the list."""
    status = permanent_dsn(report_text)
    if not bounced_id or status is None:
        return None
    recipient = session.scalar(
        select(col(Notification.recipient)).where(col(Notification.message_id) == bounced_id)
    )
    if not recipient:
        return None
    return suppress(session, recipient, f"bounced: {status}")
