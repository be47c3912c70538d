"""Every screen at the three terminal sizes agents use: 80x24 (the smallest), 120x35 (the
README's) and 200x50 (a big monitor). Fixed data, a fixed clock and a steady cursor, so a
picture changes only when the layout does.

Update after an intended change with `pytest tests/tui/test_sizes.py --snapshot-update`
and look at the new SVGs before committing them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable, Input, TextArea

from cc_tui.config import load_settings
from cc_tui.console.app import CcTuiApp
from cc_tui.db.engine import Database
from cc_tui.db.migrate import upgrade
from tests import factories as f
from tests.tui.conftest import settled, signed_in, wait_until

pytestmark = pytest.mark.tui

SIZES = [(80, 24), (120, 35), (200, 50)]
IDS = [f"{w}x{h}" for w, h in SIZES]


def app_on(url: str, login: str, mode: str) -> CcTuiApp:
    settings = load_settings(database_url=url, agent=login, timezone="UTC", poll_seconds=0.2)
    return CcTuiApp(settings=settings, start_mode=mode)


async def steady(pilot) -> None:
    """Nothing left in flight, no loading indicator, and no blinking cursor (drawn or not
    by the time of day)."""
    app = pilot.app
    await settled(pilot)
    await wait_until(
        pilot, lambda: not app.screen.loading and not app.screen.query("LoadingIndicator")
    )
    for node in pilot.app.screen.query("Input, TextArea"):
        if isinstance(node, Input | TextArea):
            node.cursor_blink = False
    await settled(pilot)


@pytest.fixture
def here(tmp_path, monkeypatch):
    # A relative database path, so the header names the same database on every machine.
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_incident_list(snap_compare, here, size):
    from tests.tui.test_snapshots import INCIDENTS, OPENED, build_database

    f.fake_clock(here, OPENED + timedelta(hours=2))
    url = "sqlite:///list.sqlite3"
    build_database(url)
    app = app_on(url, "maria", "incident")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        table = app.screen.query_one("#incident-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(INCIDENTS) and not app.screen.busy)
        await pilot.press("down", "down")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_incident_screen(snap_compare, here, size):
    from tests.tui.test_incident_screen import T0, build_snapshot_database, open_detail

    f.fake_clock(here, T0 + timedelta(hours=5))
    url = "sqlite:///incident.sqlite3"
    incident_id = build_snapshot_database(url)
    app = app_on(url, "admin", "incident")

    async def opened(pilot) -> None:
        await open_detail(pilot, incident_id)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=opened)


def board_database(url: str) -> None:
    from tests.tui.test_queues_screen import build

    db = Database(url)
    upgrade(db)
    build(db)
    db.dispose()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
@pytest.mark.parametrize("login", ["sue", "bob"], ids=["supervisor", "agent"])
def test_queues(snap_compare, here, size, login):
    """The supervisor's board and an agent's My work."""
    from tests.tui.test_queues_screen import NOW, board_loaded

    f.fake_clock(here, NOW)
    url = "sqlite:///board.sqlite3"
    board_database(url)
    app = app_on(url, login, "queues")

    async def loaded(pilot) -> None:
        await board_loaded(pilot)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_intake(snap_compare, here, size):
    from tests.tui.test_intake_screen import build_snapshot_database, pick_caller, take_call

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    url = "sqlite:///intake.sqlite3"
    build_snapshot_database(url)
    app = app_on(url, "admin", "intake")

    async def in_a_call(pilot) -> None:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        await pilot.press(*"Printer jams", "tab", *"Paper jams after ten pages", "tab")
        await settled(pilot)
        intake.query_one("#title", Input).focus()
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=in_a_call)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_knowledge_base(snap_compare, here, size):
    from tests.tui.test_kb_screen import build_kb, results, shown_slug, typed

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    url = "sqlite:///kb.sqlite3"
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        build_kb(session)
    db.dispose()
    app = app_on(url, "admin", "kb")

    async def searched(pilot) -> None:
        await signed_in(pilot)
        await typed(pilot, "printer")
        await wait_until(pilot, lambda: len(results(app)) == 4)
        await pilot.press("down")
        await wait_until(pilot, lambda: shown_slug(app) is not None)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=searched)


def work_order_database(url: str) -> None:
    from cc_tui.services.context import actor_of, bootstrap_admin
    from cc_tui.services.directory.codes import add_code
    from cc_tui.services.workorders.orders import transfer
    from cc_tui.services.workorders.templates import add_template

    problem = "FIELD/PRINTERS/LASER/JAM"
    db = Database(url)
    upgrade(db)
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        add_template(
            s, actor=admin, code="WO-PRN", kind="service", title="Printer repair",
            tasks=["Clean the feed path"],
        )  # fmt: skip
        add_code(s, actor=admin, kind="problem", path=problem, work_order_template="WO-PRN")
        acme = f.customer(s, "Acme Logistics", number="K-00001")
    for title in ("Laser printer jams on every page", "Second floor printer prints blank"):
        ref = f.register(db, admin, acme.id, problem_code=problem, title=title)
        with db.session() as s:
            transfer(s, actor=admin, ref=ref)
    db.dispose()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_work_orders(snap_compare, here, size):
    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    url = "sqlite:///orders.sqlite3"
    work_order_database(url)
    app = app_on(url, "admin", "workorders")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        await wait_until(pilot, lambda: len(app.screen.rows) == 2)
        app.screen.table.focus()
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_reports(snap_compare, here, size):
    from tests.tui.test_reports_screen import NOW, build_week

    f.fake_clock(here, NOW)
    url = "sqlite:///reports.sqlite3"
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        build_week(session)
    db.dispose()
    app = app_on(url, "admin", "reports")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        await wait_until(pilot, lambda: app.screen.report is not None and not app.screen.busy)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=loaded)


def seeded(url: str, seed) -> None:
    db = Database(url)
    upgrade(db)
    seed(db)
    db.dispose()


def snap_pushed_list(
    snap_compare, size, *, url: str, seed, login: str, key: str, screen: type, ready, then=()
) -> bool:
    """A list screen pushed over the console by `key` (F8 to F10), signed in as `login` on
    `url` seeded by `seed`, at `size`: after `then` keys, once `ready(app)` holds, with its
    table focused."""
    seeded(url, seed)
    app = app_on(url, login, "incident")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, screen))
        await pilot.press(*then)
        await wait_until(pilot, lambda: ready(app))
        app.screen.table.focus()
        await steady(pilot)

    return bool(snap_compare(app, terminal_size=size, run_before=loaded))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_call_log(snap_compare, here, size):
    from cc_tui.screens.call_log import CallLogScreen
    from tests.tui.test_call_log import ring, seed, shown

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))

    def calls(db) -> None:
        seed(db)
        ring(db, "+49 30 1234567", "bob", answer=True)
        ring(db, "+49 40 7777777", "carol", hangup=True)

    assert snap_pushed_list(
        snap_compare,
        size,
        url="sqlite:///calls.sqlite3",
        seed=calls,
        login="bob",
        key="f8",
        screen=CallLogScreen,
        ready=lambda app: len(shown(app)) == 2,
    )


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_outbox(snap_compare, here, size):
    from cc_tui.screens.outbox import OutboxScreen
    from tests.tui.test_outbox_screen import seed, shown

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    assert snap_pushed_list(
        snap_compare,
        size,
        url="sqlite:///outbox.sqlite3",
        seed=seed,
        login="sue",
        key="f9",
        screen=OutboxScreen,
        then=("a",),  # the queued message too
        ready=lambda app: len(shown(app)) == 2,
    )


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_mail_quarantine(snap_compare, here, size):
    from cc_tui.screens.mail_quarantine import MailQuarantineScreen
    from tests.tui.test_mail_quarantine import detail, rows, seed

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    assert snap_pushed_list(
        snap_compare,
        size,
        url="sqlite:///quarantine.sqlite3",
        seed=seed,
        login="admin",
        key="f10",
        screen=MailQuarantineScreen,
        ready=lambda app: len(rows(app)) == 3 and "needs a reason code" in detail(app),
    )


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_work_order(snap_compare, here, size):
    from cc_tui.screens.workorders import WorkOrderScreen

    f.fake_clock(here, datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    url = "sqlite:///order.sqlite3"
    work_order_database(url)
    app = app_on(url, "admin", "workorders")

    async def opened(pilot) -> None:
        await signed_in(pilot)
        await wait_until(pilot, lambda: len(app.screen.rows) == 2)
        app.screen.table.focus()
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WorkOrderScreen) and app.screen.order is not None
        )
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=opened)
