"""The callback list on the board: a missed call appears for the agent it rang for (via the
change feed), and enter calls back: a new contact opens in intake with the number filled,
or the caller's open incident is shown with the CallOut event."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from cc_tui import clock
from cc_tui.models import Event, EventType, Incident
from cc_tui.screens.incident_detail import IncidentDetailScreen
from cc_tui.screens.intake import IntakeScreen
from cc_tui.services.context import bootstrap_admin, resolve_actor
from cc_tui.services.cti.calls import simulate
from cc_tui.widgets.callbacks import CallbackPanel
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = [pytest.mark.tui, pytest.mark.commits]


def seed(db) -> int:
    with db.session() as s:
        admin = bootstrap_admin(s, "admin")
        assert admin is not None
        acme = f.customer(s, "Acme AG", phone="+49 30 1234567")
        f.agent(s, "bob")
        f.agent(s, "carol")
        incident = Incident(
            channel="phone",
            request_type="action",
            status="registered",
            customer_id=acme.id,
            title="Printer",
            created_by_id=admin.id,
            updated_by_id=admin.id,
            opened_at=clock.now(),
            updated_at=clock.now(),
        )
        s.add(incident)
        s.flush()
        return incident.id


def miss(db, number: str, agent: str) -> None:
    with db.session() as s:
        simulate(s, actor=resolve_actor(s, "admin"), from_number=number, agent=agent, hangup=True)


def panel(app) -> CallbackPanel:
    return app.screen.query_one(CallbackPanel)


async def test_a_missed_call_is_listed_and_enter_calls_back_into_intake(db):
    seed(db)
    miss(db, "+49 40 7777777", "carol")  # not bob's: he does not see it
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await app.switch_mode("queues")
        await settled(pilot)
        assert not panel(app).display or not panel(app).callbacks
        miss(db, "+49 40 5555555", "bob")
        miss(db, "+49 40 5555555", "bob")
        await wait_until(pilot, lambda: len(panel(app).callbacks) == 1)
        assert panel(app).display
        (waiting,) = panel(app).callbacks
        assert (waiting.number, waiting.tries) == ("+49405555555", 2)
        await pilot.press("b")
        assert panel(app).table.has_focus
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, IntakeScreen) and app.screen.contact is not None
        )
        assert app.screen.caller_search.text == "+49405555555"
        assert app.screen.channel == "cti"
        await settled(pilot)
    with db.session(write=False) as s:
        codes = s.scalars(
            select(EventType.code)
            .join(Event)
            .join(Incident, col(Incident.id) == col(Event.incident_id))
            .where(col(Incident.caller_phone_e164) == "+49405555555")
        ).all()
        assert "CallOut" in codes


async def test_calling_back_a_known_caller_shows_the_open_incident(db):
    incident_id = seed(db)
    miss(db, "030 1234567", "bob")
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await app.switch_mode("queues")
        await wait_until(pilot, lambda: len(panel(app).callbacks) == 1)
        assert panel(app).callbacks[0].customer == "Acme AG"
        await pilot.press("b", "enter")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, IncidentDetailScreen)
                and app.screen.incident_id == incident_id
            ),
        )
        await settled(pilot)
    with db.session(write=False) as s:
        codes = s.scalars(
            select(EventType.code).join(Event).where(col(Event.incident_id) == incident_id)
        ).all()
        assert codes == ["CallOut"]
