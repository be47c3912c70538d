"""Mailboxes read over IMAP from a real Dovecot: by UID, flagged only after the commit,
nothing read twice, every mailbox tried, a lost connection or refused command reported by
mailbox, IDLE with reconnect and back-off."""

from __future__ import annotations

import imaplib
import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from cc_tui.errors import NotFound, RuleViolation, Unavailable, UsageError
from cc_tui.models import Incident, MailCursor, MailMessage
from cc_tui.services.mail import fetch as fetch_module
from cc_tui.services.mail.fetch import (
    ConnectionLost,
    FetchIncomplete,
    FetchResult,
    MailServerUnavailable,
    fetch,
    watch,
)
from cc_tui.services.mail.intake import MailDefaults, receive
from cc_tui.services.mail.mailboxes import ImapUrl, add_mailbox, list_mailboxes, parse_url
from tests import factories as f
from tests.dovecot import Relay, dovecot_server, free_port

CORPUS = Path(__file__).parent / "mail_corpus"


def mailbox(db, admin, **options):
    """A mailbox added by the admin, in a transaction of its own."""
    with db.session() as s:
        return add_mailbox(s, actor=admin, **options)


@pytest.fixture
def imap_server():
    with dovecot_server() as server:
        yield server


@pytest.fixture
def desk(db, admin, imap_server, tmp_path):
    secret = tmp_path / "desk.password"
    secret.write_text(imap_server.password + "\n")
    secret.chmod(0o600)
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
        acme = f.customer(s, "Acme AG")
        f.contact(s, acme, "Anna Nowak", email="anna@acme.example")
        add_mailbox(
            s,
            actor=admin,
            name="desk",
            url=imap_server.url(),
            department="FIELD",
            reason="HW/PRINT",
            password_file=str(secret),
        )
    return secret


def test_fetch_files_by_uid_and_flags_only_after_the_commit(db, admin, imap_server, desk):
    for name in ("01-plain-new.eml", "02-reply-in-reply-to.eml", "14-broken.eml"):
        imap_server.append((CORPUS / name).read_bytes())
    assert len(imap_server.unseen()) == 3
    told: list[tuple[str, int, int]] = []
    result = fetch(db, actor=admin, progress=lambda *step: told.append(step))
    assert result == FetchResult(fetched=3, incidents=1, events=1, ignored=0, quarantined=1)
    assert told == [("desk", 0, 3), ("desk", 1, 3), ("desk", 2, 3), ("desk", 3, 3)]
    assert imap_server.unseen() == []
    with db.session() as s:
        rows = s.exec(select(MailMessage).order_by(MailMessage.id)).all()
        assert [r.uid for r in rows] == [1, 2, 3]
        assert len({r.uidvalidity for r in rows}) == 1 and rows[0].uidvalidity
        assert rows[0].raw == (CORPUS / "01-plain-new.eml").read_bytes()
        incident = s.get_one(Incident, rows[0].incident_id)
        assert incident.department_id is not None
    # Nothing new: nothing read.
    assert fetch(db, actor=admin, mailbox="desk").fetched == 0
    imap_server.append((CORPUS / "06-rfc2231-name.eml").read_bytes())
    assert fetch(db, actor=admin).incidents == 1


def test_a_failed_filing_leaves_the_message_new_on_the_server(
    db, admin, imap_server, desk, monkeypatch
):
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(fetch_module, "receive", broken)
    with pytest.raises(RuntimeError):
        fetch(db, actor=admin)
    assert imap_server.unseen() == [1]
    monkeypatch.undo()
    assert fetch(db, actor=admin).incidents == 1
    assert imap_server.unseen() == []


