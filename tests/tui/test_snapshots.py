"""Pictures of key screens with fixed data: no clock, no random values, a fixed size.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the new SVG before committing it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable

from cc_tui.config import load_settings
from cc_tui.console.app import CcTuiApp
from cc_tui.db.engine import Database
from cc_tui.db.migrate import upgrade
from cc_tui.models import Agent, Customer, Department, Incident, Priority
from cc_tui.services.context import bootstrap_admin
from cc_tui.services.directory.customers import index_names
from tests.factories import fake_clock
from tests.tui.conftest import SIZE, signed_in, wait_until

pytestmark = pytest.mark.tui

OPENED = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
HOSTILE = "[@click=app.quit]x[/]"

# (title, status, customer, priority, owner, department, minutes after OPENED)
INCIDENTS = (
    ("Printer on floor 3 jams on every page", "registered", "Müller GmbH", "P2", None, "SUP", 0),
    ("Cannot log in to the order portal", "assigned", "Acme Logistics", "P1", "maria", "SUP", 7),
    ("Invoice 2025-118 shows wrong VAT", "closed", "Stadtwerke Nord", "P3", "maria", "SUP", 19),
    ("Copier needs a technician on site", "in_process", "Müller GmbH", "P2", "tom", "FLD", 26),
    (f"{HOSTILE} in the subject", "pending", HOSTILE, None, None, None, 41),
    ("Question about the service contract", "solved", "Acme Logistics", "P3", "maria", "SUP", 58),
    ("Scanner firmware update failed", "transferred", "Stadtwerke Nord", "P2", "tom", "FLD", 73),
)


def build_database(url: str) -> None:
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        admin = bootstrap_admin(session, "admin")
        departments = {
            code: Department(code=code, name=name)
            for code, name in (("SUP", "Support"), ("FLD", "Field service"))
        }
        session.add_all(departments.values())
        session.flush()
        agents = {
            "maria": Agent(
                login="maria", name="Maria Lopez", role="agent", department_id=departments["SUP"].id
            ),
            "tom": Agent(
                login="tom", name="Tom Berger", role="agent", department_id=departments["FLD"].id
            ),
        }
        priorities = {
            code: Priority(code=code, name=f"Priority {code}", rank=rank)
            for rank, code in enumerate(("P1", "P2", "P3"), start=1)
        }
        customers = {
            name: Customer(number=f"K-{n:05d}", name=name, search_name=name.lower())
            for n, name in enumerate(
                ("Müller GmbH", "Acme Logistics", "Stadtwerke Nord", HOSTILE),
                start=10001,
            )
        }
        session.add_all([*agents.values(), *priorities.values(), *customers.values()])
        session.flush()
        index_names(session, *customers.values())
        for title, status, customer, priority, owner, department, minutes in INCIDENTS:
            session.add(
                Incident(
                    channel="phone",
                    request_type="action",
                    status=status,
                    title=title,
                    customer_id=customers[customer].id,
                    priority_id=priorities[priority].id if priority else None,
                    owner_id=agents[owner].id if owner else None,
                    department_id=departments[department].id if department else None,
                    created_by_id=admin.id,
                    opened_at=OPENED + timedelta(minutes=minutes),
                )
            )
    db.dispose()


def test_incident_list(snap_compare, tmp_path, monkeypatch):
    # A relative path, so the header names the same database on every machine.
    monkeypatch.chdir(tmp_path)
    # A fixed clock: badges count from it, and it decides the year shown for "Opened".
    fake_clock(monkeypatch, OPENED + timedelta(hours=2))
    url = "sqlite:///snapshot.sqlite3"
    build_database(url)
    settings = load_settings(database_url=url, agent="maria", timezone="UTC", poll_seconds=0.2)
    app = CcTuiApp(settings=settings, start_mode="incident")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        table = app.screen.query_one("#incident-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(INCIDENTS) and not app.screen.busy)
        await pilot.press("down", "down")

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)
