"""Work orders in the console (Pilot): transfer from the incident screen, complete an order
in the Work orders mode, and the incident following on another console's screen."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from cc_tui.models import Incident, WorkOrder
from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.directory.codes import add_code
from cc_tui.services.workorders.orders import transfer
from cc_tui.services.workorders.templates import add_template
from tests import factories as f
from tests.tui.test_incident_screen import SIZE, make_app, open_detail, wait_for

pytestmark = pytest.mark.tui

PROBLEM = "FIELD/PRINTERS/LASER/JAM"


@pytest.fixture
def world(sqlite_db):
    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        add_template(
            s, actor=admin, code="WO-PRN", kind="service", title="Printer repair",
            tasks=["Clean the feed path"],
        )  # fmt: skip
        add_code(s, actor=admin, kind="problem", path=PROBLEM, work_order_template="WO-PRN")
        acme = f.customer(s, "Acme", number="K-00001")
    ids = [
        int(f.register(sqlite_db, admin, acme.id, problem_code=PROBLEM).removeprefix("INC-"))
        for _ in range(2)
    ]
    return {"db": sqlite_db, "url": sqlite_db.url.render_as_string(), "ids": ids, "admin": admin}


def _status(db, incident_id: int) -> str:
    with db.session(write=False) as s:
        row = s.get(Incident, incident_id)
        return row.status if row else ""


async def test_transfer_from_the_incident_screen_offers_the_link_candidate_first(world):
    db, first, second = world["db"], *world["ids"]
    with db.session() as s:
        wo = transfer(s, actor=world["admin"], ref=first).work_orders[0].number
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, second)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.screen.query("#action"), "the transfer form")
        dialog = app.screen
        assert dialog.choices[0][1] == f"link:{wo}"  # the candidate comes first
        assert dialog.choices[1][1] == "template"  # then the problem code's template
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, "the form to close")
        await wait_for(
            pilot,
            lambda: wo in str(screen.query_one("#incident-orders").render()),
            "the incident's work orders",
        )
    assert _status(db, second) == "transferred"


async def test_complete_an_order_in_the_work_orders_mode_closes_its_incidents(world):
    from cc_tui.screens.workorders import WorkOrderScreen, WorkOrdersScreen

    db, first, _second = world["db"], *world["ids"]
    with db.session() as s:
        wo = transfer(s, actor=world["admin"], ref=first).work_orders[0].number
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.connection is not None, "the database")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkOrdersScreen), "the mode")
        listing = app.screen
        await wait_for(pilot, lambda: wo in listing.rows, "the open order")
        listing.table.focus()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, WorkOrderScreen) and app.screen.order is not None,
            "the order's screen",
        )
        order_screen = app.screen
        text = str(order_screen.query_one("#wo-summary").render())
        assert f"INC-{first}" in text and "Clean the feed path" in text
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: order_screen.order is not None and order_screen.order.status == "in_progress",
            "the start",
        )
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query("#problem"), "the completion form")
        await pilot.press(*"worn roller", "tab", *"replaced the roller")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is order_screen, "the form to close")
        await wait_for(
            pilot,
            lambda: order_screen.order is not None and order_screen.order.status == "completed",
            "the completion",
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: wo not in listing.rows, "the list without the order")
    assert _status(db, first) == "closed"
    with db.session(write=False) as s:
        order = s.get(WorkOrder, int(wo.removeprefix("WO-")))
        assert order is not None and order.actual_solution == "replaced the roller"


async def test_j_k_g_and_capital_g_move_in_the_list_but_type_in_the_filter(world):
    """Issue 19, console habits: vi keys in the work-order list."""
    from cc_tui.screens.workorders import WorkOrdersScreen

    db = world["db"]
    with db.session() as s:
        for ref in world["ids"]:
            transfer(s, actor=world["admin"], ref=ref)
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.connection is not None, "the database")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkOrdersScreen), "the mode")
        listing = app.screen
        await wait_for(pilot, lambda: len(listing.rows) == 2, "both orders")
        listing.table.focus()
        await pilot.press("j")
        assert listing.table.cursor_row == 1
        await pilot.press("k")
        assert listing.table.cursor_row == 0
        await pilot.press("G")
        assert listing.table.cursor_row == 1
        await pilot.press("g")
        assert listing.table.cursor_row == 0
        await pilot.press("slash", "j", "k")
        assert listing.query_one("#wo-filter", Input).value == "jk"
        assert listing.table.cursor_row == 0


def test_the_orders_facts_break_between_pairs_at_80_columns():
    """At 80 columns "Created" stood at the end of a line and its date on the next."""
    from datetime import UTC, datetime

    from cc_tui.screens.workorders import order_content
    from cc_tui.services.workorders.orders import WorkOrderInfo

    order = WorkOrderInfo(
        number="WO-32", kind="service", repair_kind=None, status="in_progress",
        title="On-site printer repair", description=None, template="WO-ONSITE-PRN",
        problem_code="FS/ONSITE/PRINTER/PAPER-JAM", department="FS", assignee="stefan.braun",
        subcontract=None, billable=False, cross_reference=None, destination_type=None,
        tasks=[], actual_problem=None, actual_solution=None, resolution=None, created_by="x",
        created_at=datetime(2026, 12, 3, 13, 6, tzinfo=UTC), started_at=None,
        completed_at=None, version=1, incidents=["INC-371"], legal_next=(), events=[],
    )  # fmt: skip
    narrow = order_content(order, UTC, 78).plain.splitlines()
    assert "Created 2026-12-03 13:06" in narrow
    assert all(len(line) <= 78 for line in narrow)
    assert "Status In progress   Kind service" in narrow[1]
    # Wide enough: the facts stay on their two lines.
    wide = order_content(order, UTC, 118).plain.splitlines()
    assert wide[2].rstrip().endswith("Created 2026-12-03 13:06")