@pytest.mark.commits
# On SQLite writers queue on one lock from their first statement: no such interleaving.
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_message_another_fetcher_stores_meanwhile_counts_as_read_before(
    db, admin, imap_server, desk, monkeypatch
):
    """Two fetchers on one mailbox: the other stores the message between this one's
    "read before?" look-up and its insert. The insert is refused by the unique key; read
    again, the message is ignored as read before, and the pass goes on."""
    from cc_tui.services.mail import intake
    from cc_tui.services.mail.mailboxes import defaults_of

    raw = (CORPUS / "01-plain-new.eml").read_bytes()
    imap_server.append(raw)
    imap_server.append((CORPUS / "06-rfc2231-name.eml").read_bytes())
    describe = intake._describe
    raced: list[str] = []

    def the_other_fetcher_first(stored, parsed):
        if not raced:
            raced.append(parsed.message_id)
            with db.session() as other:
                defaults = defaults_of(other, "desk")
                intake.receive(other, actor=admin, raw=raw, defaults=defaults)
        describe(stored, parsed)

    monkeypatch.setattr(intake, "_describe", the_other_fetcher_first)
    result = fetch(db, actor=admin)
    assert raced and result == FetchResult(
        fetched=2, incidents=1, events=0, ignored=1, quarantined=0
    )
    assert imap_server.unseen() == []
    with db.session() as s:
        assert len(s.exec(select(MailMessage)).all()) == 2
        assert len(s.exec(select(Incident).where(Incident.channel == "email")).all()) == 2


def test_a_message_refused_twice_stops_the_pass_and_stays_new(
    db, admin, imap_server, desk, monkeypatch
):
    """Refused by a unique key twice is no race with another fetcher: the message is not
    taken for filed. The pass names it and stops before it; the next one files it."""
    from cc_tui.errors import DuplicateRow
    from cc_tui.services.mail.fetch import FetchIncomplete

    for name in ("01-plain-new.eml", "06-rfc2231-name.eml"):
        imap_server.append((CORPUS / name).read_bytes())
    real = fetch_module.receive

    def refused(session, **kw):
        if kw["uid"] == 2:
            raise DuplicateRow("refused by the database: duplicate key")
        return real(session, **kw)

    monkeypatch.setattr(fetch_module, "receive", refused)
    with pytest.raises(FetchIncomplete, match="mailbox desk: message UID 2 was refused twice"):
        fetch(db, actor=admin)
    assert imap_server.unseen() == [2]
    monkeypatch.undo()
    assert fetch(db, actor=admin).incidents == 1
    assert imap_server.unseen() == []


