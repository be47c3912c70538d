"""Notifications (M13): the outbox, and e-mail sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from cc_tui.errors import UsageError
from cc_tui.models import Customer, Notification
from cc_tui.services.incidents.base import parse_ref
from cc_tui.services.incidents.lifecycle import change_status
from cc_tui.services.notify import outbox
from cc_tui.services.notify import sender as sending
from cc_tui.services.notify.sender import (
    MAX_ATTEMPTS,
    SmtpTarget,
    SmtpTransport,
    backoff,
    list_outbox,
    retry,
    send_due,
    thread_root,
)
from cc_tui.services.notify.templates import preview
from cc_tui.services.workorders.orders import transfer
from tests import factories as f
from tests.services.test_workorders import action, world  # noqa: F401 (a fixture)

FROM = "desk@example.org"
START = f.utc(2026, 3, 2, 9, 0)


class Inbox:
    """What the SMTP server received; refuses the addresses in `refuse` for good."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.target = SmtpTarget("127.0.0.1", controller.port, "none", FROM)
    yield inbox
    controller.stop()


@pytest.fixture
def clock(monkeypatch):
    return f.fake_clock(monkeypatch, START)


def _desk(db, admin) -> None:
    """What an action request needs: a department, its codes, a default priority."""
    from cc_tui.services.directory.agents import add_department
    from cc_tui.services.directory.codes import add_code

    with db.session() as s:
        add_department(s, actor=admin, code="DESK", name="Service desk")
        add_code(s, actor=admin, kind="reason", path="HW")
        add_code(s, actor=admin, kind="reason", path="HW/DISK")
        add_code(s, actor=admin, kind="problem", path="DESK/IT/PC/DISK")
        f.priority(s, "P3", default=True)


def _customer(db, email="anna@example.com", name="Acme"):
    with db.session() as s:
        return f.customer(s, name, email=email).id


def _rows(db, incident=None):
    with db.session() as s:
        query = select(Notification).where(Notification.channel == "email")
        if incident:
            query = query.where(Notification.incident_id == parse_ref(incident))
        return s.scalars(query.order_by(Notification.id)).all()


def _send(db, inbox):
    return send_due(db, SmtpTransport(inbox.target), sender=FROM)


def test_registering_an_action_request_queues_one_email_to_the_customer(db, admin, clock):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    rows = _rows(db, inc)
    assert [(r.reason, r.recipient, r.status, r.attempts) for r in rows] == [
        ("registered", "anna@example.com", "queued", 0)
    ]
    assert rows[0].idempotency_key == f"{parse_ref(inc)}:registered:email:anna@example.com"
    assert rows[0].next_attempt_at == START


def test_no_email_without_an_address_or_for_an_information_request(db, admin, clock):
    _desk(db, admin)
    quiet = f.register(db, admin, _customer(db, email=None, name="Quiet"))
    info = f.register(
        db,
        admin,
        _customer(db),
        request_type="information",
        problem_code=None,
        question="Opening hours?",
        answer="9 to 5",
    )
    assert _rows(db, quiet) == []
    assert _rows(db, info) == []


def test_a_rolled_back_change_queues_nothing(db, admin, clock):
    from cc_tui.services.incidents.intake import IntakeForm, save_call

    _desk(db, admin)
    customer = _customer(db)
    with pytest.raises(RuntimeError), db.session() as s:
        form = IntakeForm(
            request_type="action",
            customer_id=customer,
            title="Disk full",
            reason="HW/DISK",
            problem_code="DESK/IT/PC/DISK",
        )
        save_call(s, actor=admin, channel="phone", form=form)
        assert len(s.scalars(select(Notification)).all()) == 1
        raise RuntimeError("the change fails after queuing")
    assert _rows(db) == []


def test_a_call_added_to_an_incident_closes_its_contact_without_telling_the_customer(
    db, admin, clock
):
    from cc_tui.services.incidents.intake import add_to_existing, open_contact

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    with db.session() as s:
        draft = open_contact(s, actor=admin, channel="phone")
        add_to_existing(s, actor=admin, target_ref=inc, text="Still full", contact_id=draft.id)
    assert [(r.reason, r.incident_id) for r in _rows(db)] == [("registered", parse_ref(inc))]


