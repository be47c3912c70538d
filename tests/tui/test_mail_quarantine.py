"""The mail quarantine (F10 or the palette): messages that could not be filed with the
reason, the highlighted one shown below, `f` files it again as its mailbox files mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from cc_tui.screens.mail_quarantine import MailQuarantineScreen
from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.mail.intake import MailDefaults, receive
from cc_tui.services.mail.mailboxes import add_mailbox
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = [pytest.mark.tui, pytest.mark.commits]

CORPUS = Path(__file__).parent.parent / "services" / "mail_corpus"


def seed(db) -> None:
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        # Filed without a reason code: a new action request cannot be saved.
        plain = MailDefaults(mailbox="desk")
        for name in ("01-plain-new.eml", "15-hostile.eml", "public/mailparser-outlook_1.msg"):
            out = receive(s, actor=admin, raw=(CORPUS / name).read_bytes(), defaults=plain)
            assert out.outcome == "quarantined"
        # The cause fixed: the mailbox now files with a reason code.
        add_mailbox(s, actor=admin, name="desk", url="imap://desk@127.0.0.1/INBOX", reason="HW")


def rows(app) -> list[tuple[str, ...]]:
    screen = app.screen
    assert isinstance(screen, MailQuarantineScreen)
    table = screen.table
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def detail(app) -> str:
    return str(app.screen.query_one("#quarantine-text").render())


async def test_the_quarantine_lists_shows_and_retries(db):
    seed(db)
    app = console(db, login="admin")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, MailQuarantineScreen))
        await wait_until(pilot, lambda: len(rows(app)) == 3)
        senders = [r[3] for r in rows(app)]
        assert senders == ["anna@acme.example", "evil@unknown.example", "–"]
        # The hostile subject is shown as text: no escape sequence, no markup run.
        assert "\x1b" not in rows(app)[1][4]
        await wait_until(pilot, lambda: "needs a reason code" in detail(app))
        assert "Message-ID: <new-1@acme.example>" in detail(app)
        await pilot.press("G")
        await wait_until(pilot, lambda: "Outlook .msg" in detail(app))
        assert "bytes of binary data" in detail(app)
        await pilot.press("g")  # back to the first message, filed again with f
        await wait_until(pilot, lambda: "new-1@acme.example" in detail(app))
        await pilot.press("f")
        await wait_until(pilot, lambda: len(rows(app)) == 2)
        assert [r[3] for r in rows(app)] == ["evil@unknown.example", "–"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, MailQuarantineScreen))
        await settled(pilot)


async def test_the_palette_opens_the_quarantine(db):
    seed(db)
    app = console(db, login="admin")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("ctrl+p", *"mail quarantine")
        await settled(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MailQuarantineScreen))
        await wait_until(pilot, lambda: len(rows(app)) == 3)
        await settled(pilot)
