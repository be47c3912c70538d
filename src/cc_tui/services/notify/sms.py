"""SMS through an HTTP gateway: the outbox's `sms` rows, sent like its e-mail.

The gateway is a URL template from `[sms] url` (Kannel's `sendsms` interface is the first
one it was made for): `{to}`, `{msisdn}`, `{text}`, `{user}`, `{password}` and `{from}` are
filled in, URL-encoded, and the URL is fetched with GET. A 2xx answer is accepted (Kannel:
`202 0: Accepted for delivery` or `3: Queued for later delivery`); a 4xx answer is a
refusal of this message that will not pass later (failed at once), except 401/403 (the
gateway's login, which an admin can fix), 408 and 429; 5xx answers and network errors are
tried again with the e-mail sender's back-off (`sender.backoff`, `sender.MAX_ATTEMPTS`).

One pass (`send_due_sms`) works like the e-mail sender's: claim due rows in a short
transaction (SKIP LOCKED on PostgreSQL), send with no transaction open, mark the outcomes.
Two rules of its own:

- quiet hours (`[sms] quiet_hours = "21:00-08:00"`): a row due while it is quiet in the
  customer's zone (the zone of the incident's contract calendar, else the number's own when
  its numbering plan tells one local time, else `[sms] timezone`, else the display
  `timezone`) is held: it stays queued, due when the quiet period ends, and no
  try is counted;
- one message per recipient and pass: the due rows for one number (for example all those
  held overnight) are sent as one SMS, their texts one after the other, so a customer gets
  one message in the morning, not a burst.

A crash between the gateway's answer and the mark leaves the rows queued: they are sent
again after their back-off (a gateway has no Message-ID to tell a repeat by).
"""

from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, or_, select, update
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import NotFound, RuleViolation, Unavailable, UsageError
from cc_tui.models import Calendar, Incident, Notification, ServiceContract
from cc_tui.models.base import stored_id
from cc_tui.models.enums import NotificationChannel, NotificationStatus
from cc_tui.services.notify import outbox, templates
from cc_tui.services.notify.sender import BATCH, MAX_ATTEMPTS, SendResult, backoff, mark_sent

if TYPE_CHECKING:
    from cc_tui.config import Settings
    from cc_tui.db.engine import Database

PLACEHOLDERS = frozenset({"to", "msisdn", "text", "user", "password", "from"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
E164 = re.compile(r"\+[1-9]\d{5,14}")
# Between the texts of one recipient's messages sent as one.
JOIN = "\n"
# Gateway answers that may pass later although they are 4xx.
_TRY_AGAIN = frozenset({401, 403, 408, 425, 429})


# --- quiet hours -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """A daily period (local time, may pass midnight) in which no SMS goes out."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        bad = UsageError(
            f'[sms] quiet_hours must look like "21:00-08:00", not {text!r}', field="sms"
        )
        if match is None:
            raise bad
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise bad
        return cls(time(h1, m1), time(h2, m2))

    def until(self, moment: datetime, zone: tzinfo) -> datetime | None:
        """When the quiet period `moment` falls in ends (UTC), or None when it is not quiet."""
        local = moment.astimezone(zone)
        now = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside, day = self.start <= now < self.end, local.date()
        else:
            inside = now >= self.start or now < self.end
            day = local.date() if now < self.end else local.date() + timedelta(days=1)
        if not inside:
            return None
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def number_zone(e164: str, moment: datetime) -> tzinfo | None:
    """The zone a phone number belongs to, when its numbering plan tells one local time
    (+49 -> Europe/Berlin; +44's four zones keep the same time; +61's do not: None)."""
    import phonenumbers
    from phonenumbers import timezone as plan  # 140 ms to import: only when sending

    try:
        names = plan.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in (zone_named(n) for n in names) if z is not None]
    if not zones or len({moment.astimezone(z).utcoffset() for z in zones}) != 1:
        return None
    return zones[0]


def zone_named(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --- the gateway -------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsTarget:
    url: str
    user: str | None = None
    password: str | None = None
    sender: str | None = None
    timeout: float = 30.0
    quiet: QuietHours | None = None
    # The zone of quiet hours for customers without a contract calendar.
    zone: tzinfo = UTC

    def fill(self, to: str, text: str) -> str:
        """The request URL for one message (holds the password: never print it)."""
        values = {
            "to": to,
            "msisdn": to.lstrip("+"),
            "text": text,
            "user": self.user or "",
            "password": self.password or "",
            "from": self.sender or "",
        }
        return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), self.url)


