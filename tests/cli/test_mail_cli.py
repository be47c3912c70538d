"""`cc-tui mail import`, `mail quarantine ...`, `incident attachments/attachment`: the contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import factories as f

CORPUS = Path(__file__).parent.parent / "services" / "mail_corpus"


@pytest.fixture
def world(db, admin):
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", rank=3, default=True)
        acme = f.customer(s, "Acme AG")
        f.contact(s, acme, "Anna Nowak", email="anna@acme.example")


def test_import_files_and_a_maildir_then_quarantine_and_attachments(cli, world, tmp_path):
    maildir = tmp_path / "Maildir"
    for box in ("cur", "new", "tmp"):
        (maildir / box).mkdir(parents=True)
    shutil.copy(CORPUS / "06-rfc2231-name.eml", maildir / "new" / "1.host:2,")
    shutil.copy(CORPUS / "14-broken.eml", maildir / "cur" / "2.host:2,S")
    first = CORPUS / "01-plain-new.eml"
    result = cli("mail", "import", str(first), str(maildir), "--reason", "HW/PRINT", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [{"file", "outcome", "incident", "reason"}] * 3
    assert [r["outcome"] for r in rows] == ["incident", "incident", "quarantined"]
    assert rows[0]["file"] == str(first) and rows[0]["incident"].startswith("INC-")
    assert rows[2]["incident"] is None and "no headers" in rows[2]["reason"]

    listed = json.loads(cli("mail", "quarantine", "list", "--json").stdout)
    assert [q["source"] for q in listed] == [str(maildir / "cur" / "2.host:2,S")]
    shown = cli("mail", "quarantine", "show", str(listed[0]["id"]), "--json")
    assert "not a mail message" in json.loads(shown.stdout)["raw"]
    retried = cli("mail", "quarantine", "retry", str(listed[0]["id"]), "--json")
    assert json.loads(retried.stdout)["outcome"] == "quarantined"
    assert cli("mail", "quarantine", "show", "999", "--json").exit_code != 0

    ref = rows[1]["incident"]
    files = json.loads(cli("incident", "attachments", ref, "--json").stdout)
    assert [a["filename"] for a in files] == ["Rechnung März.pdf", "Übersicht.pdf"]
    out = tmp_path / "saved.pdf"
    saved = cli("incident", "attachment", ref, str(files[1]["id"]), "-o", str(out))
    assert saved.exit_code == 0, saved.output
    assert out.read_bytes() == b"%PDF-1.4\n\x00\x01\x02\xff binary bytes\n%%EOF\n"
    assert (
        cli(
            "incident", "attachment", rows[0]["incident"], str(files[0]["id"]), "-o", str(out)
        ).exit_code
        != 0
    )

    again = json.loads(cli("mail", "import", str(first), "--json").stdout)
    assert again[0]["outcome"] == "ignored" and again[0]["incident"] == rows[0]["incident"]
    assert cli("mail", "import", str(tmp_path / "missing.eml")).exit_code != 0


def _quarantined(db, admin, name: str) -> int:
    """A message read by mailbox `desk` and quarantined (no priority to file it with)."""
    from cc_tui.services.mail.intake import receive
    from cc_tui.services.mail.mailboxes import defaults_of

    with db.session() as s:
        outcome = receive(
            s,
            actor=admin,
            raw=(CORPUS / name).read_bytes(),
            defaults=defaults_of(s, "desk"),
            source=f"desk/INBOX:1:{name}",
        )
    assert outcome.outcome == "quarantined" and "priority" in (outcome.reason or "")
    assert outcome.message is not None
    return outcome.message


def test_quarantine_retry_files_as_the_mailbox_does_unless_told_otherwise(cli, db, admin):
    from cc_tui.services.mail.mailboxes import add_mailbox

    with db.session() as s:
        f.codes(s, admin)  # no priority yet: the mailbox's messages cannot be filed
        add_mailbox(
            s,
            actor=admin,
            name="desk",
            url="imaps://desk%40example.com@mail.example.com/INBOX",
            department="FIELD",
            reason="HW/PRINT",
        )
    first = _quarantined(db, admin, "01-plain-new.eml")
    second = _quarantined(db, admin, "06-rfc2231-name.eml")

    still = cli("mail", "quarantine", "retry", str(first), "--json")
    assert still.exit_code == 1, still.output
    assert json.loads(still.stdout)["outcome"] == "quarantined"
    assert f"message {first} is still quarantined: cannot be filed" in still.stderr
    assert "priority" in still.stderr

    with db.session() as s:
        f.priority(s, "P3", rank=3, default=True)
    typo = cli("mail", "quarantine", "retry", str(first), "--reason", "TYPO", "--json")
    assert typo.exit_code == 3 and "no general reason code TYPO" in typo.stderr
    # The mailbox's reason code and department.
    filed = cli("mail", "quarantine", "retry", str(first), "--json")
    assert filed.exit_code == 0, filed.output
    shown = json.loads(
        cli("incident", "show", json.loads(filed.stdout)["incident"], "--json").stdout
    )
    assert shown["department"] == "FIELD"
    assert (shown["reason"]["general"], shown["reason"]["specific"]) == ("HW", "PRINT")
    # An option given overrides the mailbox's; the rest stays the mailbox's.
    filed = cli("mail", "quarantine", "retry", str(second), "--reason", "SW/LOGIN", "--json")
    assert filed.exit_code == 0, filed.output
    shown = json.loads(
        cli("incident", "show", json.loads(filed.stdout)["incident"], "--json").stdout
    )
    assert shown["department"] == "FIELD"
    assert (shown["reason"]["general"], shown["reason"]["specific"]) == ("SW", "LOGIN")


def test_filing_options_are_checked_before_anything_is_read_or_stored(cli, world, tmp_path):
    url = "imaps://desk%40example.com@mail.example.com/INBOX"
    for option, value, code, said in [
        ("--reason", "TYPO", 3, "no general reason code TYPO"),
        ("--reason", "HW/NOPE", 3, "NOPE is not a specific reason code under HW"),
        ("--priority", "P9", 3, "no priority 'P9'; valid: P3"),
        ("--done-folder", "Filed*", 2, "--done-folder: a folder name"),
        ("--done-folder", " ", 2, "--done-folder: a folder name"),
        ("--done-folder", "inbox", 2, "inbox is the folder the mailbox reads"),
        ("--department", "NOPE", 3, "no department 'NOPE'"),
    ]:
        refused = cli("mailbox", "add", "desk", "--url", url, option, value)
        assert refused.exit_code == code, (option, value, refused.output)
        assert said in refused.stderr, (option, value, refused.stderr)
    assert json.loads(cli("mailbox", "list", "--json").stdout) == []
    added = cli("mailbox", "add", "desk", "--url", url, "--done-folder", "INBOX/Filed", "--json")
    assert added.exit_code == 0 and json.loads(added.stdout)["done_folder"] == "INBOX/Filed"

    first = CORPUS / "01-plain-new.eml"
    for option, value, said in [("--reason", "TYPO", "no general reason code TYPO"),
                                ("--priority", "P9", "no priority 'P9'")]:  # fmt: skip
        refused = cli("mail", "import", str(first), option, value, "--json")
        assert refused.exit_code == 3 and said in refused.stderr and refused.stdout == ""
    assert json.loads(cli("mail", "quarantine", "list", "--json").stdout) == []
    filed = cli("mail", "import", str(first), "--reason", "HW/PRINT", "--json")
    assert json.loads(filed.stdout)[0]["outcome"] == "incident"


def test_saving_an_attachment_refuses_bad_paths_and_existing_files_and_writes_whole(
    cli, world, tmp_path, monkeypatch
):
    import errno
    import os

    imported = cli(
        "mail", "import", str(CORPUS / "06-rfc2231-name.eml"), "--reason", "HW/PRINT", "--json"
    )
    ref = json.loads(imported.stdout)[0]["incident"]
    attachment = str(json.loads(cli("incident", "attachments", ref, "--json").stdout)[1]["id"])
    content = b"%PDF-1.4\n\x00\x01\x02\xff binary bytes\n%%EOF\n"

    def save(path, *more):
        return cli("incident", "attachment", ref, attachment, "-o", str(path), *more)

    missing = save(tmp_path / "no" / "such" / "a.pdf")
    assert missing.exit_code == 2 and f"no folder {tmp_path / 'no' / 'such'}" in missing.stderr
    folder = save(tmp_path)
    assert folder.exit_code == 2 and "is a folder: give a file name" in folder.stderr
    assert "Traceback" not in missing.output + folder.output

    target = tmp_path / "a.pdf"
    target.write_bytes(b"mine")
    kept = save(target)
    assert kept.exit_code == 1 and "exists already (--force replaces it)" in kept.stderr
    assert target.read_bytes() == b"mine"
    replaced = save(target, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert target.read_bytes() == content

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    failed = save(tmp_path / "b.pdf")
    assert failed.exit_code == 2 and "No space left on device" in failed.stderr
    failed = save(target, "--force")
    assert failed.exit_code == 2
    assert target.read_bytes() == content  # the old file whole, no half file anywhere
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]


def test_watch_without_mailboxes_says_how_to_add_one(cli, world):
    none = cli("mail", "watch")
    assert none.exit_code == 3 and "there are no mailboxes to watch" in none.stderr
    assert "cc-tui mailbox add NAME --url" in none.stderr
    for name in ("a", "b"):
        assert (
            cli("mailbox", "add", name, "--url", "imaps://u@mail.example.com/INBOX").exit_code == 0
        )
    two = cli("mail", "watch")
    assert two.exit_code == 2 and "--mailbox (one of a, b)" in two.stderr


def test_a_file_gone_since_the_listing_is_reported_and_the_rest_are_filed(
    cli, world, tmp_path, monkeypatch
):
    """A mail program may move a Maildir file (new/ to cur/) between the listing and the
    reading: that file is reported, the others are filed, the JSON comes out whole."""
    from cc_tui.services.mail import intake

    first, gone = tmp_path / "a.eml", tmp_path / "new" / "b.eml"
    shutil.copy(CORPUS / "01-plain-new.eml", first)
    monkeypatch.setattr(intake, "message_files", lambda paths: [first, gone])
    result = cli("mail", "import", str(first), "--reason", "HW/PRINT", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["file"], r["outcome"], r["incident"]) for r in rows][1] == (
        str(gone),
        "ignored",
        None,
    )
    assert rows[0]["outcome"] == "incident"
    assert rows[1]["reason"] == "cannot be read: No such file or directory"


def test_a_mailbox_is_deactivated_and_activated_by_an_admin(cli, db, world):
    with db.session() as s:
        f.agent(s, "bob")
    added = cli("mailbox", "add", "desk", "--url", "imap://desk@127.0.0.1:1/INBOX", "--json")
    assert added.exit_code == 0, added.output
    gone = cli("mailbox", "deactivate", "desk", "--json")
    assert gone.exit_code == 0 and json.loads(gone.stdout)["active"] is False
    assert json.loads(cli("mailbox", "list", "--json").stdout) == []
    listed = json.loads(cli("mailbox", "list", "--all", "--json").stdout)
    assert [(b["name"], b["active"]) for b in listed] == [("desk", False)]
    # Nothing to read: the pass reads no mailbox and fails none.
    fetched = cli("mail", "fetch", "--json")
    assert fetched.exit_code == 0 and json.loads(fetched.stdout)["fetched"] == 0
    assert json.loads(cli("mailbox", "activate", "desk", "--json").stdout)["active"] is True
    assert cli("mailbox", "deactivate", "nope").exit_code == 3
    refused = cli("mailbox", "deactivate", "desk", login="bob")
    assert refused.exit_code == 1 and "admin" in refused.stderr
