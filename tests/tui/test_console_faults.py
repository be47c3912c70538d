"""The console through database faults: a call taken while the database is down keeps the
time it began (finding 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.errors import Unavailable
from tests import factories
from tests.tui.conftest import SIZE, console, wait_until
from tests.tui.test_intake_screen import desk, detail, pick_caller, signed_in  # noqa: F401

pytestmark = pytest.mark.tui

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("desk")
async def test_a_call_taken_while_the_database_is_down_starts_when_f2_was_pressed(
    sqlite_db, sqlite_admin, monkeypatch
):
    import cc_tui.services.incidents.intake as intake_service

    clock = factories.fake_clock(monkeypatch, T0)
    real_open = intake_service.open_contact
    calls = {"n": 0}

    def database_away_once(session, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Unavailable("database unavailable: connection refused")
        return real_open(session, **kwargs)

    monkeypatch.setattr(intake_service, "open_contact", database_away_once)
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f2")
        intake = app.screen
        await wait_until(pilot, lambda: calls["n"] == 1 and not intake.contact_pending)
        assert intake.contact is None
        clock.now = T0 + timedelta(minutes=12)  # the agent talks; the database comes back
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams", "tab", *"Since Monday", "tab", *"HW")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: intake.last_result is not None)
        number = intake.last_result.number
    saved = detail(sqlite_db, number)
    assert saved.opened_at == T0