def test_hand_over_and_closing_queue_their_messages_once(db, admin, world, clock):  # noqa: F811
    with db.session() as s:
        s.get(Customer, world["acme"]).email = "acme@example.com"
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        order = transfer(s, actor=admin, ref=inc)
    with db.session() as s:
        change_status(s, actor=admin, ref=inc, to="closed", coordinator=True)
    rows = _rows(db, inc)
    assert [r.reason for r in rows] == ["registered", "handed_over", "closed"]
    assert f"WO-{outbox.detail_of(rows[1])}" == order.work_orders[0].number
    with db.session() as s:
        assert preview(s, "closed", inc).subject.startswith("Your request is closed")


def test_sent_mail_carries_the_thread_and_automatic_headers(db, admin, smtp, clock):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db), title="Printer jams")
    result = _send(db, smtp)
    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    [mail] = smtp.messages
    [row] = _rows(db, inc)
    assert row.status == "sent" and row.sent_at == START and row.attempts == 1
    assert mail["Message-ID"] == row.message_id
    assert mail["Subject"] == f"[{inc}] We have registered your request: Printer jams"
    root = thread_root(parse_ref(inc), FROM)
    assert mail["In-Reply-To"] == root
    assert mail["References"] == root
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["To"] == "anna@example.com" and mail["From"] == FROM
    assert inc in mail.get_content()
    # Nothing is due any more: a second pass sends nothing.
    assert _send(db, smtp).claimed == 0
    assert len(smtp.messages) == 1


def test_a_crash_between_send_and_mark_resends_the_same_message_id(
    db, admin, smtp, clock, monkeypatch
):
    _desk(db, admin)
    f.register(db, admin, _customer(db))
    real_mark = sending.mark_sent

    def crash(*args, **kwargs):
        raise SystemExit("killed after sending, before marking")

    monkeypatch.setattr(sending, "mark_sent", crash)
    with pytest.raises(SystemExit):
        _send(db, smtp)
    monkeypatch.setattr(sending, "mark_sent", real_mark)
    assert len(smtp.messages) == 1
    [row] = _rows(db)
    assert row.status == "queued"
    # The claim holds it until its back-off has passed, then it goes again.
    assert _send(db, smtp).claimed == 0
    clock.now = START + backoff(1)
    assert _send(db, smtp).sent == 1
    assert len(smtp.messages) == 2
    assert {m["Message-ID"] for m in smtp.messages} == {row.message_id}
    assert _rows(db)[0].status == "sent"


def test_an_unreachable_server_is_retried_with_back_off_then_failed(db, admin, clock):
    _desk(db, admin)
    f.register(db, admin, _customer(db))
    down = SmtpTarget("127.0.0.1", _free_port(), "none", FROM, timeout=5)
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = send_due(db, SmtpTransport(down), sender=FROM)
        assert result.claimed == 1
        [row] = _rows(db)
        assert row.attempts == attempt and row.last_error
        if attempt < MAX_ATTEMPTS:
            assert row.status == "queued"
            assert send_due(db, SmtpTransport(down), sender=FROM).claimed == 0
            waits.append(row.next_attempt_at - clock.now)
            clock.now = row.next_attempt_at
    assert row.status == "failed" and row.next_attempt_at is None
    assert "ConnectionRefusedError" in row.last_error
    assert waits == [timedelta(minutes=m) for m in (4, 8, 16, 32)]
    assert clock.now - START == timedelta(minutes=60)
    with db.session() as s:
        assert [r.id for r in list_outbox(s, status="failed")] == [row.id]
        again = retry(s, row.id)
    assert (again.status, again.attempts) == ("queued", 0)


def test_a_permanent_refusal_fails_at_once_and_others_still_go(db, admin, smtp, clock):
    _desk(db, admin)
    smtp.refuse.add("gone@example.com")
    bad = f.register(db, admin, _customer(db, email="gone@example.com", name="Gone"))
    good = f.register(db, admin, _customer(db))
    result = _send(db, smtp)
    assert (result.sent, result.failed) == (1, 1)
    assert _rows(db, bad)[0].status == "failed"
    assert "550" in _rows(db, bad)[0].last_error
    assert _rows(db, good)[0].status == "sent"


