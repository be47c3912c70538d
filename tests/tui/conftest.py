"""Helpers for driving the console with Pilot against a real test database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.config import load_settings
from cc_tui.console.app import CcTuiApp
from cc_tui.models import Agent, Customer, Department, Incident
from cc_tui.services.directory.customers import index_names
from tests.conftest import committed_database

SIZE = (120, 35)
START = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest):
    """As in tests/conftest.py, but committed: the console reads the data on connections of
    its own, from worker threads."""
    dialect = "sqlite" if request.param == "sqlite" else "pg"
    return committed_database(request.getfixturevalue(f"{dialect}_database_url"))


@pytest.fixture
def sqlite_db(sqlite_database_url: str):
    return committed_database(sqlite_database_url)


@pytest.fixture(autouse=True)
def _no_escalation_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every console here starts without the minute sweep, a background writer no test
    waits for; the watch's own tests turn it on (`console(..., escalation_watch=True)`)."""
    monkeypatch.setenv("CC_TUI_ESCALATION_WATCH", "false")


def console(db, *, login: str = "admin", mode: str = "intake", **settings) -> CcTuiApp:
    """The console on `db`, as `cc-tui --db URL --as LOGIN` would start it (without the
    escalation watch unless `escalation_watch=True`)."""
    url = db.url.render_as_string(hide_password=False)
    options = {"poll_seconds": 0.1, "timezone": "UTC", **settings}
    return CcTuiApp(
        settings=load_settings(database_url=url, agent=login, **options), start_mode=mode
    )


async def wait_until(pilot, predicate: Callable[[], object], *, timeout: float = 15.0) -> None:
    """Let the app work (thread workers included) until `predicate()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.05)


# Workers that run as long as the console does.
NEVER_DONE = ("change-feed", "escalation")


def _busy(app) -> bool:
    """A worker still running, a key typed not yet handled (or what its binding started
    not yet processed), or one of cc-tui's one-shot timers (a debounce) pending."""
    if any(w.group not in NEVER_DONE and not w.is_finished for w in app.workers):
        return True
    if app.key_order.busy:  # keys typed are still waiting for their turn
        return True
    # The last key handed on may still be on its way: in the field's queue, or bubbling
    # up to the app where its binding (tab: take the code, move on) runs and starts more.
    if not app.key_order.settled():
        return True
    nodes = [app, *app.screen.walk_children(with_self=True)]
    return any(
        timer._repeat == 0 and timer._task is not None and not timer._task.done()
        for node in nodes
        if type(node).__module__.startswith("cc_tui.")
        for timer in node._timers
    )


async def settled(pilot, *, timeout: float = 15.0) -> None:
    """Wait until the app has nothing in flight (no worker, no key, no debounce) and the
    messages its workers posted were handled; what those start is waited for too."""
    app = pilot.app
    while True:
        await wait_until(pilot, lambda: not _busy(app), timeout=timeout)
        await pilot.pause()
        if not _busy(app):
            return


async def signed_in(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.connection is not None or app.startup_error is not None)
    assert app.startup_error is None, app.startup_error
    await pilot.pause()


def desk_and_field(session) -> tuple[Department, Department, dict[str, Agent]]:
    """DESK (support) with supervisor sue and agents bob, amy; FIELD (on site) with fay."""
    desk = Department(code="DESK", name="Service desk")
    field = Department(code="FIELD", name="Field service", on_site=True)
    session.add_all([desk, field])
    session.flush()
    people = {
        login: Agent(login=login, name=name, role=role, department_id=dept.id)
        for login, name, role, dept in (
            ("sue", "Sue Supervisor", "supervisor", desk),
            ("bob", "Bob Berger", "agent", desk),
            ("amy", "Amy Adler", "agent", desk),
            ("fay", "Fay Feld", "agent", field),
        )
    }
    session.add_all(people.values())
    return desk, field, people


def add_incidents(
    db,
    admin,
    count: int,
    *,
    title: str = "Printer {n} jams",
    customer: str | None = None,
    status: Callable[[int], str] = lambda n: "registered",
) -> list[int]:
    """`count` incidents, one minute apart; returns their ids, oldest first."""
    with db.session() as session:
        customer_id = None
        if customer is not None:
            row = Customer(number="K-1", name=customer, search_name=customer.lower())
            session.add(row)
            session.flush()
            index_names(session, row)
            customer_id = row.id
        incidents = [
            Incident(
                channel="phone",
                request_type="action",
                status=status(n),
                title=title.format(n=n),
                customer_id=customer_id,
                created_by_id=admin.id,
                opened_at=START + timedelta(minutes=n),
            )
            for n in range(1, count + 1)
        ]
        session.add_all(incidents)
        session.flush()
        return [incident.id for incident in incidents]


@pytest.fixture
def sqlite_admin(sqlite_db):
    """The first admin of the SQLite test database."""
    from cc_tui.services.context import actor_of, bootstrap_admin

    with sqlite_db.session() as session:
        agent = bootstrap_admin(session, "admin")
        assert agent is not None
        agent.name = "Ada Admin"
        session.add(agent)
        session.flush()
        return actor_of(agent)


def agent_row(db, login: str, name: str, role: str = "agent") -> None:
    with db.session() as session:
        session.add(Agent(login=login, name=name, role=role))