def sms_target(settings: Settings) -> SmsTarget:
    """The gateway from `[sms]`; UsageError names what is wrong."""
    sms = settings.sms
    if not sms.url:
        raise UsageError("set [sms] url in the config file", field="sms")
    parts = urlsplit(sms.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"[sms] url must be an http:// or https:// URL, not {sms.url!r}")
    unknown = sorted(set(_PLACEHOLDER.findall(sms.url)) - PLACEHOLDERS)
    if unknown:
        raise UsageError(
            f"[sms] url: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
            f"known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}",
            field="sms",
        )
    if ("{to}" not in sms.url and "{msisdn}" not in sms.url) or "{text}" not in sms.url:
        raise UsageError("[sms] url needs {to} (or {msisdn}) and {text}", field="sms")
    zone = zone_named(sms.timezone)
    if sms.timezone and zone is None:
        raise UsageError(f"[sms] timezone: unknown zone {sms.timezone!r}", field="sms")
    return SmsTarget(
        url=sms.url,
        user=sms.username,
        password=sms.password(),
        sender=sms.sender,
        timeout=sms.timeout,
        quiet=QuietHours.parse(sms.quiet_hours) if sms.quiet_hours else None,
        zone=zone or settings.display_zone or datetime.now().astimezone().tzinfo or UTC,
    )


class GatewayError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsTransport(Protocol):
    def send(self, to: str, text: str) -> str: ...

    def close(self) -> None: ...


class HttpGateway:
    """GET requests to the gateway over one kept-alive connection per pass."""

    def __init__(self, target: SmsTarget) -> None:
        self.target = target
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=self.target.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=self.target.timeout)

    def send(self, to: str, text: str) -> str:
        """Hand one message to the gateway; its answer, or GatewayError."""
        parts = urlsplit(self.target.fill(to, text))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for _attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect(parts.scheme, parts.hostname or "", parts.port)
            try:
                self._connection.request("GET", path, headers={"User-Agent": "cc-tui"})
                answer = self._connection.getresponse()
                body = answer.read().decode("utf-8", errors="replace").strip()
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                # A kept-alive connection the gateway had closed meanwhile: once more on a
                # fresh one (a fresh one that fails is the gateway's answer: no second try).
                if reused and isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                ):
                    continue
                raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
            if answer.will_close:
                self.close()
            if 200 <= answer.status < 300:
                return body
            permanent = 400 <= answer.status < 500 and answer.status not in _TRY_AGAIN
            raise GatewayError(f"HTTP {answer.status}: {body[:200]}", permanent=permanent)
        raise GatewayError("the gateway closed the connection")  # pragma: no cover

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# --- claiming, sending, marking ------------------------------------------------------


@dataclass
class SmsResult(SendResult):
    # Rows that came due in quiet hours and now wait for their end.
    held: int = 0
    # SMS handed to the gateway (several rows of one recipient are one SMS).
    messages: int = 0
    # Rows looked at (sent, held, failed or to retry).
    taken: int = 0


@dataclass(frozen=True)
class ClaimedSms:
    to: str
    text: str
    # (row id, its tries so far) of every row this one message carries.
    rows: tuple[tuple[int, int], ...] = field(default_factory=tuple)


def _due(now: datetime) -> Select[Notification]:
    return (
        select(Notification)
        .where(
            col(Notification.status) == NotificationStatus.QUEUED,
            col(Notification.channel) == NotificationChannel.SMS,
            col(Notification.recipient).is_not(None),
            or_(
                col(Notification.next_attempt_at).is_(None),
                col(Notification.next_attempt_at) <= now,
            ),
        )
        .order_by(col(Notification.id))
    )


def _zones(session: Session, incident_ids: Iterable[int]) -> dict[int, tzinfo]:
    """The zone of each incident's contract calendar, where it has one."""
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    found = session.execute(
        select(col(Incident.id), col(Calendar.tz))
        .join(ServiceContract, col(ServiceContract.id) == col(Incident.contract_id))
        .join(Calendar, col(Calendar.id) == col(ServiceContract.calendar_id))
        .where(col(Incident.id).in_(ids))
    ).all()
    return {i: z for i, name in found if (z := zone_named(name)) is not None}


def sms_text(session: Session, outgoing: Notification, folder: Path | None) -> str:
    """One row's text: its own, else its event's `_sms` template."""
    incident = session.get(Incident, outgoing.incident_id) if outgoing.incident_id else None
    if outgoing.body or incident is None:
        return " ".join(outgoing.body.split())
    values = templates.context(session, incident, work_order=outbox.detail_of(outgoing))
    return templates.render_text(
        outgoing.reason + templates.SMS_SUFFIX,
        values,
        folder,
        templates.language_of(session, incident),
    )