def test_smtp_settings_are_read_from_the_url(tmp_path, monkeypatch):
    from cc_tui.config import SmtpSettings
    from cc_tui.errors import UsageError
    from cc_tui.services.notify.sender import smtp_target

    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    monkeypatch.delenv("CC_TUI_SMTP_PASSWORD", raising=False)
    t = smtp_target(
        SmtpSettings(url="smtp://mx:2525", sender=FROM, username="desk", password_file=secret)
    )
    assert (t.host, t.port, t.security, t.username, t.password) == (
        "mx",
        2525,
        "starttls",
        "desk",
        "s3cret",
    )
    assert smtp_target(SmtpSettings(url="smtps://mx", sender=FROM)).port == 465
    secret.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        smtp_target(SmtpSettings(url="smtp://mx", sender=FROM, password_file=secret))
    with pytest.raises(UsageError):
        smtp_target(SmtpSettings(url="http://mx", sender=FROM))


def test_the_password_never_goes_in_clear_to_a_server_without_starttls(smtp, monkeypatch):
    """A server that offers no STARTTLS gets no login off loopback: the message stays in
    the outbox with the reason (the test's server is on loopback: the host is taken for a
    remote one)."""
    import dataclasses
    import smtplib

    from cc_tui.services.notify.sender import SmtpTransport

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = FROM, "anna@acme.example", "x"
    message.set_content("x")
    target = dataclasses.replace(smtp.target, security="starttls", username="desk", password="pw")
    monkeypatch.setattr(sending, "is_loopback", lambda host: False)
    transport = SmtpTransport(target)
    with pytest.raises(smtplib.SMTPNotSupportedError, match="not sent in clear"):
        transport.send(message)
    transport.close()
    assert smtp.messages == []
    # On loopback the same server is used without TLS (no AUTH offered: it says so itself).
    monkeypatch.undo()
    transport = SmtpTransport(target)
    with pytest.raises(smtplib.SMTPNotSupportedError, match="AUTH extension"):
        transport.send(message)
    transport.close()


