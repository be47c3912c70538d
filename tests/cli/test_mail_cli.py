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