def test_watch_outlives_a_database_that_is_away_for_a_while(
    db, admin, imap_server, desk, monkeypatch
):
    from cc_tui.errors import Unavailable

    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    real, calls = fetch_module.fetch_new, []

    def away_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Unavailable("database cc-tui cannot be reached: connection refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(fetch_module, "fetch_new", away_once)
    seen: list[FetchResult] = []
    said: list[str] = []
    waits: list[float] = []
    watch(
        db,
        actor=admin,
        mailbox="desk",
        on_result=seen.append,
        on_status=said.append,
        idle_seconds=0.2,
        rounds=2,
        sleep=waits.append,
    )
    assert waits == [1.0] and [r.incidents for r in seen] == [1]
    assert said[0] == (
        "mailbox desk: database cc-tui cannot be reached: connection refused; trying again in 1 s"
    )


def test_the_server_hears_of_a_group_only_after_its_filing_is_durable(
    db, admin, imap_server, desk, monkeypatch
):
    """Messages are committed without waiting for the disk (PostgreSQL); one durable
    commit for the group comes before the server is told, and if it fails the server is
    not told."""
    for name in ("01-plain-new.eml", "02-reply-in-reply-to.eml"):
        imap_server.append((CORPUS / name).read_bytes())
    durable = fetch_module._durable
    calls: list[tuple[int, list[int]]] = []

    def watched(database, box, validity, uid):
        calls.append((uid, imap_server.unseen()))
        durable(database, box, validity, uid)

    monkeypatch.setattr(fetch_module, "_durable", watched)
    assert fetch(db, actor=admin).fetched == 2
    # The durable commit is the one that moves the mailbox's cursor past the group.
    assert calls == [(2, [1, 2])]
    assert imap_server.unseen() == []
    with db.session() as s:
        (cursor,) = s.exec(select(MailCursor)).all()
        assert cursor.last_uid == 2

    def failing(database, box, validity, uid):
        raise Unavailable("the disk is full")

    imap_server.append((CORPUS / "06-rfc2231-name.eml").read_bytes())
    monkeypatch.setattr(fetch_module, "_durable", failing)
    with pytest.raises(Unavailable):
        fetch(db, actor=admin)
    assert imap_server.unseen() == [3]
    # The message was filed; the next pass reads nothing new and tells the server of it.
    monkeypatch.setattr(fetch_module, "_durable", durable)
    assert fetch(db, actor=admin).fetched == 0
    assert imap_server.unseen() == []


def test_the_same_folder_read_again_is_not_filed_twice(db, admin, imap_server, desk):
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    imap_server.append((CORPUS / "04-bogus-charset.eml").read_bytes())
    assert fetch(db, actor=admin).incidents == 2
    # A second mailbox on the same folder (as after a UIDVALIDITY change) reads every UID
    # again; hash and Message-ID keep the messages from being filed twice.
    with db.session() as s:
        add_mailbox(s, actor=admin, name="again", url=imap_server.url(), password_file=str(desk))
    again = fetch(db, actor=admin, mailbox="again")
    assert again == FetchResult(fetched=2, ignored=2)
    # Ignored, they are read once: the next pass asks for nothing (the mailbox's cursor).
    assert fetch(db, actor=admin, mailbox="again").fetched == 0


def test_a_message_ignored_as_read_before_is_read_once_and_told_to_the_server(
    db, admin, imap_server, desk
):
    """Ignored messages store no row of their own under the mailbox and UID: the mailbox's
    cursor keeps them from being downloaded on every pass, also after the folder is made
    again (a new UIDVALIDITY, the UIDs from 1 again)."""
    raw = (CORPUS / "01-plain-new.eml").read_bytes()
    with db.session() as s:
        receive(s, actor=admin, raw=raw, defaults=MailDefaults(reason="HW/PRINT"))
    with imap_server.imap() as client:
        assert client.create("Support")[0] == "OK"
    mailbox(
        db,
        admin,
        name="support",
        url=imap_server.url("Support"),
        reason="HW/PRINT",
        password_file=str(desk),
    )
    imap_server.append(raw, "Support")
    assert fetch(db, actor=admin, mailbox="support") == FetchResult(fetched=1, ignored=1)
    assert imap_server.unseen("Support") == []  # told like a filed one
    assert fetch(db, actor=admin, mailbox="support").fetched == 0
    assert fetch(db, actor=admin, mailbox="support").fetched == 0
    # The folder made again: a new UIDVALIDITY, every message read once more, then never.
    with imap_server.imap() as client:
        assert client.delete("Support")[0] == "OK"
        assert client.create("Support")[0] == "OK"
    imap_server.append(raw, "Support")
    imap_server.append((CORPUS / "04-bogus-charset.eml").read_bytes(), "Support")
    assert fetch(db, actor=admin, mailbox="support") == FetchResult(
        fetched=2, incidents=1, ignored=1
    )
    assert fetch(db, actor=admin, mailbox="support").fetched == 0
    assert imap_server.unseen("Support") == []


def test_a_mailbox_that_cannot_be_read_does_not_stop_the_others(db, admin, imap_server, desk):
    with db.session() as s:
        add_mailbox(
            s,
            actor=admin,
            name="broken",  # read before desk (by name)
            url=f"imap://u@127.0.0.1:{free_port()}/INBOX",  # nothing listens there
            password_file=str(desk),
        )
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    with pytest.raises(FetchIncomplete) as caught:
        fetch(db, actor=admin)
    (failure,) = caught.value.failures
    assert failure.message.startswith("mailbox broken: cannot reach 127.0.0.1:")
    assert isinstance(failure, MailServerUnavailable)
    assert caught.value.exit_code == failure.exit_code == 5
    assert caught.value.result == FetchResult(fetched=1, incidents=1)
    assert imap_server.unseen() == []


def test_a_connection_lost_mid_fetch_is_named_and_the_next_pass_goes_on(
    db, admin, imap_server, desk, monkeypatch
):
    relay = Relay(imap_server.host, imap_server.port)
    try:
        mailbox(
            db,
            admin,
            name="relayed",
            url=relay.url(imap_server),
            reason="HW/PRINT",
            password_file=str(desk),
        )
        names = ["01-plain-new.eml", "04-bogus-charset.eml", "06-rfc2231-name.eml"]
        names += ["11-auto-reply-list.eml", "14-broken.eml"]
        for name in names:
            imap_server.append((CORPUS / name).read_bytes())
        monkeypatch.setattr(fetch_module, "FETCH_COUNT", 2)

        def cut_at_third(_box: str, done: int, _total: int) -> None:
            if done == 3:
                relay.cut()  # while the second group is being filed

        with pytest.raises(FetchIncomplete) as caught:
            fetch(db, actor=admin, mailbox="relayed", progress=cut_at_third)
        (failure,) = caught.value.failures
        assert isinstance(failure, ConnectionLost) and caught.value.exit_code == 5
        assert failure.message.startswith(
            f"mailbox relayed: the connection to 127.0.0.1:{relay.port} was lost "
            "after 4 of 5 message(s) ("
        )
        assert failure.message.endswith("; the next pass goes on from there")
        assert caught.value.result.fetched == 4
        # The first group was told; the second is filed but not told; the fifth is new.
        assert imap_server.unseen() == [3, 4, 5]
        again = fetch(db, actor=admin, mailbox="relayed")
        assert again.fetched == 1
        assert imap_server.unseen() == []
        with db.session() as s:
            assert len(s.exec(select(MailMessage)).all()) == 5
    finally:
        relay.close()


def test_a_missing_done_folder_is_named_before_anything_is_filed(db, admin, imap_server, desk):
    mailbox(
        db,
        admin,
        name="moving",
        url=imap_server.url(),
        reason="HW/PRINT",
        password_file=str(desk),
        done_folder="Filed",
    )
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    for _ in range(2):
        with pytest.raises(FetchIncomplete) as caught:
            fetch(db, actor=admin, mailbox="moving")
        (failure,) = caught.value.failures
        assert isinstance(failure, NotFound) and caught.value.exit_code == 3
        assert failure.message == (
            f"mailbox moving: its done folder 'Filed' does not exist on 127.0.0.1:"
            f"{imap_server.port} (create it there); nothing was read"
        )
    with db.session() as s:
        assert s.exec(select(MailMessage)).all() == []
    assert imap_server.unseen() == [1]

    # The folder exists at the start, and is gone when the filed message is moved: the
    # refused move is named; the message is filed and moved by the next pass.
    with imap_server.imap() as client:
        assert client.create("Filed")[0] == "OK"

    def delete_folder(_box: str, done: int, _total: int) -> None:
        if done == 1:
            with imap_server.imap() as client:
                assert client.delete("Filed")[0] == "OK"

    with pytest.raises(FetchIncomplete) as caught:
        fetch(db, actor=admin, mailbox="moving", progress=delete_folder)
    (failure,) = caught.value.failures
    assert isinstance(failure, RuleViolation) and caught.value.exit_code == 1
    assert re.fullmatch(
        r"mailbox moving: 127\.0\.0\.1:\d+ refused to move 1 filed message\(s\) to Filed: "
        r".*Filed.*; they are filed, and the next pass tells the server again",
        failure.message,
    ), failure.message
    assert caught.value.result.incidents == 1
    with imap_server.imap() as client:
        assert client.create("Filed")[0] == "OK"
    assert fetch(db, actor=admin, mailbox="moving").fetched == 0
    with imap_server.imap() as client:
        assert client.select("INBOX")[1] == [b"0"]
        assert client.select("Filed")[1] == [b"1"]


def test_moves_filed_mail_to_the_done_folder(db, admin, imap_server, desk):
    with imap_server.imap() as client:
        assert client.create("Filed")[0] == "OK"
    mailbox(
        db,
        admin,
        name="moving",
        url=imap_server.url(),
        reason="HW/PRINT",
        password_file=str(desk),
        done_folder="Filed",
    )
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    assert fetch(db, actor=admin, mailbox="moving").incidents == 1
    with imap_server.imap() as client:
        assert client.select("INBOX")[1] == [b"0"]
        assert client.select("Filed")[1] == [b"1"]


def test_passwords_never_in_the_database_and_only_from_a_private_file(
    db, admin, imap_server, desk, tmp_path, monkeypatch
):
    open_file = tmp_path / "open.password"
    open_file.write_text(imap_server.password)
    open_file.chmod(0o644)
    with db.session() as s:
        with pytest.raises(RuleViolation, match="chmod 600"):
            add_mailbox(
                s, actor=admin, name="x", url=imap_server.url(), password_file=str(open_file)
            )
        with pytest.raises(UsageError, match="no password in the URL"):
            add_mailbox(s, actor=admin, name="x", url="imaps://u:pw@host/INBOX")
        add_mailbox(s, actor=admin, name="by-env", url=imap_server.url(), reason="HW/PRINT")
        stored = " ".join(str(v) for b in list_mailboxes(s) for v in b.__dict__.values())
        assert imap_server.password not in stored
    with pytest.raises(FetchIncomplete, match="CC_TUI_MAIL_PASSWORD_BY_ENV") as missing:
        fetch(db, actor=admin, mailbox="by-env")
    assert isinstance(missing.value.failures[0], UsageError)
    monkeypatch.setenv("CC_TUI_MAIL_PASSWORD_BY_ENV", "wrong")
    with pytest.raises(FetchIncomplete, match="refused the login") as refused:
        fetch(db, actor=admin, mailbox="by-env")
    assert isinstance(refused.value.failures[0], RuleViolation)
    monkeypatch.setenv("CC_TUI_MAIL_PASSWORD_BY_ENV", imap_server.password)
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    assert fetch(db, actor=admin, mailbox="by-env").incidents == 1
    with pytest.raises(NotFound):
        fetch(db, actor=admin, mailbox="nope")


@pytest.fixture
def tls_server():
    with dovecot_server(tls=True) as server:
        yield server


def test_tls_checks_the_certificate_before_the_password_goes_out(
    cli, db, admin, tls_server, tmp_path, monkeypatch
):
    """imaps:// and STARTTLS: a certificate nobody trusts is refused before LOGIN, exit 5;
    one the administrator trusts the OpenSSL way (SSL_CERT_FILE) is read."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    secret = tmp_path / "pw"
    secret.write_text(tls_server.password)
    secret.chmod(0o600)
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
        for name, url in [
            ("imaps", tls_server.url(secure=True)),
            ("starttls", tls_server.url()),
            ("gone", f"imap://u@127.0.0.1:{free_port()}/INBOX"),  # nothing listens there
        ]:
            add_mailbox(
                s, actor=admin, name=name, url=url, reason="HW/PRINT", password_file=str(secret)
            )
    sent: list[bytes] = []  # every command the client sends
    send = imaplib.IMAP4.send
    monkeypatch.setattr(
        imaplib.IMAP4, "send", lambda client, data: sent.append(data) or send(client, data)
    )

    def logins() -> int:
        return sum(b" LOGIN " in line or b" AUTHENTICATE " in line for line in sent)

    for name in ("imaps", "starttls"):
        untrusted = (
            rf"mailbox {name}: the certificate of 127\.0\.0\.1 could not be verified: self.signed"
        )
        with pytest.raises(FetchIncomplete, match=untrusted) as caught:
            fetch(db, actor=admin, mailbox=name)
        assert isinstance(caught.value.failures[0], MailServerUnavailable)
        refused = cli("mail", "fetch", "--mailbox", name, "--json")
        assert refused.exit_code == 5, refused.output
        assert "could not be verified" in refused.stderr
        assert json.loads(refused.stdout)["fetched"] == 0
    assert logins() == 0
    assert "Login:" not in (tls_server.root / "dovecot.log").read_text()
    gone = cli("mail", "fetch", "--mailbox", "gone")
    assert gone.exit_code == 5 and "mailbox gone: cannot reach 127.0.0.1:" in gone.stderr

    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.certificate))
    tls_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    assert fetch(db, actor=admin, mailbox="imaps").incidents == 1
    assert fetch(db, actor=admin, mailbox="starttls").fetched == 1
    assert logins() == 3  # the append's and the two mailboxes'


def test_plain_imap_off_loopback_is_refused_naming_the_mailbox(
    db, admin, imap_server, desk, monkeypatch
):
    monkeypatch.setattr(ImapUrl, "loopback", property(lambda url: False))
    with pytest.raises(
        FetchIncomplete, match=r"^mailbox desk: 127\.0\.0\.1 offers no STARTTLS"
    ) as caught:
        fetch(db, actor=admin, mailbox="desk")
    assert isinstance(caught.value.failures[0], RuleViolation)


def test_url_forms():
    url = parse_url("imaps://desk%40example.com@mail.example.com/Support%20In")
    assert (url.secure, url.user, url.host, url.port, url.folder) == (
        True,
        "desk@example.com",
        "mail.example.com",
        993,
        "Support In",
    )
    assert parse_url("imap://u@127.0.0.1").port == 143 and parse_url("imap://u@[::1]").loopback
    assert not parse_url("imap://u@mail.example.com").loopback
    for bad in ("http://u@h/INBOX", "imaps://host/INBOX", "imaps://u@:993/"):
        with pytest.raises(UsageError):
            parse_url(bad)
    assert parse_url("imaps://a%5Bb%5D@host/INBOX").user == "a[b]"
    for bracket in ("imaps://a[b@host/INBOX", "imaps://a]b@host:993/INBOX"):
        with pytest.raises(UsageError, match=r"user name in the URL holds \[ or \]: .*%5B"):
            parse_url(bracket)


def test_watch_waits_in_idle_and_reconnects_with_back_off(db, admin, imap_server, desk):
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    seen: list[FetchResult] = []
    watch(db, actor=admin, mailbox="desk", on_result=seen.append, idle_seconds=0.2, rounds=2)
    assert [r.incidents for r in seen] == [1, 0]
    # A server that is gone: each attempt waits twice as long as the one before.
    with db.session() as s:
        add_mailbox(
            s,
            actor=admin,
            name="gone",
            url=f"imap://u@127.0.0.1:{free_port()}/INBOX",  # nothing listens there
            password_file=str(desk),
        )
    waits: list[float] = []
    said: list[str] = []
    watch(
        db,
        actor=admin,
        mailbox="gone",
        on_result=seen.append,
        on_status=said.append,
        rounds=4,
        sleep=waits.append,
    )
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert len(said) == 4
    for line, delay in zip(said, ("1", "2", "4", "8"), strict=True):
        assert line.startswith("mailbox gone: cannot reach 127.0.0.1:")
        assert line.endswith(f"; trying again in {delay} s")


def test_watch_says_when_the_connection_is_lost_and_when_it_is_back(db, admin, imap_server, desk):
    relay = Relay(imap_server.host, imap_server.port)
    try:
        mailbox(
            db,
            admin,
            name="relayed",
            url=relay.url(imap_server),
            reason="HW/PRINT",
            password_file=str(desk),
        )
        imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
        seen: list[FetchResult] = []
        said: list[str] = []
        waits: list[float] = []

        def cut_after_the_first(result: FetchResult) -> None:
            seen.append(result)
            if len(seen) == 1:
                relay.cut()

        watch(
            db,
            actor=admin,
            mailbox="relayed",
            on_result=cut_after_the_first,
            on_status=said.append,
            idle_seconds=0.2,
            rounds=2,
            sleep=waits.append,
        )
        assert [r.incidents for r in seen] == [1, 0]
        assert waits == [1.0]
        server = f"127.0.0.1:{relay.port}"
        assert len(said) == 2, said
        assert said[0].startswith(f"mailbox relayed: the connection to {server} was lost (")
        assert said[0].endswith("; trying again in 1 s")
        assert said[1] == f"mailbox relayed: connected to {server} again"
    finally:
        relay.close()


def test_mailbox_and_fetch_commands(cli, db, admin, imap_server, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(imap_server.password)
    secret.chmod(0o600)
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
        f.agent(s, "bob")
    added = cli(
        "mailbox", "add", "desk", "--url", imap_server.url(), "--type", "action",
        "--department", "FIELD", "--reason", "HW/PRINT", "--password-file", str(secret), "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    box = json.loads(added.stdout)
    assert box["name"] == "desk" and box["department"] == "FIELD" and "password" not in box
    assert box["password_file"] == str(secret.resolve())
    imap_server.append((CORPUS / "01-plain-new.eml").read_bytes())
    imap_server.append((CORPUS / "11-auto-reply-list.eml").read_bytes())
    fetched = cli("mail", "fetch", "--mailbox", "desk", "--json")
    assert fetched.exit_code == 0, fetched.output
    assert json.loads(fetched.stdout) == {
        "fetched": 2,
        "incidents": 1,
        "events": 0,
        "ignored": 1,
        "quarantined": 0,
    }
    # No progress bar in --json (nor when stderr is no terminal).
    assert "━" not in fetched.stderr and "2/2" not in fetched.stderr
    # A mailbox that cannot be read is named; the others are read and their totals printed.
    added = cli(
        "mailbox", "add", "broken", "--url", f"imap://u@127.0.0.1:{free_port()}/INBOX",
        "--password-file", str(secret), "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    imap_server.append((CORPUS / "06-rfc2231-name.eml").read_bytes())
    partly = cli("mail", "fetch", "--json")
    assert partly.exit_code == 5, partly.output
    assert json.loads(partly.stdout) == {
        "fetched": 1,
        "incidents": 1,
        "events": 0,
        "ignored": 0,
        "quarantined": 0,
    }
    assert partly.stderr.startswith("cc-tui: mailbox broken: cannot reach 127.0.0.1:")
    assert "Traceback" not in partly.output
    listed = json.loads(cli("mailbox", "list", "--json").stdout)
    assert [b["name"] for b in listed] == ["broken", "desk"]
    refused = cli("mailbox", "add", "x", "--url", imap_server.url(), login="bob")
    assert refused.exit_code != 0 and "only an admin" in refused.output


def test_the_fetch_progress_bar_counts_each_mailbox():
    from io import StringIO

    from rich.console import Console

    from cc_tui.cli.commands.mail import progress_bar

    out = StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with progress_bar(enabled=True, console=console) as advance:
        assert advance is not None
        for done in range(4):
            advance("desk", done, 3)
        advance("sales", 0, 2)
        advance("sales", 2, 2)
    shown = out.getvalue()
    assert "desk" in shown and "3/3" in shown and "sales" in shown and "2/2" in shown
    with progress_bar(enabled=False) as nothing:
        assert nothing is None


@pytest.mark.parametrize("dialect", ["sqlite", "pg"])
def test_migration_0024_adds_the_cursor_and_takes_it_back(dialect, tmp_sqlite_url, request):
    from alembic import command
    from sqlalchemy import inspect, text

    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import _config
    from tests.conftest import _create_pg_database, _drop_pg_database

    admin_url = request.getfixturevalue("pg_admin_url") if dialect == "pg" else None
    url = _create_pg_database(admin_url) if admin_url else tmp_sqlite_url
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            command.upgrade(_config(conn), "0023")
            conn.execute(
                text(
                    "INSERT INTO mailbox (name, url, request_type, active, created_at) "
                    "VALUES ('desk', 'imap://u@127.0.0.1/INBOX', 'action', true, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            command.upgrade(_config(conn), "0024")
            assert {c["name"] for c in inspect(conn).get_columns("mail_cursor")} == {
                "mailbox_id",
                "uidvalidity",
                "last_uid",
            }
            conn.execute(
                text(
                    "INSERT INTO mail_cursor (mailbox_id, uidvalidity, last_uid) "
                    "SELECT id, 7, 42 FROM mailbox"
                )
            )
            command.downgrade(_config(conn), "0023")
            assert not inspect(conn).has_table("mail_cursor")
            assert conn.execute(text("SELECT name FROM mailbox")).scalars().all() == ["desk"]
            command.upgrade(_config(conn), "head")
            assert inspect(conn).has_table("mail_cursor")
    finally:
        database.dispose()
        if admin_url:
            _drop_pg_database(admin_url, url)