def test_notify_commands(db, admin, cli, smtp, clock, tmp_path, monkeypatch):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    config = tmp_path / "config.toml"
    own = tmp_path / "templates"
    own.mkdir()
    (own / "registered.txt").write_text("Subject: Got it ({{ incident.number }})\n\nThanks.\n")
    config.write_text(
        f'notify_templates = "{own}"\n[smtp]\nurl = "smtp+plain://127.0.0.1:{smtp.target.port}"\n'
        f'from = "{FROM}"\n'
    )
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(config))
    shown = cli("notify", "preview", "registered", "--incident", inc, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {"subject": f"Got it ({inc})", "body": "Thanks.\n"}
    listed = json.loads(cli("notify", "list", "--status", "queued", "--json").stdout)
    assert [(r["incident"], r["event"], r["status"]) for r in listed] == [
        (inc, "registered", "queued")
    ]
    sent = cli("notify", "send", "--once", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "held": 0,
        "errors": [],
    }
    assert smtp.messages[0]["Subject"] == f"[{inc}] Got it ({inc})"
    assert json.loads(cli("notify", "list", "--incident", inc, "--json").stdout)[0]["status"] == (
        "sent"
    )
    refused = cli("notify", "retry", str(listed[0]["id"]))
    assert refused.exit_code != 0 and "nothing to retry" in refused.stderr
    assert cli("notify", "preview", "nosuch", "--incident", inc).exit_code != 0


def test_the_customers_reply_to_a_notification_lands_on_its_incident(db, admin, smtp, clock):
    from cc_tui.services.mail.intake import MailDefaults, receive

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    _send(db, smtp)
    [ours] = smtp.messages
    reply = EmailMessage()
    reply["From"] = "anna@example.com"
    reply["To"] = FROM
    # The subject lost its [INC-n]: the thread headers alone find the incident.
    reply["Subject"] = "Re: thanks"
    reply["Message-ID"] = "<reply-1@example.com>"
    reply["In-Reply-To"] = ours["Message-ID"]
    reply["References"] = f"{ours['References']} {ours['Message-ID']}"
    reply.set_content("The disk is still full.\n")
    with db.session() as s:
        outcome = receive(
            s,
            actor=admin,
            raw=reply.as_bytes(),
            defaults=MailDefaults(reason="HW/DISK", own_addresses=frozenset({FROM})),
        )
    assert (outcome.outcome, outcome.incident) == ("event", inc)
    # What was sent is kept as outgoing mail on the incident, raw as it went out.
    with db.session() as s:
        from cc_tui.models import MailMessage

        sent = s.scalars(select(MailMessage).where(MailMessage.direction == "out")).one()
        assert sent.message_id == ours["Message-ID"] and sent.incident_id == parse_ref(inc)
        assert sent.raw is not None and b"Auto-Submitted: auto-generated" in sent.raw


# --- policies: preferences, suppression, our own addresses, a second closing ----------


def test_preferences_of_the_customer_and_the_contact_decide(db, admin, clock):
    from cc_tui.models import Contact

    _desk(db, admin)
    none = _customer(db, email="none@example.com", name="Silent")
    with db.session() as s:
        s.get(Customer, none).notify = "none"
    assert _rows(db, f.register(db, admin, none)) == []
    sms = _customer(db, email="sms@example.com", name="Texter")
    with db.session() as s:
        s.get(Customer, sms).notify = "sms"
    assert _rows(db, f.register(db, admin, sms)) == []
    # A contact who wants e-mail gets it, whatever the customer said.
    with db.session() as s:
        person = Contact(
            customer_id=none,
            name="Eva",
            search_name="eva",
            email="eva@example.com",
            notify="email",
        )
        s.add(person)
        s.flush()
        person_id = person.id
    rows = _rows(db, f.register(db, admin, none, contact_id=person_id))
    assert [(r.reason, r.recipient) for r in rows] == [("registered", "eva@example.com")]


def test_a_second_closing_after_a_reopen_notifies_again(db, admin, world, clock):  # noqa: F811
    from cc_tui.services.workorders.orders import set_status
    from tests.services.test_workorders import complete

    with db.session() as s:
        s.get(Customer, world["acme"]).email = "acme@example.com"
    inc = action(db, admin, world["acme"])
    with db.session() as s:
        wo = transfer(s, actor=admin, ref=inc).work_orders[0].number
    complete(db, admin, wo)
    clock.now = START + timedelta(hours=1)
    with db.session() as s:
        set_status(s, actor=admin, wo=wo, to="open")
    clock.now = START + timedelta(hours=2)
    complete(db, admin, wo, solution="replaced the roller again")
    assert [r.reason for r in _rows(db, inc)] == ["registered", "handed_over", "closed", "closed"]


def test_a_refused_address_is_suppressed_and_not_tried_again(db, admin, smtp, clock, cli):
    _desk(db, admin)
    smtp.refuse.add("gone@example.com")
    customer = _customer(db, email="gone@example.com", name="Gone")
    first = f.register(db, admin, customer)
    assert _send(db, smtp).failed == 1
    with db.session() as s:
        from cc_tui.services.notify.suppression import listed

        [held] = listed(s)
    assert held.address == "gone@example.com" and "550" in held.reason
    assert held.until == START + timedelta(days=30)
    # The next message to it fails at once, with no try at the server.
    second = f.register(db, admin, customer, title="Again")
    again = _send(db, smtp)
    assert (again.sent, again.failed) == (0, 1) and "suppressed until" in again.errors[0]
    [row] = _rows(db, second)
    assert (row.status, row.attempts) == ("failed", 0)
    assert "suppressed until" in row.last_error
    assert _rows(db, first)[0].attempts == 1
    shown = json.loads(cli("notify", "suppressed", "--json").stdout)
    assert [r["address"] for r in shown] == ["gone@example.com"]
    assert cli("notify", "unsuppress", "gone@example.com").exit_code == 0
    assert json.loads(cli("notify", "suppressed", "--json").stdout) == []
    assert cli("notify", "unsuppress", "gone@example.com").exit_code != 0


def test_nothing_goes_to_our_own_addresses(db, admin, smtp, clock):
    _desk(db, admin)
    with db.session() as s:
        from cc_tui.models import Mailbox

        s.add(
            Mailbox(
                name="support",
                url="imaps://support%40example.org@imap.example.org/INBOX",
                request_type="action",
                active=True,
            )
        )
    ours = f.register(db, admin, _customer(db, email="support@example.org", name="Loop"))
    sender = f.register(db, admin, _customer(db, email=FROM.upper(), name="Self"))
    assert _send(db, smtp).failed == 2
    assert smtp.messages == []
    for ref in (ours, sender):
        [row] = _rows(db, ref)
        assert row.status == "failed" and "our own address" in row.last_error


def test_a_delivery_report_of_a_permanent_failure_suppresses_the_address(db, admin, smtp, clock):
    from cc_tui.services.mail.intake import MailDefaults, receive
    from cc_tui.services.notify.suppression import suppressed

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    _send(db, smtp)
    [ours] = smtp.messages
    report = (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        f"To: {FROM}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; anna@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {ours['Message-ID']}\r\nSubject: registered\r\n"
        "--b1--\r\n"
    ).encode()
    with db.session() as s:
        outcome = receive(
            s,
            actor=admin,
            raw=report,
            defaults=MailDefaults(reason="HW/DISK", own_addresses=frozenset({FROM})),
        )
        assert outcome.incident == inc
        assert set(suppressed(s, ["anna@example.com"])) == {"anna@example.com"}


def test_customer_notify_preference_by_cli(db, admin, cli):
    with db.session() as s:
        c = f.customer(s, "Acme", email="a@example.com")
        number, version = c.number, c.version
    done = cli(
        "customer",
        "update",
        number,
        "--version",
        str(version),
        "--notify",
        "sms",
        "--language",
        "de",
        "--json",
    )
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    assert (shown["notify"], shown["language"]) == ("sms", "de")
    bad = cli("customer", "update", number, "--version", str(version + 1), "--notify", "fax")
    assert bad.exit_code != 0 and "notify must be one of email, sms, none" in bad.stderr
    with db.session() as s:
        assert s.get(Customer, shown["id"]).notify == "sms"


def _wait_for(check, what: str, seconds: float = 60.0):
    """Poll `check` until it is true; a generous deadline, not a speed test."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.commits
def test_a_running_watch_sends_a_queued_message_and_stops_on_sigterm(db, admin, smtp, tmp_path):
    """On PostgreSQL the watch looks only every ten minutes by itself: the message that is
    queued while it waits can only be sent because the queuing transaction woke it."""
    import os
    import signal
    import subprocess
    import sys

    _desk(db, admin)
    customer = _customer(db)
    config = tmp_path / "watch.toml"
    config.write_text(
        f'[smtp]\nurl = "smtp+plain://127.0.0.1:{smtp.target.port}"\nfrom = "{FROM}"\n'
    )
    interval = "0.2" if db.is_sqlite else "600"
    url = db.url.render_as_string(hide_password=False)
    log = tmp_path / "watch.log"
    with log.open("w") as err:
        watch = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cc_tui",
                "--db",
                url,
                "--as",
                "admin",
                "notify",
                "watch",
                "--interval",
                interval,
            ],
            stderr=err,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "CC_TUI_CONFIG_FILE": str(config)},
        )
    try:
        first = f.register(db, admin, customer, title="First")
        _wait_for(lambda: len(smtp.messages) == 1, "the first message")
        # The first pass is done and the watch waits: a new message must wake it.
        _wait_for(lambda: _rows(db, first)[0].status == "sent", "the first mark")
        second = f.register(db, admin, customer, title="Second")
        _wait_for(lambda: len(smtp.messages) == 2, "the second message")
        assert smtp.messages[1]["Subject"] == f"[{second}] We have registered your request: Second"
        watch.send_signal(signal.SIGTERM)
        assert watch.wait(timeout=60) == 0
    finally:
        if watch.poll() is None:
            watch.kill()
    text = log.read_text()
    assert "woken by PostgreSQL NOTIFY" in text or db.is_sqlite
    assert text.rstrip().endswith("stopped")


# --- an agent's reply ---------------------------------------------------------------


def _mail_in(db, admin, raw: EmailMessage):
    from cc_tui.services.mail.intake import MailDefaults, receive

    with db.session() as s:
        return receive(
            s,
            actor=admin,
            raw=raw.as_bytes(),
            defaults=MailDefaults(reason="HW/DISK", own_addresses=frozenset({FROM})),
        )


def _customer_mail(subject: str, body: str, message_id: str, **headers) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Anna Berg <anna@example.com>"
    mail["To"] = FROM
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


def test_an_agents_reply_round_trip(db, admin, smtp, clock, cli, tmp_path, monkeypatch):
    """The customer writes, the agent answers from the incident, the customer answers the
    answer: all three on one incident, threaded by Message-ID."""
    from cc_tui.services.incidents.timeline import timeline

    _desk(db, admin)
    _customer(db)
    first = _mail_in(
        db, admin, _customer_mail("Printer jams", "It jams on every page.\n", "<c-1@example.com>")
    )
    assert first.outcome == "incident"
    inc = first.incident
    config = tmp_path / "reply.toml"
    config.write_text(
        f'[smtp]\nurl = "smtp+plain://127.0.0.1:{smtp.target.port}"\nfrom = "{FROM}"\n'
    )
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(config))
    started = json.loads(cli("incident", "reply", inc, "--draft", "--json").stdout)
    assert started["to"] == "anna@example.com"
    assert started["subject"] == "Re: Printer jams"
    assert started["body"].startswith("Hello")
    assert "> It jams on every page." in started["body"]
    text = tmp_path / "answer.txt"
    text.write_text("Please send us the printer's model.\n\n" + started["body"].split("\n\n", 1)[1])
    clock.now = START + timedelta(minutes=7)
    done = cli("incident", "reply", inc, "--body-file", str(text), "--json")
    assert done.exit_code == 0, done.output
    sent = json.loads(done.stdout)
    assert (sent["incident"], sent["to"], sent["status"]) == (inc, "anna@example.com", "queued")
    assert sent["first_response"] is True
    assert sent["first_response_at"].startswith("2026-03-02T09:07")
    assert sent["message_id"].endswith("@example.org>")
    assert "first response recorded" in done.stderr
    with db.session(write=False) as s:
        [event] = [e for e in timeline(s, ref=inc).events if e.type == "EmailOut"]
    assert event.text.startswith("To anna@example.com: Re: Printer jams\n\nPlease send us")
    # A second reply does not move the first response.
    again = cli(
        "incident",
        "reply",
        inc,
        "--body-file",
        str(text),
        "--to",
        "it@example.com",
        "--subject",
        "Model?",
        "--json",
    )
    assert json.loads(again.stdout)["first_response"] is False

    # The registration's notice, then the two replies.
    assert _send(db, smtp).sent == 3
    notice, ours, other = smtp.messages
    assert notice["Auto-Submitted"] == "auto-generated"
    assert ours["Message-ID"] == sent["message_id"]
    assert ours["Subject"] == f"[{inc}] Re: Printer jams"
    assert ours["In-Reply-To"] == "<c-1@example.com>"
    assert "<c-1@example.com>" in ours["References"]
    assert ours["Auto-Submitted"] is None and ours["X-Auto-Response-Suppress"] is None
    assert ours.get_content().startswith("Please send us the printer's model.")
    assert other["To"] == "it@example.com" and other["Subject"] == f"[{inc}] Model?"

    answer = _customer_mail(
        "Re: Re: Printer jams",
        "An LJ-4000.\n\n> Please send us the printer's model.\n",
        "<c-2@example.com>",
        In_Reply_To=ours["Message-ID"],
        References=f"{ours['References']} {ours['Message-ID']}",
    )
    back = _mail_in(db, admin, answer)
    assert (back.outcome, back.incident) == ("event", inc)


def test_a_reply_that_cannot_go_writes_nothing(db, admin, clock, cli, tmp_path):
    from cc_tui.models import Event
    from cc_tui.services.notify.suppression import suppress

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db, email=None, name="Nomail"))
    body = tmp_path / "b.txt"
    body.write_text("Hello\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with db.session() as s:
        suppress(s, "gone@example.com", "bounced: 5.1.1")
    cases = [
        (("--body-file", str(body)), "has no e-mail address"),
        (("--body-file", str(empty), "--to", "a@example.com"), "the reply is empty"),
        (("--body-file", str(body), "--to", "not an address"), "not an e-mail address"),
        (("--body-file", str(body), "--to", "gone@example.com"), "is suppressed until"),
        (("--body-file", str(tmp_path / "missing.txt"), "--to", "a@example.com"), "cannot read"),
        ((), "--body-file"),
    ]
    with db.session(write=False) as s:
        events = len(s.scalars(select(Event)).all())
    for args, message in cases:
        result = cli("incident", "reply", inc, *args)
        assert result.exit_code != 0 and message in result.stderr, (args, result.output)
    with db.session(write=False) as s:
        assert len(s.scalars(select(Event)).all()) == events
    assert _rows(db, inc) == []


@pytest.mark.commits
def test_a_sender_killed_between_send_and_mark_resends_once_by_message_id(db, admin, tmp_path):
    """A real `notify send` process is killed (SIGKILL) while the server takes its
    message: the row stays queued with its Message-ID; once its back-off has passed, a new
    process sends it again with the same Message-ID, so the receiver keeps it once."""
    import os
    import signal
    import subprocess
    import sys

    from sqlalchemy import update

    from cc_tui import clock as real_clock

    class Killer(Inbox):
        process: subprocess.Popen | None = None

        async def handle_DATA(self, server, session, envelope):
            reply = await super().handle_DATA(server, session, envelope)
            if self.process is not None and len(self.messages) == 1:
                # The message is in; the sender dies before it reads the answer.
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
            return reply

    inbox = Killer()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        _desk(db, admin)
        inc = f.register(db, admin, _customer(db))
        config = tmp_path / "kill.toml"
        config.write_text(
            f'[smtp]\nurl = "smtp+plain://127.0.0.1:{controller.port}"\nfrom = "{FROM}"\n'
        )
        url = db.url.render_as_string(hide_password=False)
        command = [
            sys.executable,
            "-m",
            "cc_tui",
            "--db",
            url,
            "--as",
            "admin",
            "notify",
            "send",
            "--once",
        ]
        env = {**os.environ, "CC_TUI_CONFIG_FILE": str(config)}
        inbox.process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        assert inbox.process.wait(timeout=120) == -signal.SIGKILL
        [row] = _rows(db, inc)
        assert (row.status, row.attempts, row.sent_at) == ("queued", 1, None)
        assert row.message_id == inbox.messages[0]["Message-ID"]
        # A restart before the back-off has passed leaves it alone.
        inbox.process = None
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and len(inbox.messages) == 1, again.stderr
        with db.session() as s:  # the back-off has passed
            s.execute(
                update(Notification)
                .where(Notification.id == row.id)
                .values(next_attempt_at=real_clock.now())
            )
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    finally:
        controller.stop()
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    assert first.get_content() == second.get_content()
    # The receiver keeps messages by Message-ID: it has this one once.
    assert len({m["Message-ID"] for m in inbox.messages}) == 1
    [row] = _rows(db, inc)
    assert (row.status, row.attempts) == ("sent", 2)


def test_templates_by_language_and_the_escalation_alert(db, admin, smtp, clock, tmp_path):
    _desk(db, admin)
    customer = _customer(db)
    with db.session() as s:
        s.get(Customer, customer).language = "de"
    inc = f.register(db, admin, customer, title="Drucker")
    with db.session() as s:
        s.add(
            Notification(
                channel="email",
                reason="escalation:late",
                incident_id=parse_ref(inc),
                recipient="sue@example.org",
                subject=f"{inc} is late: Drucker",
                body=f"{inc} reached late (priority P3, status registered)",
            )
        )
        assert preview(s, "registered", inc).subject.startswith("Wir haben Ihre Anfrage")
        assert preview(s, "registered.de", inc).subject.startswith("Wir haben")
    assert _send(db, smtp).sent == 2
    notice, alert = smtp.messages
    assert notice["Subject"] == f"[{inc}] Wir haben Ihre Anfrage aufgenommen: Drucker"
    assert alert["Subject"] == f"[{inc}] {inc} is late: Drucker"
    assert "escalation state late" in alert.get_content()
    # An admin's file next to the config replaces the shipped one, in its language.
    own = tmp_path / "templates"
    own.mkdir()
    (own / "registered.de.txt").write_text("Subject: Angekommen {{ incident.number }}\n\nDanke.\n")
    with db.session() as s:
        assert preview(s, "registered", inc, own).subject == f"Angekommen {inc}"
        with pytest.raises(UsageError):
            preview(s, "../registered", inc, own)


def _policy(cli, login="admin"):
    done = cli("notify", "policy", "list", "--json", login=login)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_the_notification_policy_is_data_an_admin_changes(db, admin, cli, clock):
    _desk(db, admin)
    with db.session() as s:
        f.agent(s, "bob")
    rows = _policy(cli, login="bob")  # everybody may read it
    assert all(set(r) == {"request_type", "event", "channel", "enabled"} for r in rows)
    assert len(rows) == 3 * 4 * 2
    # As shipped: what cc-tui always did (seed 002).
    assert {(r["request_type"], r["event"], r["channel"]) for r in rows if r["enabled"]} == {
        ("action", event, channel)
        for event in ("registered", "handed_over", "closed")
        for channel in ("email", "sms")
    }
    customer = _customer(db)
    assert [r.reason for r in _rows(db, f.register(db, admin, customer))] == ["registered"]

    refused = cli(
        "notify", "policy", "set", "--type", "action", "--event", "registered", "--off",
        login="bob",
    )  # fmt: skip
    assert refused.exit_code != 0 and "only an admin" in refused.stderr
    bad = cli("notify", "policy", "set", "--type", "action", "--event", "opened", "--off")
    assert bad.exit_code != 0 and "event must be one of registered" in bad.stderr
    bad = cli(
        "notify", "policy", "set", "--type", "action", "--event", "closed", "--channel", "fax",
        "--off",
    )  # fmt: skip
    assert bad.exit_code != 0 and "channel must be one of email, sms" in bad.stderr
    assert _policy(cli) == rows  # nothing changed by the refusals

    off = cli(
        "notify", "policy", "set", "--type", "action", "--event", "registered", "--off", "--json"
    )  # fmt: skip
    assert off.exit_code == 0, off.output
    assert json.loads(off.stdout) == [
        {"request_type": "action", "event": "registered", "channel": c, "enabled": False}
        for c in ("email", "sms")
    ]
    assert _rows(db, f.register(db, admin, customer)) == []

    on = cli(
        "notify", "policy", "set", "--type", "information", "--event", "closed",
        "--channel", "email", "--on", "--json",
    )  # fmt: skip
    assert on.exit_code == 0, on.output
    assert json.loads(on.stdout) == [
        {"request_type": "information", "event": "closed", "channel": "email", "enabled": True}
    ]
    info = f.register(
        db,
        admin,
        customer,
        request_type="information",
        problem_code=None,
        question="Opening hours?",
        answer="9 to 5",
    )
    assert [(r.reason, r.recipient) for r in _rows(db, info)] == [("closed", "anna@example.com")]
    shown = cli("notify", "policy", "list")
    assert "information  closed       email    on" in shown.stdout


def test_switching_on_solved_queues_it(db, admin, clock):
    from cc_tui.services.directory.codes import add_code
    from cc_tui.services.notify.policy import set_policy

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    with db.session() as s:
        add_code(s, actor=admin, kind="resolution", path="FIX")
        add_code(s, actor=admin, kind="resolution", path="FIX/CLEAN")
        change_status(s, actor=admin, ref=inc, to="in_process", coordinator=True)
    with db.session() as s:
        # The policy read earlier in this transaction is read again after the change to it.
        assert ("action", "email", "solved") not in outbox.policy_of(s)
        set_policy(
            s, actor=admin, request_type="action", event="solved", channel=None, enabled=True
        )
        assert ("action", "email", "solved") in outbox.policy_of(s)
        change_status(
            s,
            actor=admin,
            ref=inc,
            to="solved",
            problem="disk",
            solution="cleaned",
            resolution="FIX/CLEAN",
            coordinator=True,
        )
    assert [r.reason for r in _rows(db, inc)] == ["registered", "solved"]
