"""E-mail intake: the corpus in mail_corpus/ filed through the pipeline on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from cc_tui.errors import NotFound
from cc_tui.models import Event, EventType, Incident, MailAttachment, MailMessage
from cc_tui.models.enums import Status
from cc_tui.services.incidents.lifecycle import move
from cc_tui.services.mail.classify import bare_subject, subject_number
from cc_tui.services.mail.intake import (
    MailDefaults,
    attachment_content,
    attachments,
    message_files,
    quarantine_list,
    quarantine_show,
    receive,
    retry,
)
from cc_tui.services.mail.parse import decode_bytes, parse, safe_filename
from cc_tui.services.mail.quotes import strip_quoted
from tests import factories as f

CORPUS = Path(__file__).parent / "mail_corpus"
DEFAULTS = MailDefaults(reason="HW/PRINT", own_addresses=frozenset({"desk@cc-tui.example"}))


def corpus(name: str, number: str | None = None) -> bytes:
    raw = (CORPUS / name).read_bytes()
    return raw.replace(b"INC-{n}", number.encode()) if number else raw


@pytest.fixture
def world(db, admin):
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
        acme = f.customer(s, "Acme AG", email="office@acme.example")
        f.contact(s, acme, "Anna Nowak", email="anna@acme.example")
        return {"acme": acme.id}


def file(db, admin, raw: bytes, defaults: MailDefaults = DEFAULTS, source: str = "test"):
    with db.session() as s:
        return receive(s, actor=admin, raw=raw, defaults=defaults, source=source)


def mail_events(db, number: str) -> list[Event]:
    with db.session() as s:
        return list(
            s.exec(
                select(Event)
                .join(EventType, EventType.id == Event.event_type_id)
                .where(Event.incident_id == int(number.split("-")[1]), EventType.code == "EmailIn")
                .order_by(Event.id)
            ).all()
        )


def test_new_message_opens_an_incident_for_the_known_sender(db, admin, world):
    out = file(db, admin, corpus("01-plain-new.eml"))
    assert out.outcome == "incident" and out.reason is None
    with db.session() as s:
        incident = s.get_one(Incident, int(out.incident.split("-")[1]))
        assert incident.channel == "email"
        assert incident.customer_id == world["acme"]
        assert incident.contact_id is not None
        assert incident.title == "Printer in room 4 jams"
        assert incident.status == "registered"
        row = s.exec(select(MailMessage)).one()
        assert row.raw == corpus("01-plain-new.eml") and row.status == "processed"
        assert row.incident_id == incident.id and row.event_id is not None
    (event,) = mail_events(db, out.incident)
    assert event.text == "The printer in room 4 jams on every second page. Grüße, Anna"
    assert event.data["from"] == "anna@acme.example"
    assert event.data["subject"] == "Printer in room 4 jams"
    assert event.data["known_sender"] is True


def test_replies_join_their_incident_by_header_and_by_subject_number(db, admin, world):
    first = file(db, admin, corpus("01-plain-new.eml"))
    reply = file(db, admin, corpus("02-reply-in-reply-to.eml"))
    assert (reply.outcome, reply.incident) == ("event", first.incident)
    outlook = file(db, admin, corpus("03-outlook-reply-subject.eml", first.incident))
    assert (outlook.outcome, outlook.incident) == ("event", first.incident)
    events = mail_events(db, first.incident)
    # The quoted history is cut for the timeline; the full text stays on the message.
    assert events[1].text == "It still jams after the restart."
    assert events[1].data["quoted"] is True
    assert events[2].text == "Der Techniker war da, danke schön."
    with db.session() as s:
        row = s.exec(
            select(MailMessage).where(MailMessage.message_id == "<reply-1@acme.example>")
        ).one()
        assert "> The printer in room 4 jams" in (row.body_text or "")


def test_reply_to_a_closed_incident_opens_a_follow_up(db, admin, world):
    first = file(db, admin, corpus("01-plain-new.eml"))
    with db.session() as s:
        incident = s.get_one(Incident, int(first.incident.split("-")[1]))
        move(s, incident, Status.CLOSED, actor=admin, system=True)
    out = file(db, admin, corpus("02-reply-in-reply-to.eml"))
    assert out.outcome == "incident" and out.incident != first.incident
    (event,) = mail_events(db, out.incident)
    assert event.data["follow_up_of"] == first.incident


def test_bounce_becomes_an_event_on_the_incident_whose_mail_bounced(db, admin, world):
    first = file(db, admin, corpus("01-plain-new.eml"))
    # No bounce for mail we never sent.
    lost = file(db, admin, corpus("09-dsn.eml"))
    assert lost.outcome == "ignored" and "bounce" in (lost.reason or "")
    with db.session() as s:
        s.exec(select(MailMessage)).all()
        s.add(
            MailMessage(
                mailbox="sent",
                message_id="<out-1@cc-tui.example>",
                from_addr="desk@cc-tui.example",
                received_at=f.utc(2026, 12, 5, 10),
                direction="out",
                incident_id=int(first.incident.split("-")[1]),
            )
        )
    # The same bounce again is ignored by its hash; a copy with another Message-ID threads.
    again = file(db, admin, corpus("09-dsn.eml"))
    assert again.outcome == "ignored" and "SHA-256" in (again.reason or "")
    raw = corpus("09-dsn.eml").replace(b"<dsn-1@", b"<dsn-2@")
    out = file(db, admin, raw)
    assert (out.outcome, out.incident) == ("event", first.incident)
    event = mail_events(db, first.incident)[-1]
    assert event.data["kind"] == "bounce"
    assert event.text.startswith("bounce: ")


def test_a_bounce_of_mail_we_did_not_keep_threads_by_the_returned_subject(db, admin, world):
    """A delivery report for a message whose Message-ID we never stored (sent by another
    program, or before sent mail was kept) still finds its incident by the `[INC-n]` in the
    returned headers' subject; the report's own subject names none."""
    first = file(db, admin, corpus("01-plain-new.eml"))
    raw = corpus("09-dsn.eml", first.incident).replace(b"<out-1@", b"<elsewhere-1@")
    out = file(db, admin, raw)
    assert (out.outcome, out.incident) == ("event", first.incident)
    assert mail_events(db, first.incident)[-1].data["kind"] == "bounce"
    # Encoded the way mail programs write it (RFC 2047) it is found too.
    encoded = raw.replace(b"<dsn-1@", b"<dsn-3@").replace(
        f"Subject: [{first.incident}] Printer in room 4 jams".encode(),
        b"Subject: =?utf-8?q?=5B" + first.incident.encode() + b"=5D_Drucker_st=C3=B6rt?=",
    )
    assert encoded != raw
    assert (file(db, admin, encoded).incident) == first.incident


def test_auto_replies_thread_or_are_ignored_and_our_own_mail_is_ignored(db, admin, world):
    first = file(db, admin, corpus("01-plain-new.eml"))
    ooo = file(db, admin, corpus("10-auto-reply-threads.eml", first.incident))
    assert (ooo.outcome, ooo.incident) == ("event", first.incident)
    assert mail_events(db, first.incident)[-1].data["kind"] == "auto-reply"
    bulk = file(db, admin, corpus("11-auto-reply-list.eml"))
    assert bulk.outcome == "ignored" and bulk.incident is None
    loop = file(db, admin, corpus("12-own-loop.eml", first.incident))
    assert loop.outcome == "ignored" and "own" in (loop.reason or "")
    assert len(mail_events(db, first.incident)) == 2


def test_unknown_senders_charsets_html_and_missing_headers(db, admin, world):
    bogus = file(db, admin, corpus("04-bogus-charset.eml"))
    assert bogus.outcome == "incident" and bogus.reason == "unknown sender info@unknown.example"
    (event,) = mail_events(db, bogus.incident)
    assert event.text == "The café machine says € 12 and stops."
    assert event.data["subject"] == "Café machine broken"
    assert event.data["known_sender"] is False
    html = file(db, admin, corpus("05-html-only-meta.eml"))
    (event,) = mail_events(db, html.incident)
    assert event.text == "Straße 5: the door is stuck.\n\nSecond line"
    bare = file(db, admin, corpus("13-missing-headers.eml"))
    assert bare.outcome == "incident"
    (event,) = mail_events(db, bare.incident)
    assert event.text == "No subject, no Message-ID, no date."


def test_hostile_text_loses_its_control_characters(db, admin, world):
    out = file(db, admin, corpus("15-hostile.eml"))
    (event,) = mail_events(db, out.incident)
    for value in (event.text, event.data["subject"], event.data["name"]):
        assert not any(ord(c) < 32 and c != "\n" for c in value), value
        assert "\u202e" not in value and "\x07" not in value


def test_attachments_are_kept_byte_for_byte_with_safe_names_and_stored_once(db, admin, world):
    out = file(db, admin, corpus("06-rfc2231-name.eml"))
    uu = file(db, admin, corpus("07-uuencode.eml"))
    fwd = file(db, admin, corpus("08-forwarded-rfc822.eml"))
    pdf = b"%PDF-1.4\n\x00\x01\x02\xff binary bytes\n%%EOF\n"
    with db.session() as s:
        rows = attachments(s, int(out.incident.split("-")[1]))
        assert [r.filename for r in rows] == ["Rechnung März.pdf", "Übersicht.pdf"]
        for r in rows:
            assert attachment_content(s, int(out.incident.split("-")[1]), r.id) == (r.filename, pdf)
        # Identical bytes are stored once; the second copy points at the first by hash.
        stored = s.exec(select(MailAttachment).order_by(MailAttachment.id)).all()
        assert [a.content is not None for a in stored[:2]] == [True, False]
        (log,) = attachments(s, int(uu.incident.split("-")[1]))
        assert log.filename == "error.log"
        assert attachment_content(s, int(uu.incident.split("-")[1]), log.id)[1] == pdf
        (inner,) = attachments(s, int(fwd.incident.split("-")[1]))
        assert inner.filename == "Disk full.eml" and inner.content_type == "message/rfc822"
        assert (
            b"Disk /var is full."
            in attachment_content(s, int(fwd.incident.split("-")[1]), inner.id)[1]
        )
        with pytest.raises(NotFound):
            attachment_content(s, int(uu.incident.split("-")[1]), rows[0].id)
    (event,) = mail_events(db, out.incident)
    assert [a["filename"] for a in event.data["attachments"]] == [
        "Rechnung März.pdf",
        "Übersicht.pdf",
    ]


def test_a_broken_message_is_quarantined_and_the_batch_goes_on(db, admin, world):
    outcomes = [file(db, admin, p.read_bytes(), source=p.name) for p in message_files([CORPUS])]
    by_file = {o.file: o.outcome for o in outcomes}
    assert by_file["14-broken.eml"] == "quarantined"
    assert by_file["15-hostile.eml"] == "incident"
    with db.session() as s:
        (q,) = quarantine_list(s)
        assert q.source == "14-broken.eml" and "no headers" in (q.reason or "")
        shown = quarantine_show(s, q.id)
        assert "not a mail message" in shown["raw"] and "\x00" not in shown["raw"]
    # Read again: recognised by its hash, not quarantined twice.
    again = file(db, admin, corpus("14-broken.eml"))
    assert again.outcome == "ignored" and "quarantine" in (again.reason or "")


def test_a_message_that_cannot_be_filed_waits_in_quarantine_until_retried(db, admin, world):
    out = file(db, admin, corpus("04-bogus-charset.eml"), MailDefaults())
    assert out.outcome == "quarantined" and "reason code" in (out.reason or "")
    with db.session() as s:
        assert s.exec(select(Incident).where(Incident.channel == "email")).all() == []
        (q,) = quarantine_list(s)
    with db.session() as s:
        done = retry(s, actor=admin, message_id=q.id, defaults=DEFAULTS)
    assert done.outcome == "incident"
    with db.session() as s:
        assert quarantine_list(s) == []
        with pytest.raises(NotFound):
            retry(s, actor=admin, message_id=q.id, defaults=DEFAULTS)


def test_same_message_id_with_other_bytes_is_read_once(db, admin, world):
    first = file(db, admin, corpus("01-plain-new.eml"))
    again = file(db, admin, corpus("01-plain-new.eml") + b"\r\nresent\r\n")
    assert again.outcome == "ignored" and again.incident == first.incident
    assert "Message-ID" in (again.reason or "")


def test_parser_pieces():
    assert decode_bytes("Grüße".encode("cp1252"), "utf-8") == "Grüße"
    assert decode_bytes(b"\xe9t\xe9", "no-such") == "été"
    assert decode_bytes(b"<meta charset='koi8-r'>\xf0\xd2\xc9", None).endswith("При")
    assert safe_filename("../../etc/passwd", "text/plain", 1) == "passwd"
    assert safe_filename("C:\\x\\evil\x1b.exe", "text/plain", 1) == "evil.exe"
    assert safe_filename("...", "application/pdf", 3) == "attachment-3.pdf"
    assert safe_filename("a" * 300 + ".pdf", "application/pdf", 1).endswith("a.pdf")
    assert len(safe_filename("a" * 300 + ".pdf", "application/pdf", 1)) == 200
    assert bare_subject("Re: AW: SV: VS: Antw: Fwd: [INC-7] x") == "[INC-7] x"
    assert subject_number("AW: Re: [inc-1042] Drucker") == "INC-1042"
    assert subject_number("INC-1042 without brackets") is None
    assert strip_quoted("ok\n\n-----Original Message-----\nFrom: a\nold") == ("ok", True)
    assert strip_quoted("From: the start of my text\nmore") == (
        "From: the start of my text\nmore",
        False,
    )
    big = parse(corpus("06-rfc2231-name.eml"), max_attachment=10)
    assert big.attachments == [] and len(big.skipped) == 2


@pytest.mark.parametrize(
    ("text", "own"),
    [
        (
            "Danke, geht wieder.\n\nVon: Service Desk <desk@example.org>\n"
            "Gesendet: Montag, 3. März 2025 10:12\nAn: Hans <h@example.de>\n"
            "Betreff: [INC-12] Drucker\n\nWir kommen morgen.",
            "Danke, geht wieder.",
        ),
        (
            "Yes please.\n\nOn Mon, Mar 3, 2025 at 10:12 AM Service Desk <\n"
            "desk@example.org> wrote:\n\n> We will come.\n",
            "Yes please.",
        ),
        (
            "Tack.\n\nFrån: Service Desk <desk@example.org>\nSkickat: den 3 mars 2025\n"
            "Till: a@example.se\nÄmne: x\n\ngammal text",
            "Tack.",
        ),
        (
            "Dank je.\n\nOp ma 3 mrt 2025 om 10:12 schreef Service Desk <d@example.org>:\n> oud",
            "Dank je.",
        ),
        (
            "Ok.\n\n________________________________\nFrom: Desk <d@example.org>\n"
            "Sent: Monday\nTo: me\nSubject: y\n\nold",
            "Ok.",
        ),
    ],
)
def test_quoted_history_is_cut_in_the_mail_programs_languages(text, own):
    assert strip_quoted(text) == (own, True)


def test_answers_between_quoted_questions_keep_the_questions():
    text = "> Did you restart it?\nYes, twice.\n> Which model?\nHP 4050"
    assert strip_quoted(text) == (text, False)


def test_an_information_mailbox_leaves_the_question_for_an_agent_to_answer(db, admin, world):
    ask = MailDefaults(request_type="information")
    out = file(db, admin, corpus("01-plain-new.eml"), ask)
    assert out.outcome == "incident" and out.reason is None
    with db.session() as s:
        contact = s.get_one(Incident, int(out.incident.split("-")[1]))
        assert (contact.status, contact.request_type, contact.channel) == (
            "draft",
            "information",
            "email",
        )
        assert contact.question == "The printer in room 4 jams on every second page. Grüße, Anna"
        assert contact.customer_id == world["acme"]
    (event,) = mail_events(db, out.incident)
    assert event.data["from"] == "anna@acme.example"


def _reply_to(message_id: str, number: str = "x") -> bytes:
    return (
        "From: anna@acme.example\r\nTo: desk@cc-tui.example\r\nSubject: Re: thanks\r\n"
        f"Message-ID: <answer-{number}@acme.example>\r\nIn-Reply-To: {message_id}\r\n"
        f"References: {message_id}\r\n\r\nStill broken.\r\n"
    ).encode()


def test_sent_mail_is_kept_once_and_answers_to_it_thread(db, admin, world):
    from email.message import EmailMessage

    from cc_tui.models import Notification
    from cc_tui.services.mail.outgoing import record_outgoing

    first = file(db, admin, corpus("01-plain-new.eml"))
    incident_id = int(first.incident.split("-")[1])
    with db.session() as s:
        row = Notification(
            channel="email", reason="registered", incident_id=incident_id, status="sent"
        )
        s.add(row)
        s.flush()
        sent = EmailMessage()
        sent["From"] = "Service Desk <desk@cc-tui.example>"
        sent["To"] = "anna@acme.example"
        sent["Subject"] = f"[{first.incident}] We have registered your request"
        sent["Message-ID"] = f"<cc-tui.n{row.id}.i{incident_id}@cc-tui.example>"
        sent.set_content("We will call you.\n")
        assert record_outgoing(s, [(row.id, sent)]) == 1
        # Sent again after a crash (same Message-ID): kept once.
        assert record_outgoing(s, [(row.id, sent)]) == 0
    with db.session() as s:
        kept = s.exec(select(MailMessage).where(MailMessage.direction == "out")).one()
        assert kept.incident_id == incident_id and kept.from_addr == "desk@cc-tui.example"
        assert kept.body_text == "We will call you.\n" and kept.raw == bytes(sent)
    out = file(db, admin, _reply_to(str(sent["Message-ID"])))
    assert (out.outcome, out.incident) == ("event", first.incident)
    # A sent folder read as a mailbox: our own messages are not filed again.
    same = file(db, admin, bytes(sent))
    assert same.outcome == "ignored" and "SHA-256" in (same.reason or "")
    relayed = file(db, admin, b"Received: from relay.example\r\n" + bytes(sent))
    assert relayed.outcome == "ignored" and "Message-ID" in (relayed.reason or "")


def test_answers_to_notifications_sent_before_sent_mail_was_kept_thread(db, admin, world):
    from cc_tui.models import Notification

    first = file(db, admin, corpus("01-plain-new.eml"))
    incident_id = int(first.incident.split("-")[1])
    with db.session() as s:
        row = Notification(
            channel="email", reason="registered", incident_id=incident_id, status="sent"
        )
        s.add(row)
        s.flush()
        row.message_id = f"<cc-tui.n{row.id}.i{incident_id}@cc-tui.example>"
        ours = row.message_id
    out = file(db, admin, _reply_to(ours))
    assert (out.outcome, out.incident) == ("event", first.incident)
    # A made-up ID in our form that no outbox row carries threads nowhere.
    forged = ours.replace("@cc-tui", "@elsewhere")
    again = file(db, admin, _reply_to(forged, "2"))
    assert again.outcome == "incident" and again.incident != first.incident


def test_a_subject_number_naming_no_incident_opens_a_new_one(db, admin, world):
    for n, number in enumerate(("INC-999999", "INC-99999999999999999999999")):
        raw = (
            f"From: anna@acme.example\r\nSubject: Re: [{number}] printer\r\n"
            f"Message-ID: <no-such-{n}@acme.example>\r\n\r\nStill broken.\r\n"
        ).encode()
        out = file(db, admin, raw)
        assert out.outcome == "incident" and out.incident != number


def test_a_maildir_is_read_in_delivery_order_across_new_and_cur(tmp_path):
    """The reply waiting in new/ comes after the message in cur/ it answers; Maildir++
    subfolders (Sent, Junk, Trash) only when named."""
    from cc_tui.services.mail.intake import message_files

    maildir = tmp_path / "Maildir"
    for folder in (maildir, maildir / ".Junk"):
        for box in ("cur", "new", "tmp"):
            (folder / box).mkdir(parents=True)
    reply = maildir / "new" / "1733400100.M2P1.host"
    first = maildir / "cur" / "1733400000.M1P1.host:2,S"
    later = maildir / "cur" / "1733400200.M3P1.host:2,S"
    spam = maildir / ".Junk" / "cur" / "1733400050.M9P1.host:2,S"
    for path in (reply, first, later, spam):
        path.write_bytes(b"From: a@b.example\r\n\r\nx\r\n")
    assert message_files([maildir]) == [first, reply, later]
    assert message_files([maildir / ".Junk"]) == [spam]


def test_a_quarantined_message_keeps_its_subject_for_the_list(db, admin, world):
    """A message refused for want of a sender still says which one it is in the list."""
    from cc_tui.services.mail.intake import quarantine_list

    scan = b'From: "Scan to Mail"\r\nSubject: Scan 0042 from MF-6100\r\n\r\nsee attached\r\n'
    assert file(db, admin, scan).outcome == "quarantined"
    assert file(db, admin, corpus("14-broken.eml")).outcome == "quarantined"
    with db.session() as s:
        listed = quarantine_list(s)
    assert [r.subject for r in listed] == ["Scan 0042 from MF-6100", None]
    assert "no sender address" in (listed[0].reason or "")


def test_a_key_the_filing_collides_with_sends_the_message_to_the_quarantine(
    db, admin, world, monkeypatch
):
    """A unique key refusing the filing itself (not the stored message) is rolled back to
    the filing's savepoint: the raw message stays, quarantined with the database's words."""
    from sqlalchemy.exc import IntegrityError

    from cc_tui.services.mail import intake

    def collides(*args, **kwargs):
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed: x.y"))

    monkeypatch.setattr(intake, "_file", collides)
    out = file(db, admin, corpus("01-plain-new.eml"))
    assert out.outcome == "quarantined" and out.incident is None
    assert out.reason == "cannot be filed: refused by the database: UNIQUE constraint failed: x.y"
    with db.session() as s:
        (row,) = s.exec(select(MailMessage)).all()
        assert row.status == "failed" and row.raw == corpus("01-plain-new.eml")
