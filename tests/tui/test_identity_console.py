"""The console on a team's PostgreSQL database: who is signed in comes from the connection."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from cc_tui.config import load_settings
from cc_tui.console.app import CcTuiApp
from tests.cli.test_identity import _set_up, team  # noqa: F401  (the fixture)
from tests.tui.conftest import SIZE, signed_in, wait_until

pytestmark = pytest.mark.tui


def _console(url: str, agent: str | None) -> CcTuiApp:
    settings = load_settings(database_url=url, agent=agent, timezone="UTC", poll_seconds=0.1)
    return CcTuiApp(settings=settings, start_mode="intake")


async def test_header_shows_the_admin_acting_for_another(team):  # noqa: F811
    katrin, jonas, _maria = _set_up(team)
    app = _console(team.url(katrin), jonas)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.connection.actor.login == jonas
        header = str(app.screen.query_one("#header-identity", Static).visual)
        assert header == f"{katrin} as {jonas} · agent"


async def test_an_agent_naming_another_is_refused_at_start(team):  # noqa: F811
    katrin, jonas, _maria = _set_up(team)
    app = _console(team.url(jonas), katrin)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.startup_error is not None)
        assert "only an admin may act as another agent" in app.startup_error.message
