"""An e-mail on the incident screen: sender and subject, the quoted history collapsed, the
attachments listed and saved to a file with `a` (Pilot, embedded database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.mail.intake import MailDefaults, receive
from tests import factories as f
from tests.tui.test_incident_screen import SIZE, make_app, open_detail, shown_text, wait_for

pytestmark = pytest.mark.tui

CORPUS = Path(__file__).parent.parent / "services" / "mail_corpus"
PDF = b"%PDF-1.4\n\x00\x01\x02\xff binary bytes\n%%EOF\n"


@pytest.fixture
def mailed(sqlite_db):
    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        acme = f.customer(s, "Acme")
        f.contact(s, acme, "Anna Nowak", email="anna@acme.example")
        defaults = MailDefaults(reason="HW/PRINT")
        first = receive(
            s, actor=admin, raw=(CORPUS / "01-plain-new.eml").read_bytes(), defaults=defaults
        )
        receive(
            s,
            actor=admin,
            raw=(CORPUS / "02-reply-in-reply-to.eml").read_bytes(),
            defaults=defaults,
        )
        # The invoice mail answers the same incident through its subject.
        invoice = (CORPUS / "06-rfc2231-name.eml").read_bytes()
        invoice = invoice.replace(
            b"Subject: Invoice", f"Subject: [{first.incident}] Invoice".encode()
        )
        receive(s, actor=admin, raw=invoice, defaults=defaults)
    return {"url": sqlite_db.url.render_as_string(), "id": int(first.incident.split("-")[1])}


async def test_an_email_shows_collapsed_and_its_attachment_is_saved_by_key(mailed, tmp_path):
    app = make_app(mailed["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, mailed["id"])
        text = shown_text(screen)
        assert "from anna@acme.example" in text
        assert "Subject: Re: Printer in room 4 jams\nIt still jams after the restart." in text
        assert "⋯ quoted history collapsed" in text
        assert "> The printer" not in text
        assert "📎 Rechnung März.pdf (33 bytes)" in text
        entries = screen.timeline.entries
        screen.timeline.index = next(
            i for i, e in enumerate(entries) if (e.data or {}).get("attachments")
        )
        await pilot.pause()
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the save dialog")
        target = tmp_path / "saved.pdf"
        app.screen.query_one("#path").value = str(target)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
        assert target.read_bytes() == PDF
        # Saving over an existing file is refused in the dialog.
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query("#path"), "the save dialog")
        dialog = app.screen
        dialog.query_one("#path").value = str(target)
        await pilot.press("ctrl+s")
        error = dialog.query_one("#path-error")
        await wait_for(pilot, lambda: "exists already" in str(error.render()), "the refusal")
