"""The notification policy: which events of which request type notify by which channel.

One `notify_policy` row per request type, event and channel (the customer's preference,
email or sms). The outbox reads the switched-on rows once a transaction
(`outbox.policy_of`); admins switch rows with `set_policy`. The shipped rows say what
seed 002 asks for: an action request's registration, hand-over and closing notify.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.errors import UsageError
from cc_tui.models import NotifyPolicy
from cc_tui.models.enums import RequestType
from cc_tui.services.context import Actor
from cc_tui.services.notify.outbox import (
    CHANNELS,
    CLOSED,
    EVENTS,
    HANDED_OVER,
    REGISTERED,
    forget_policy,
)

REQUEST_TYPES = tuple(t.value for t in RequestType)
# As shipped (migration 0020 seeds the same): seed 002's events of an action request.
DEFAULT_ON = frozenset(
    (RequestType.ACTION.value, event) for event in (REGISTERED, HANDED_OVER, CLOSED)
)


@dataclass(frozen=True)
class PolicyRow:
    request_type: str
    event: str
    channel: str
    enabled: bool


def _order(row: PolicyRow) -> tuple[int, int, int]:
    return (
        REQUEST_TYPES.index(row.request_type) if row.request_type in REQUEST_TYPES else 99,
        EVENTS.index(row.event) if row.event in EVENTS else 99,
        CHANNELS.index(row.channel) if row.channel in CHANNELS else 99,
    )


def listed(session: Session) -> list[PolicyRow]:
    """Every row, by request type, event (in the order they happen) and channel."""
    rows = [
        PolicyRow(r.request_type, r.event, r.channel, r.enabled)
        for r in session.scalars(select(NotifyPolicy)).all()
    ]
    return sorted(rows, key=_order)


def _check(value: str, allowed: tuple[str, ...], field: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise UsageError(f"{field} must be one of {', '.join(allowed)}", field=field)
    return value


def set_policy(
    session: Session,
    *,
    actor: Actor,
    request_type: str,
    event: str,
    channel: str | None,
    enabled: bool,
) -> list[PolicyRow]:
    """Switch `event` of `request_type` on or off for `channel` (both channels when
    None); the rows it set."""
    actor.require_admin("change the notification policy")
    kind = _check(request_type, REQUEST_TYPES, "type")
    what = _check(event, EVENTS, "event")
    channels = CHANNELS if channel is None else (_check(channel, CHANNELS, "channel"),)
    done: list[PolicyRow] = []
    for how in channels:
        row = session.scalar(
            select(NotifyPolicy)
            .where(
                col(NotifyPolicy.request_type) == kind,
                col(NotifyPolicy.event) == what,
                col(NotifyPolicy.channel) == how,
            )
            .with_for_update()
        )
        if row is None:
            row = NotifyPolicy(request_type=kind, event=what, channel=how, enabled=enabled)
            session.add(row)
        else:
            row.enabled = enabled
        done.append(PolicyRow(kind, what, how, enabled))
    session.flush()
    forget_policy(session)
    return done


def seed_policy(session: Session) -> None:
    """Add the shipped rows that are missing (idempotent; a row that exists is kept)."""
    existing = set(
        session.execute(
            select(
                col(NotifyPolicy.request_type), col(NotifyPolicy.event), col(NotifyPolicy.channel)
            )
        ).all()
    )
    for kind in REQUEST_TYPES:
        for event in EVENTS:
            for channel in CHANNELS:
                if (kind, event, channel) not in existing:
                    session.add(
                        NotifyPolicy(
                            request_type=kind,
                            event=event,
                            channel=channel,
                            enabled=(kind, event) in DEFAULT_ON,
                        )
                    )
    session.flush()
    forget_policy(session)


def summary(session: Session) -> list[str]:
    """The policy in a few lines, one per request type: the events that notify (with the
    one channel when only one of them does)."""
    rows = listed(session)
    lines: list[str] = []
    for kind in dict.fromkeys(r.request_type for r in rows):
        words: list[str] = []
        for event in dict.fromkeys(r.event for r in rows if r.request_type == kind):
            by = [
                r.channel for r in rows if r.request_type == kind and r.event == event and r.enabled
            ]
            if by:
                alone = len(by) == 1 and len(CHANNELS) > 1
                words.append(f"{event} ({by[0]} only)" if alone else event)
        lines.append(f"{kind}: {', '.join(words) if words else 'nothing'}")
    return lines
