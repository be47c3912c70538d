"""SMS notifications: the outbox's sms rows sent through a real Kannel gateway (bearerbox,
smsbox and Kannel's fake SMSC, started by `tests.kannel`), quiet hours, one message per
recipient."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cc_tui.config import Settings, SmsSettings
from cc_tui.errors import UsageError
from cc_tui.models import Calendar, Incident, Notification
from cc_tui.services.incidents.base import parse_ref
from cc_tui.services.notify import outbox
from cc_tui.services.notify.sender import MAX_ATTEMPTS, backoff
from cc_tui.services.notify.sms import (
    HttpGateway,
    QuietHours,
    SmsTarget,
    send_due_sms,
    sms_target,
)
from tests import factories as f
from tests.dovecot import free_port
from tests.kannel import BARRED, SENDER, kannel_gateway
from tests.services.test_notify import _customer, _desk
from tests.services.test_workorders import action, world  # noqa: F401 (a fixture)

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday, 10:00 in Berlin.
START = f.utc(2026, 3, 2, 9, 0)
ANNA = "+4917612345678"
BEN = "+4915112345678"


@pytest.fixture(scope="module")
def kannel():
    with kannel_gateway() as gateway:
        yield gateway


@pytest.fixture
def clock(monkeypatch):
    return f.fake_clock(monkeypatch, START)


def _target(kannel, **kw) -> SmsTarget:
    values = {
        "url": kannel.url,
        "user": kannel.user,
        "password": kannel.password,
        "timeout": 10.0,
        "zone": BERLIN,
    }
    return SmsTarget(**(values | kw))


def _queue_sms(db, ref: str, event: str, to: str) -> None:
    """An sms row as the outbox writes it."""
    from cc_tui import clock

    with db.session() as s:
        incident = s.get(Incident, parse_ref(ref))
        s.add(
            Notification(
                channel="sms",
                reason=event,
                incident_id=incident.id,
                recipient=to,
                status="queued",
                created_at=clock.now(),
                next_attempt_at=clock.now(),
                idempotency_key=outbox.idempotency_key(incident.id, event, "sms", to),
            )
        )


def _sms_rows(db, ref=None):
    with db.session() as s:
        query = select(Notification).where(Notification.channel == "sms")
        if ref:
            query = query.where(Notification.incident_id == parse_ref(ref))
        return s.scalars(query.order_by(Notification.id)).all()


def _send(db, target):
    return send_due_sms(db, HttpGateway(target), target)


def test_an_sms_reaches_the_phone_network_through_kannel(db, admin, kannel, clock):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db), title="Drucker defekt")
    _queue_sms(db, inc, "registered", ANNA)
    seen = kannel.seen()
    result = _send(db, _target(kannel, sender=SENDER))
    assert (result.sent, result.retrying, result.failed, result.messages) == (1, 0, 0, 1)
    [sms] = kannel.wait_for(1, after=seen)
    assert sms.to == ANNA and sms.sender == SENDER
    assert sms.text == f'{inc}: we have registered your request "Drucker defekt". Your service desk'
    [row] = _sms_rows(db, inc)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, START)
    # Nothing is due any more.
    assert _send(db, _target(kannel)).taken == 0


def test_a_refused_number_fails_at_once_and_the_others_still_go(db, admin, kannel, clock):
    _desk(db, admin)
    bad = f.register(db, admin, _customer(db, name="Barred"))
    good = f.register(db, admin, _customer(db))
    _queue_sms(db, bad, "registered", f"+{BARRED}1234567")
    _queue_sms(db, good, "registered", BEN)
    seen = kannel.seen()
    result = _send(db, _target(kannel))
    assert (result.sent, result.failed, result.retrying) == (1, 1, 0)
    [row] = _sms_rows(db, bad)
    assert row.status == "failed" and row.next_attempt_at is None
    assert row.last_error.startswith("HTTP 400: Number(s) has/have been denied")
    assert _sms_rows(db, good)[0].status == "sent"
    assert [s.to for s in kannel.wait_for(1, after=seen)] == [BEN]


def test_a_wrong_login_is_retried_with_back_off_then_failed(db, admin, kannel, clock):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    _queue_sms(db, inc, "registered", ANNA)
    wrong = _target(kannel, password="not-the-password")
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = _send(db, wrong)
        [row] = _sms_rows(db, inc)
        assert row.attempts == attempt
        assert row.last_error == "HTTP 403: Authorization failed for sendsms"
        if attempt < MAX_ATTEMPTS:
            assert (row.status, result.retrying) == ("queued", 1)
            assert _send(db, wrong).taken == 0
            waits.append(row.next_attempt_at - clock.now)
            clock.now = row.next_attempt_at
    assert row.status == "failed" and result.failed == 1
    assert waits == [backoff(n) for n in range(1, MAX_ATTEMPTS)]


def test_a_gateway_that_is_down_is_retried(db, admin, clock):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    _queue_sms(db, inc, "registered", ANNA)
    down = SmsTarget(url=f"http://127.0.0.1:{free_port()}/send?to={{to}}&text={{text}}")
    result = _send(db, down)
    assert (result.sent, result.retrying) == (0, 1)
    [row] = _sms_rows(db, inc)
    assert row.status == "queued" and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == START + backoff(1)


def test_quiet_hours_hold_messages_and_send_one_per_recipient_when_they_end(
    db, admin, kannel, clock
):
    _desk(db, admin)
    target = _target(kannel, quiet=QuietHours.parse("21:00-08:00"))
    # 23:30 in Berlin: three events of Anna's request and one of Ben's come due.
    clock.now = datetime(2026, 3, 2, 23, 30, tzinfo=BERLIN).astimezone(UTC)
    anna = f.register(db, admin, _customer(db), title="Server down")
    other = f.register(db, admin, _customer(db, name="Other"), title="Mail")
    ben = f.register(db, admin, _customer(db, name="Ben"), title="Printer")
    for event in ("registered", "handed_over", "closed"):
        _queue_sms(db, anna, event, ANNA)
    _queue_sms(db, other, "registered", ANNA)
    _queue_sms(db, ben, "registered", BEN)
    seen = kannel.seen()
    result = _send(db, target)
    assert (result.held, result.taken, result.messages, result.sent) == (5, 5, 0, 0)
    morning = datetime(2026, 3, 3, 8, 0, tzinfo=BERLIN).astimezone(UTC)
    rows = _sms_rows(db)
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows} == {("queued", 0, morning)}
    # Still quiet at 07:59; nothing is due, nothing goes.
    clock.now = morning - timedelta(minutes=1)
    assert _send(db, target).taken == 0
    clock.now = morning
    result = _send(db, target)
    assert (result.sent, result.messages, result.held) == (5, 2, 0)
    got = {s.to: s.text for s in kannel.wait_for(2, after=seen)}
    assert got[ANNA].split("\n") == [
        f'{anna}: we have registered your request "Server down". Your service desk',
        f"{anna}: your request is being carried out. Your service desk",
        f'{anna}: your request "Server down" is closed. Your service desk',
        f'{other}: we have registered your request "Mail". Your service desk',
    ]
    assert got[BEN] == f'{ben}: we have registered your request "Printer". Your service desk'
    assert {r.status for r in _sms_rows(db)} == {"sent"}
    assert kannel.seen() == seen + 2


def test_quiet_hours_follow_the_zone_of_the_contract_calendar(db, admin, kannel, clock):
    from cc_tui.models import Customer

    _desk(db, admin)
    gotham_id = _customer(db, name="Gotham")
    with db.session() as s:
        ny = Calendar(name="New York office", tz="America/New_York")
        s.add(ny)
        s.flush()
        customer = s.get(Customer, gotham_id)
        contract = f.contract(s, customer, "SC-NY")
        contract.calendar_id = ny.id
        contract_id = contract.id
    # 22:30 in Berlin is 16:30 in New York.
    clock.now = f.utc(2026, 3, 2, 21, 30)
    berlin = f.register(db, admin, _customer(db))
    gotham = f.register(db, admin, gotham_id)
    with db.session() as s:
        s.get(Incident, parse_ref(gotham)).contract_id = contract_id
    _queue_sms(db, berlin, "registered", ANNA)
    _queue_sms(db, gotham, "registered", BEN)
    seen = kannel.seen()
    result = _send(db, _target(kannel, quiet=QuietHours.parse("21:00-08:00")))
    assert (result.held, result.sent) == (1, 1)
    assert [s.to for s in kannel.wait_for(1, after=seen)] == [BEN]
    assert _sms_rows(db, berlin)[0].next_attempt_at == datetime(
        2026, 3, 3, 8, 0, tzinfo=BERLIN
    ).astimezone(UTC)


def test_without_a_contract_calendar_the_numbers_own_zone_counts(db, admin, kannel, clock):
    _desk(db, admin)
    # 21:30 in London; 16:30 in New York, the configured zone.
    clock.now = f.utc(2026, 3, 2, 21, 30)
    london = f.register(db, admin, _customer(db, name="London"))
    sydney = f.register(db, admin, _customer(db, name="Sydney"))
    _queue_sms(db, london, "registered", "+447911123456")
    # Australia's numbers span several local times: the configured zone decides.
    _queue_sms(db, sydney, "registered", "+61412345678")
    seen = kannel.seen()
    target = _target(
        kannel, quiet=QuietHours.parse("21:00-08:00"), zone=ZoneInfo("America/New_York")
    )
    result = _send(db, target)
    assert (result.held, result.sent) == (1, 1)
    assert [s.to for s in kannel.wait_for(1, after=seen)] == ["+61412345678"]
    assert _sms_rows(db, london)[0].next_attempt_at == f.utc(2026, 3, 3, 8, 0)


def test_a_numbers_zone():
    from cc_tui.services.notify.sms import number_zone

    winter = f.utc(2026, 1, 15, 12, 0)
    assert number_zone(ANNA, winter).utcoffset(winter) == timedelta(hours=1)
    assert number_zone("+447911123456", winter).utcoffset(winter) == timedelta(0)
    assert number_zone("+12125550123", winter) == ZoneInfo("America/New_York")
    assert number_zone("+61412345678", winter) is None


def test_quiet_hours_periods():
    night = QuietHours.parse(" 21:00 - 8:00 ")
    assert (night.start, night.end, str(night)) == (time(21), time(8), "21:00-08:00")
    at = lambda *a: datetime(*a, tzinfo=BERLIN)  # noqa: E731
    assert night.until(at(2026, 3, 2, 20, 59), BERLIN) is None
    assert night.until(at(2026, 3, 2, 21, 0), BERLIN) == at(2026, 3, 3, 8, 0)
    assert night.until(at(2026, 3, 3, 7, 59), BERLIN) == at(2026, 3, 3, 8, 0)
    assert night.until(at(2026, 3, 3, 8, 0), BERLIN) is None
    # The night the clocks go forward is an hour shorter in UTC.
    spring = night.until(at(2026, 3, 28, 22, 0), BERLIN)
    assert spring == at(2026, 3, 29, 8, 0) and spring - at(2026, 3, 28, 22, 0) == timedelta(hours=9)
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch.until(at(2026, 3, 2, 12, 15), BERLIN) == at(2026, 3, 2, 13, 30)
    assert lunch.until(at(2026, 3, 2, 13, 30), BERLIN) is None
    for bad in ("21-8", "25:00-08:00", "08:00-08:00", "21:00"):
        with pytest.raises(UsageError, match="quiet_hours"):
            QuietHours.parse(bad)


def test_the_gateway_url_is_filled_in_and_checked(tmp_path, monkeypatch):
    secret = tmp_path / "sms-password"
    secret.write_text("p&ss w0rd\n")
    secret.chmod(0o600)
    monkeypatch.delenv("CC_TUI_SMS_PASSWORD", raising=False)
    settings = Settings(
        timezone="Europe/Berlin",
        sms=SmsSettings(
            url="http://gw:13013/cgi-bin/sendsms?username={user}&password={password}"
            "&from={from}&to={to}&text={text}",
            user="desk",
            password_file=secret,
            **{"from": "Desk"},
            quiet_hours="21:00-08:00",
        ),
    )
    target = sms_target(settings)
    assert target.zone == BERLIN and str(target.quiet) == "21:00-08:00"
    assert target.fill("+4917612345678", "INC-7: done & dusted") == (
        "http://gw:13013/cgi-bin/sendsms?username=desk&password=p%26ss%20w0rd&from=Desk"
        "&to=%2B4917612345678&text=INC-7%3A%20done%20%26%20dusted"
    )
    monkeypatch.setenv("CC_TUI_SMS_PASSWORD", "from-env")
    assert sms_target(settings).password == "from-env"
    msisdn = Settings(sms=SmsSettings(url="https://gw/api?dest={msisdn}&msg={text}"))
    assert (
        sms_target(msisdn).fill("+4917612345678", "x") == "https://gw/api?dest=4917612345678&msg=x"
    )
    for url, problem in (
        (None, "set \\[sms\\] url"),
        ("ftp://gw/{to}/{text}", "http"),
        ("http://gw/?to={to}&text={text}&key={api_key}", "unknown placeholder"),
        ("http://gw/?text={text}", "needs \\{to\\}"),
    ):
        with pytest.raises(UsageError, match=problem):
            sms_target(Settings(sms=SmsSettings(url=url)))
    with pytest.raises(UsageError, match="unknown zone"):
        sms_target(Settings(sms=SmsSettings(url=msisdn.sms.url, timezone="Mars/Base")))
    monkeypatch.delenv("CC_TUI_SMS_PASSWORD")
    secret.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        sms_target(settings)


def test_notify_commands_send_and_list_sms(db, admin, cli, kannel, clock, tmp_path, monkeypatch):
    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    _queue_sms(db, inc, "registered", ANNA)
    secret = tmp_path / "sms-password"
    secret.write_text(kannel.password)
    secret.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        f"[sms]\nurl = '{kannel.url}'\nuser = '{kannel.user}'\n"
        f'password_file = "{secret}"\nfrom = "{SENDER}"\nquiet_hours = "21:00-08:00"\n'
        'timezone = "Europe/Berlin"\n'
    )
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(config))
    monkeypatch.delenv("CC_TUI_SMS_PASSWORD", raising=False)
    # Neither [smtp] nor [sms]: nothing to send with.
    bare = tmp_path / "bare.toml"
    bare.write_text("")
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(bare))
    refused = cli("notify", "send")
    assert refused.exit_code == 2 and "[sms] url" in refused.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text('[sms]\nurl = "http://gw/?to={to}&text={text}"\nquiet_hours = "9-5"\n')
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(broken))
    refused = cli("notify", "watch")
    assert refused.exit_code == 2 and "quiet_hours" in refused.stderr
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(config))
    listed = cli("notify", "list")
    assert listed.exit_code == 0, listed.output
    assert "channel" in listed.stdout and " sms " in listed.stdout
    seen = kannel.seen()
    sent = cli("notify", "send", "--once", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "held": 0,
        "errors": [],
    }
    [sms] = kannel.wait_for(1, after=seen)
    assert (sms.to, sms.sender) == (ANNA, SENDER) and sms.text.startswith(f"{inc}: ")
    rows = json.loads(cli("notify", "list", "--incident", inc, "--json").stdout)
    assert {(r["channel"], r["recipient"], r["status"]) for r in rows} == {
        ("sms", ANNA, "sent"),
        # No [smtp] here: the e-mail waits.
        ("email", "anna@example.com", "queued"),
    }
    shown = cli("notify", "preview", "closed_sms", "--incident", inc, "--json")
    assert json.loads(shown.stdout) == {
        "subject": "",
        "body": f'{inc}: your request "Disk full" is closed. Your service desk',
    }
    shown = cli("notify", "preview", "closed_sms", "--incident", inc)
    assert shown.stdout == f'{inc}: your request "Disk full" is closed. Your service desk\n'
    # The gateway check: national numbers are read in the default country.
    tested = cli("notify", "test-sms", "0176 1234 5678", "--text", "Hallo", "--json")
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.stdout) == {"to": ANNA, "answer": "0: Accepted for delivery"}
    assert kannel.wait_for(1, after=seen + 1)[0].text == "Hallo"
    barred = cli("notify", "test-sms", f"+{BARRED}1234567")
    assert barred.exit_code == 1 and "denied" in barred.stderr
    # Held at night: the row waits, the command says so.
    _queue_sms(db, inc, "closed", ANNA)
    clock.now = datetime(2026, 3, 2, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    night = cli("notify", "send")
    assert night.exit_code == 0, night.output
    assert night.stdout.startswith("0 sent, 0 to retry, 0 failed, 1 held for quiet hours")
    # The list says when it goes (the display zone is UTC in the tests): 08:00 in Berlin.
    held = cli("notify", "list", "--status", "queued").stdout
    assert "closed" in held and "03-03 07:00" in held


# --- which customers get SMS, at which number ------------------------------------------


def _prefers_sms(db, customer_id, *, phone=None, language=None):
    from cc_tui.models import Customer
    from cc_tui.normalize import normalize_phone

    with db.session() as s:
        row = s.get(Customer, customer_id)
        row.notify = "sms"
        row.language = language
        row.phone = phone
        row.phone_e164 = normalize_phone(phone) if phone else None


def _mobile_contact(db, customer_id, mobile, **kw):
    from cc_tui.models import Contact
    from cc_tui.normalize import normalize_phone

    with db.session() as s:
        person = Contact(
            customer_id=customer_id,
            name="Anna Nowak",
            search_name="anna nowak",
            mobile=mobile,
            mobile_e164=normalize_phone(mobile),
            **kw,
        )
        s.add(person)
        s.flush()
        return person.id


def test_a_customer_who_prefers_sms_is_texted_at_each_step_not_mailed(
    db,
    admin,
    world,  # noqa: F811
    kannel,
    clock,
):
    from cc_tui.services.incidents.lifecycle import change_status
    from cc_tui.services.workorders.orders import transfer

    _prefers_sms(db, world["acme"], language="de")
    anna = _mobile_contact(db, world["acme"], "0176 1234 5678", email="anna@example.com")
    inc = action(db, admin, world["acme"], contact_id=anna)
    with db.session() as s:
        order = transfer(s, actor=admin, ref=inc).work_orders[0].number
    with db.session() as s:
        change_status(s, actor=admin, ref=inc, to="closed", coordinator=True)
    rows = _sms_rows(db, inc)
    assert [(r.reason, r.recipient, r.status) for r in rows] == [
        ("registered", ANNA, "queued"),
        ("handed_over", ANNA, "queued"),
        ("closed", ANNA, "queued"),
    ]
    assert rows[0].idempotency_key == f"{parse_ref(inc)}:registered:sms:{ANNA}"
    with db.session() as s:
        others = s.scalars(
            select(Notification).where(
                Notification.incident_id == parse_ref(inc), Notification.channel != "sms"
            )
        ).all()
    assert others == []
    seen = kannel.seen()
    result = _send(db, _target(kannel))
    # Due together: one SMS with the three texts, in the customer's language.
    assert (result.sent, result.messages) == (3, 1)
    [sms] = kannel.wait_for(1, after=seen)
    assert sms.to == ANNA
    assert sms.text.split("\n") == [
        f'{inc}: Wir haben Ihre Anfrage "Printer jams" aufgenommen. Ihr Service-Desk',
        f"{inc}: Ihre Anfrage wird bearbeitet ({order}). Ihr Service-Desk",
        f'{inc}: Ihre Anfrage "Printer jams" ist abgeschlossen. Ihr Service-Desk',
    ]


def test_queuing_counts_the_rows_it_added(db, admin, clock):
    _desk(db, admin)
    customer = _customer(db)
    _prefers_sms(db, customer, phone="0176 1234 5678")
    inc = f.register(db, admin, customer)
    with db.session() as s:
        incident = s.get(Incident, parse_ref(inc))
        assert outbox.queue(s, incident, outbox.CLOSED, detail="1") == 1
        # The same event again adds nothing.
        assert outbox.queue(s, incident, outbox.CLOSED, detail="1") == 0
        assert outbox.queue_many(s, [incident.id], outbox.CLOSED, detail="1") == 0
        assert outbox.queue_many(s, [incident.id], outbox.CLOSED, detail="2") == 1


def test_the_sms_goes_to_a_mobile_number_of_the_contact_caller_or_customer(db, admin, clock):
    _desk(db, admin)
    # Only a landline: no SMS (and no e-mail: the customer asked for SMS).
    landline = _customer(db, name="Landline")
    _prefers_sms(db, landline, phone="030 1234567")
    assert _sms_rows(db, f.register(db, admin, landline)) == []
    # The customer's own number is a mobile one.
    mobile = _customer(db, name="Mobile")
    _prefers_sms(db, mobile, phone="0151 1234 5678")
    assert [r.recipient for r in _sms_rows(db, f.register(db, admin, mobile))] == [BEN]
    # The caller's mobile comes before the customer's.
    called = f.register(db, admin, mobile, caller_phone="+49 176 12345678")
    assert [r.recipient for r in _sms_rows(db, called)] == [ANNA]
    # A contact who wants e-mail gets e-mail although the customer prefers SMS.
    mailer = _mobile_contact(db, mobile, "0176 1234 5678", email="eva@example.com", notify="email")
    mailed = f.register(db, admin, mobile, contact_id=mailer)
    assert _sms_rows(db, mailed) == []
    with db.session() as s:
        assert s.scalars(
            select(Notification.recipient).where(Notification.incident_id == parse_ref(mailed))
        ).all() == ["eva@example.com"]


def test_a_missing_kannel_fails_in_ci_and_skips_elsewhere(monkeypatch):
    import tests.kannel as kannel_module

    monkeypatch.setattr(kannel_module, "BEARERBOX", "/nonexistent/bearerbox")
    monkeypatch.setattr(kannel_module, "IN_CI", True)
    with (
        pytest.raises(pytest.fail.Exception, match="Kannel is not installed"),
        kannel_module.kannel_gateway(),
    ):
        pass
    monkeypatch.setattr(kannel_module, "IN_CI", False)
    with (
        pytest.raises(pytest.skip.Exception, match="apt-get install kannel kannel-extras"),
        kannel_module.kannel_gateway(),
    ):
        pass


@pytest.mark.commits
def test_two_senders_at_once_send_each_sms_once(db, admin, kannel, clock):
    """Two passes running together (SKIP LOCKED on PostgreSQL, one writer at a time on
    SQLite) never take the same row, and a number's rows stay in one pass."""
    import threading

    _desk(db, admin)
    inc = f.register(db, admin, _customer(db))
    numbers = [f"+49176{i:08d}" for i in range(40)]
    for number in numbers:
        _queue_sms(db, inc, "registered", number)
    # A second row for some numbers: each number still gets one SMS.
    for number in numbers[:10]:
        _queue_sms(db, inc, "closed", number)
    seen = kannel.seen()
    target = _target(kannel)
    results = []

    def one_sender() -> None:
        results.append(send_due_sms(db, HttpGateway(target), target, limit=15))

    threads = [threading.Thread(target=one_sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    while sum(r.messages for r in results) < len(numbers):
        # What the two passes left (each takes at most 15 rows and their numbers' others).
        results.append(_send(db, target))
        assert results[-1].taken, "rows left that no pass takes"
    got = kannel.wait_for(len(numbers), after=seen)
    assert sorted(s.to for s in got) == numbers
    texts = {s.to: s.text for s in got}
    assert all(texts[n].count(f"{inc}: ") == (2 if n in numbers[:10] else 1) for n in numbers)
    assert sum(r.sent for r in results) == 50
    assert {r.status for r in _sms_rows(db)} == {"sent"}
    assert kannel.seen() == seen + len(numbers)


def test_a_generic_gateway_that_drops_kept_alive_connections():
    """Another gateway (a plain HTTP server here): {msisdn} without +, a connection the
    gateway closed after its answer is opened again once, and no message goes twice."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    seen: list[dict[str, list[str]]] = []

    class Gateway(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            seen.append(parse_qs(urlsplit(self.path).query))
            answer = b"OK queued"
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            # Keep-alive promised, but the connection is closed after every answer.
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        target = SmsTarget(
            url=f"http://127.0.0.1:{port}/api/send?key={{password}}&dest={{msisdn}}&msg={{text}}",
            password="k3y",
        )
        gateway = HttpGateway(target)
        assert gateway.send(ANNA, "Hallo Anna & co") == "OK queued"
        assert gateway.send(BEN, "Zweite") == "OK queued"
        gateway.close()
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [
        {"key": ["k3y"], "dest": [ANNA[1:]], "msg": ["Hallo Anna & co"]},
        {"key": ["k3y"], "dest": [BEN[1:]], "msg": ["Zweite"]},
    ]