def claim_sms(
    session: Session, target: SmsTarget, *, folder: Path | None = None, limit: int = BATCH
) -> tuple[list[ClaimedSms], int, int]:
    """Take due rows (up to `limit`, plus the other due rows of their recipients), hold
    those in quiet hours; the messages to send (one per recipient), the rows held and the
    rows taken."""
    now = clock.now()
    postgres = session.get_bind().dialect.name == "postgresql"
    first = _due(now).limit(limit)
    if postgres:
        first = first.with_for_update(skip_locked=True)
    rows = list(session.scalars(first).all())
    if len(rows) == limit:
        recipients = sorted({r.recipient for r in rows if r.recipient})
        more = _due(now).where(
            col(Notification.recipient).in_(recipients),
            col(Notification.id).not_in([stored_id(r) for r in rows]),
        )
        if postgres:
            more = more.with_for_update(skip_locked=True)
        rows.extend(session.scalars(more).all())
    zones = _zones(session, (r.incident_id for r in rows if r.incident_id))
    of_number: dict[str, tzinfo | None] = {}
    held = 0
    by_recipient: dict[str, list[Notification]] = {}
    for outgoing in rows:
        to = outgoing.recipient or ""
        zone = zones.get(outgoing.incident_id or 0)
        if zone is None and target.quiet is not None:
            if to not in of_number:
                of_number[to] = number_zone(to, now)
            zone = of_number[to]
        zone = zone or target.zone
        until = target.quiet.until(now, zone) if target.quiet else None
        if until is not None:
            outgoing.next_attempt_at = until
            held += 1
            continue
        by_recipient.setdefault(outgoing.recipient or "", []).append(outgoing)
    claimed: list[ClaimedSms] = []
    for to, group in by_recipient.items():
        texts: list[str] = []
        carried: list[tuple[int, int]] = []
        for outgoing in group:
            outgoing.attempts += 1
            outgoing.next_attempt_at = now + backoff(outgoing.attempts)
            try:
                if not E164.fullmatch(to):
                    raise UsageError(f"not an E.164 number: {to!r}", field="recipient")
                text = sms_text(session, outgoing, folder)
            except (UsageError, NotFound) as exc:
                # A broken template or number is no reason to try again in four minutes.
                outgoing.status = NotificationStatus.FAILED.value
                outgoing.last_error = str(exc)
                outgoing.next_attempt_at = None
                continue
            if text not in texts:
                texts.append(text)
            carried.append((stored_id(outgoing), outgoing.attempts))
        if carried:
            claimed.append(ClaimedSms(to, JOIN.join(texts), tuple(carried)))
    return claimed, held, len(rows)


def _mark_refused(
    session: Session, rows: tuple[tuple[int, int], ...], error: str, permanent: bool
) -> tuple[int, int]:
    """Rows whose message the gateway refused: (failed, to retry)."""
    done = [i for i, tries in rows if permanent or tries >= MAX_ATTEMPTS]
    again = [i for i, _ in rows if i not in done]
    for ids, values in (
        (done, {"status": NotificationStatus.FAILED.value, "next_attempt_at": None}),
        (again, {}),
    ):
        if ids:
            session.execute(
                update(Notification)
                .where(
                    col(Notification.id).in_(ids),
                    col(Notification.status) == NotificationStatus.QUEUED,
                )
                .values(last_error=error, **values)
            )
    return len(done), len(again)


def send_due_sms(
    db: Database,
    transport: SmsTransport,
    target: SmsTarget,
    *,
    folder: Path | None = None,
    limit: int = BATCH,
) -> SmsResult:
    """One pass over the due SMS rows (at most `limit`, plus their recipients' others)."""
    result = SmsResult()
    with db.session() as session:
        claimed, result.held, result.taken = claim_sms(session, target, folder=folder, limit=limit)
    outcomes: list[tuple[ClaimedSms, GatewayError | None]] = []

    def record() -> None:
        if not outcomes:
            return
        with db.session() as session:
            sent = [i for item, error in outcomes if error is None for i, _ in item.rows]
            if sent:
                mark_sent(session, sent)
                result.sent += len(sent)
            for item, error in outcomes:
                if error is None:
                    continue
                failed, again = _mark_refused(session, item.rows, str(error), error.permanent)
                result.failed += failed
                result.retrying += again
                result.errors.append(f"#{','.join(str(i) for i, _ in item.rows)}: {error}")
        outcomes.clear()

    try:
        for item in claimed:
            error: GatewayError | None = None
            try:
                transport.send(item.to, item.text)
                result.messages += 1
            except GatewayError as exc:
                error = exc
            outcomes.append((item, error))
            if len(outcomes) >= 20:
                record()
        record()
    finally:
        transport.close()
    return result


def send_all_sms(
    db: Database, transport: SmsTransport, target: SmsTarget, *, folder: Path | None = None
) -> SmsResult:
    """Passes until nothing is due (`notify send`)."""
    total = SmsResult()
    while True:
        one = send_due_sms(db, transport, target, folder=folder)
        total.sent += one.sent
        total.retrying += one.retrying
        total.failed += one.failed
        total.held += one.held
        total.messages += one.messages
        total.taken += one.taken
        total.errors.extend(one.errors)
        if one.taken < BATCH:
            return total


def send_test(settings: Settings, number: str, text: str) -> dict[str, str]:
    """One SMS straight to the gateway, outside the outbox and its quiet hours (`notify
    test-sms`): the number it went to and the gateway's answer."""
    from cc_tui.normalize import normalize_phone

    to = normalize_phone(number, settings.default_country)
    if to is None:
        raise UsageError("give the phone number to send to", field="number")
    if not text.strip():
        raise UsageError("the text is empty", field="text")
    gateway = HttpGateway(sms_target(settings))
    try:
        answer = gateway.send(to, " ".join(text.split()))
    except GatewayError as exc:
        raise (RuleViolation if exc.permanent else Unavailable)(
            f"the gateway did not take it: {exc}"
        ) from exc
    finally:
        gateway.close()
    return {"to": to, "answer": answer}
