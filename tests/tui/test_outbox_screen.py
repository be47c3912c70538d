"""The outbox (F9 or the palette): failed customer messages with their error, tried again
by a supervisor; an agent may look but not retry."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cc_tui.models import Agent, Notification
from cc_tui.screens.incident_detail import IncidentDetailScreen
from cc_tui.screens.outbox import OutboxScreen
from cc_tui.services.context import actor_of, bootstrap_admin
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = [pytest.mark.tui, pytest.mark.commits]


def seed(db) -> int:
    """One failed message (with its error) and one queued, on an incident."""
    from cc_tui.services.incidents.intake import IntakeForm, save_call

    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.agent(s, "bob")
        f.agent(s, "sue", role="supervisor")
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        acme = f.customer(s, "Acme", email="anna@example.com")
        incident = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action", customer_id=acme.id, title="Disk full", reason="HW/DISK"
            ),
        )
        s.add(
            Notification(
                channel="email",
                reason="closed",
                incident_id=incident.id,
                recipient="gone@example.com",
                status="failed",
                attempts=5,
                last_error="SMTPRecipientsRefused: 550 5.1.1 [@click=app.quit]no such user[/]",
            )
        )
    return incident.id


def shown(app) -> list[tuple[str, str]]:
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    table = screen.table
    return [
        (str(table.get_row_at(i)[1]), str(table.get_row_at(i)[3])) for i in range(table.row_count)
    ]


async def test_a_supervisor_sees_the_failed_message_and_tries_it_again(db):
    incident_id = seed(db)
    app = console(db, login="sue")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await wait_until(pilot, lambda: shown(app) == [("failed", "closed")])
        error = str(app.screen.query_one("#outbox-error").render())
        assert "550 5.1.1 [@click=app.quit]no such user[/]" in error  # shown, never run
        await pilot.press("a")
        await wait_until(
            pilot, lambda: shown(app) == [("failed", "closed"), ("queued", "registered")]
        )
        await pilot.press("f", "t")
        await wait_until(pilot, lambda: shown(app) == [])
        await pilot.press("q")
        await wait_until(pilot, lambda: len(shown(app)) == 2)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IncidentDetailScreen))
        assert app.screen.incident_id == incident_id
        await settled(pilot)
    with db.session(write=False) as s:
        row = s.scalars(select(Notification).where(Notification.reason == "closed")).one()
    assert (row.status, row.attempts) == ("queued", 0)


async def test_an_agent_may_look_but_not_retry(db):
    seed(db)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("ctrl+p", *"outbox")
        await settled(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await wait_until(pilot, lambda: len(shown(app)) == 1)
        await pilot.press("t")
        await settled(pilot)
        assert shown(app) == [("failed", "closed")]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, OutboxScreen))
    with db.session(write=False) as s:
        assert s.scalars(
            select(Notification).where(Notification.reason == "closed")
        ).one().status == ("failed")


async def test_a_held_sms_says_until_when(db):
    from datetime import timedelta

    from cc_tui import clock

    incident_id = seed(db)
    with db.session() as s:
        s.add(
            Notification(
                channel="sms",
                reason="registered",
                incident_id=incident_id,
                recipient="+4917612345678",
                status="queued",
                next_attempt_at=clock.now() + timedelta(hours=3),
            )
        )
    app = console(db, login="sue")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: len(shown(app)) == 2)
        # Newest first: the held SMS is highlighted.
        await wait_until(
            pilot,
            lambda: (
                "held for quiet hours until" in str(app.screen.query_one("#outbox-error").render())
            ),
        )
        assert "+4917612345678" in str(app.screen.query_one("#outbox-error").render())


async def test_p_shows_which_events_notify(db):
    from cc_tui.services.notify.policy import set_policy

    seed(db)
    with db.session() as s:
        admin = actor_of(s.scalars(select(Agent).where(Agent.login == "admin")).one())
        set_policy(
            s, actor=admin, request_type="action", event="registered", channel="sms", enabled=False
        )
    app = console(db, login="sue")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, OutboxScreen))
        box = app.screen.query_one("#outbox-policy")
        assert not box.display
        await pilot.press("p")
        await wait_until(pilot, lambda: "comment: nothing" in str(box.render()))
        assert box.display
        assert "action: registered (email only), handed_over, closed" in str(box.render())
        assert "information: nothing" in str(box.render())
        await pilot.press("p")
        await settled(pilot)
        assert not box.display
