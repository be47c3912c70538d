"""Reply by e-mail from the incident screen (R), driven by keys."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cc_tui.models import Event, Incident, Notification
from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.incidents.intake import IntakeForm, save_call
from tests import factories as f
from tests.tui.test_incident_screen import SIZE, make_app, open_detail, wait_for

pytestmark = pytest.mark.tui


@pytest.fixture
def world(sqlite_db):
    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        acme = f.customer(s, "Acme", number="K-00001", email="anna@example.com")
        result = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action",
                customer_id=acme.id,
                title="Disk full",
                reason="HW/DISK",
                description="The disk is full again.",
            ),
        )
    return {"db": sqlite_db, "url": sqlite_db.url.render_as_string(), "id": result.id}


async def test_reply_by_keys_queues_the_mail_and_records_the_first_response(world):
    from textual.widgets import Input, TextArea

    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("R")
        await wait_for(pilot, lambda: app.screen.query("#body"), "the reply dialog")
        dialog = app.screen
        to = dialog.query_one("#to", Input)
        body = dialog.query_one("#body", TextArea)
        assert to.value == "anna@example.com"
        assert dialog.query_one("#subject", Input).value == "Re: Disk full"
        assert body.text.startswith("Hello Acme,")
        assert "> The disk is full again." in body.text
        # Without an address the dialog refuses at the field and keeps the text.
        to.value = ""
        await pilot.press(*"We freed 20 GB.")
        await pilot.press("ctrl+s")
        error = dialog.query_one("#to-error")
        await wait_for(pilot, lambda: "no e-mail address" in str(error.render()), "the refusal")
        assert app.screen is dialog and "We freed 20 GB." in body.text
        to.value = "it@example.com"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
    with world["db"].session(write=False) as s:
        [row] = s.scalars(select(Notification).where(Notification.reason == "reply")).all()
        event = s.scalars(select(Event).order_by(Event.id.desc())).first()
        incident = s.get(Incident, world["id"])
    assert (row.recipient, row.status, row.subject) == ("it@example.com", "queued", "Re: Disk full")
    assert "We freed 20 GB." in row.body and event.text.startswith(
        "To it@example.com: Re: Disk full"
    )
    assert incident.first_response_at == event.at
