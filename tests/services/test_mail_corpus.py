"""The parser and the intake on real-world messages from public test corpora
(mail_corpus/public/, sources and licences in its README.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import select

from cc_tui.models import MailMessage
from cc_tui.services.mail.classify import Kind, classify
from cc_tui.services.mail.intake import MailDefaults, receive
from cc_tui.services.mail.parse import Unparseable, parse
from cc_tui.services.mail.quotes import strip_quoted
from tests import factories as f

PUBLIC = Path(__file__).parent / "mail_corpus" / "public"


def mail(name: str):
    return parse((PUBLIC / name).read_bytes())


def test_every_public_message_is_cited_in_the_readme():
    readme = (PUBLIC / "README.md").read_text(encoding="utf-8")
    messages = sorted(p.name for p in PUBLIC.iterdir() if p.suffix in (".eml", ".msg"))
    assert len(messages) == 22
    for name in messages:
        assert f"`{name.rsplit('.', 1)[0]}" in readme, name


@pytest.mark.parametrize(
    ("name", "sender", "subject", "text"),
    [
        # GB2312 declared, GBK written: read as GB18030, subject and body.
        ("mailparser-test_12.eml", "baoguan@hotmail.com", "代开各地增值税发票", "你好！我公司"),
        # ISO-8859-1 quoted-printable subject.
        (
            "mailparser-test_5.eml",
            "contact@carlance.fr",
            "Je prépare mon été zéro complexe !",
            "Si ce message ne s'affiche pas correctement",
        ),
        # 8-bit UTF-8 body, base64 UTF-8 subject over two encoded words.
        (
            "flufl-simple_39.eml",
            "mailer-daemon@mx183.mail.ru",
            "Ваше сообщение не доставлено. Mail failure.",
            "Это письмо создано автоматически сервером Mail.Ru",
        ),
        # Latin-1 declared on a uuencoded body (Content-Transfer-Encoding: x-uuencode).
        ("cpython-x-uuencode.eml", "test@example.org", "uuencoded body", "fooæ–‡bar"),
        # No Message-ID, no Date, no blank line after the headers.
        (
            "cpython-msg_35.eml",
            "aperson@dom.ain",
            "here's something interesting",
            "counter to RFC 2822, there's no separating newline here",
        ),
        # A multipart whose declared boundary is not the one its parts use.
        (
            "mailparser-malformed_3.eml",
            "smgsiso@yahoo.com.mx",
            "Ahorre Dinero en su Recibo de Luz",
            "“brochure” puede tener\ninformación de la compañía",
        ),
    ],
)
def test_charsets_and_broken_structure_decode(name, sender, subject, text):
    parsed = mail(name)
    assert parsed.sender == sender
    assert parsed.subject == subject
    assert text in parsed.text
    assert "\ufffd" not in parsed.text + parsed.subject


def test_a_message_without_message_id_gets_one_from_its_bytes():
    raw = (PUBLIC / "cpython-msg_35.eml").read_bytes()
    assert parse(raw).message_id == f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def test_rfc2231_continued_names_and_attachments_byte_for_byte():
    parsed = mail("mailparser-test_5.eml")
    names = [a.filename for a in parsed.attachments]
    # filename*0*=utf-8''%6D%61... continued over four parameters.
    assert "mailingassets_d68799cd6301c7f5731a3c42946e528bcb78eb84.jpg" in names
    assert all(n.startswith("mailingassets_") for n in names)
    jpeg = next(a for a in parsed.attachments if a.filename.endswith(".jpg"))
    assert jpeg.content.startswith(b"\xff\xd8") and len(jpeg.content) == 137791
    gif = mail("cpython-msg_07.eml").attachments
    assert [(a.filename, a.content_type) for a in gif] == [("dingusfish.gif", "image/gif")]
    assert gif[0].content.startswith(b"GIF87a") and len(gif[0].content) == 3512


def test_forwarded_messages_are_kept_as_eml_attachments():
    for name, file in [
        ("cpython-msg_06.eml", "testing.eml"),
        ("cpython-msg_46.eml", "GroupwiseForwardingTest.eml"),
    ]:
        parsed = mail(name)
        assert [a.filename for a in parsed.attachments] == [file]
        inner = parse(parsed.attachments[0].content)
        assert inner.sender and inner.subject


@pytest.mark.parametrize(
    ("name", "bounced"),
    [
        ("cpython-msg_16.eml", "<002001c144a6$8752e060$56104586@oxy.edu>"),
        ("flufl-dsn_01.eml", "<F1218V8zDv60gxapzha000001ae@hotmail.com>"),
        # The report's boundary parameter is cut off: found from its first "--" line.
        ("cpython-msg_25.eml", "<01040616033903.00962@server>"),
        # From: MAILER DAEMON <> (no address at all).
        ("cpython-msg_43.eml", "<edab.7804f5cb8070@python.org>"),
        ("mailparser-malformed_2.eml", None),  # Return-Path: <>
        ("flufl-simple_38.eml", None),  # Dovecot's rejection, Auto-Submitted as well
        ("flufl-simple_39.eml", None),  # Mail.ru, plain text from mailer-daemon
    ],
)
def test_delivery_reports_are_bounces_never_auto_replies(name, bounced):
    parsed = mail(name)
    assert classify(parsed) == Kind.BOUNCE
    assert parsed.bounced_id == bounced


@pytest.mark.parametrize(
    "name",
    [
        "flufl-qmail_08.eml",  # Auto-Submitted: auto-replied
        "mailparser-test_16.eml",  # Precedence: junk
        "mailparser-test_5.eml",  # Precedence: bulk
    ],
)
def test_auto_replies_and_bulk_mail(name):
    assert classify(mail(name)) == Kind.AUTO_REPLY


@pytest.mark.parametrize(
    "name", ["talon-outlook.eml", "talon-gmail.eml", "talon-android.eml", "talon-hotmail.eml"]
)
def test_replies_keep_only_their_own_text(name):
    parsed = mail(name)
    assert classify(parsed) == Kind.CUSTOMER
    assert strip_quoted(parsed.text) == ("Hello", True)


def test_an_outlook_msg_file_is_refused_with_the_reason():
    with pytest.raises(Unparseable, match=r"Outlook \.msg file"):
        mail("mailparser-outlook_1.msg")


def test_the_public_corpus_through_the_intake(db, admin):
    """Each message filed on both databases: nothing fails, nothing is lost."""
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
    defaults = MailDefaults(reason="HW/PRINT")
    outcomes = {}
    files = sorted(p for p in PUBLIC.iterdir() if p.suffix in (".eml", ".msg"))
    for path in files:
        with db.session() as s:
            outcomes[path.name] = receive(
                s, actor=admin, raw=path.read_bytes(), defaults=defaults, source=path.name
            )
    assert outcomes["mailparser-outlook_1.msg"].outcome == "quarantined"
    assert "Outlook .msg" in (outcomes["mailparser-outlook_1.msg"].reason or "")
    for name in ("talon-outlook.eml", "mailparser-test_12.eml", "cpython-msg_07.eml"):
        assert outcomes[name].outcome == "incident", name
    # Bounces and auto-replies that thread to nothing are ignored, and say why.
    for name in ("cpython-msg_16.eml", "flufl-qmail_08.eml", "mailparser-test_16.eml"):
        assert outcomes[name].outcome == "ignored", name
        assert "belongs to no incident" in (outcomes[name].reason or "")
    with db.session() as s:
        stored = s.exec(select(MailMessage)).all()
        assert len(stored) == len(files)
        by_source = {m.source: m for m in stored}
        for path in files:
            assert by_source[path.name].raw == path.read_bytes()
