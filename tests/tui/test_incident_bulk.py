"""Changing several incidents from the incident list (F3): assign to me, to a chosen agent,
to a department's queue, and a priority; each incident on its own, the refused ones named
with their reason and left selected, the others done; the list shows the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import col
from textual.widgets import DataTable

from cc_tui.models import Agent, Department, Event, Incident, Priority
from cc_tui.screens.incidents import outcome_message
from cc_tui.services.incidents.each import EachOutcome, Refusal
from tests.factories import fake_clock
from tests.tui.conftest import SIZE, console, desk_and_field, settled, signed_in, wait_until

pytestmark = [pytest.mark.tui, pytest.mark.commits]

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(monkeypatch):
    fake_clock(monkeypatch, NOW)


def build(db, admin) -> dict[str, int]:
    """DESK with supervisor sue and agents bob, amy; FIELD (on site) with fay; P1 and P3.
    DESK holds two unowned incidents (free1, free2), one of amy's and a closed one."""
    with db.session() as s:
        desk, _field, people = desk_and_field(s)
        p1 = Priority(code="P1", name="Urgent", rank=1, response_minutes=30)
        p3 = Priority(code="P3", name="Normal", rank=3)
        s.add_all([p1, p3])
        s.flush()
        ids = {}
        for n, (key, owner, status) in enumerate(
            (
                ("free1", None, "registered"),
                ("amys", "amy", "assigned"),
                ("closed", None, "closed"),
                ("free2", None, "registered"),
            )
        ):
            incident = Incident(
                channel="phone",
                request_type="action",
                status=status,
                title=f"Printer {key}",
                priority_id=p3.id,
                priority_rank=p3.rank,
                department_id=desk.id,
                owner_id=people[owner].id if owner else None,
                created_by_id=admin.id,
                opened_at=NOW - timedelta(minutes=60 - n),
                registered_at=NOW - timedelta(minutes=60 - n),
                updated_at=NOW - timedelta(minutes=60 - n),
            )
            s.add(incident)
            s.flush()
            ids[key] = incident.id
        return ids


def table(app) -> DataTable:
    return app.screen.query_one("#incident-table", DataTable)


async def list_shown(pilot) -> None:
    await signed_in(pilot)
    await wait_until(pilot, lambda: table(pilot.app).row_count > 0 and not pilot.app.screen.busy)


async def select_rows(pilot, *ids: int) -> None:
    """Put the cursor on each incident and press space."""
    grid = table(pilot.app)
    for incident_id in ids:
        grid.move_cursor(row=grid.get_row_index(str(incident_id)), animate=False)
        await pilot.press("space")
    assert pilot.app.screen.selected == set(ids)


async def pick(pilot, filter_text: str, *, reason: str = "") -> None:
    """In the open picker: type to filter, optionally a reason, enter."""
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.query("#picker-table"))
    picker = app.screen.query_one("#picker-table", DataTable)
    await pilot.press(*filter_text)
    await wait_until(pilot, lambda: picker.row_count == 1)
    if reason:
        await pilot.press("tab", "tab", *reason)
    await pilot.press("enter")


async def reported(pilot, title: str):
    """The notification with this title, once the list shows the result."""
    app = pilot.app
    await wait_until(pilot, lambda: any(n.title == title for n in app._notifications))
    await settled(pilot)
    return next(n for n in app._notifications if n.title == title)


def owners(db) -> dict[int, str | None]:
    with db.session(write=False) as s:
        rows = s.execute(
            select(col(Incident.id), col(Agent.login)).outerjoin(
                Agent, col(Agent.id) == col(Incident.owner_id)
            )
        ).all()
    return {incident_id: login for incident_id, login in rows}


def owner_cell(app, incident_id: int) -> str:
    return table(app).get_cell(str(incident_id), "owner").plain


async def test_supervisor_assigns_the_selection_to_a_chosen_agent_and_hears_the_refusal(
    db, admin, fixed_clock
):
    """Runs on SQLite and on PostgreSQL: amy's incident goes to bob (a supervisor may take
    it from her), the closed one is refused and named, and stays selected."""
    ids = build(db, admin)
    app = console(db, login="sue", mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await list_shown(pilot)
        await select_rows(pilot, ids["free1"], ids["amys"], ids["closed"])
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen.query("#picker-table"))
        assert "Assign 3 incidents to" in str(app.screen.query_one("#picker-title").visual)
        await pick(pilot, "bob", reason="covers DESK today")
        note = await reported(pilot, "Assigned 2 of 3")
        assert note.severity == "warning"
        assert "2 incidents with bob now." in note.message
        assert f"INC-{ids['closed']} is closed; only open incidents are assigned" in note.message
        assert app.screen.selected == {ids["closed"]}
        assert "1 selected" in str(app.screen.query_one("#incident-status").visual)
        # The list shows the new owners.
        assert owner_cell(app, ids["free1"]) == owner_cell(app, ids["amys"]) == "bob"
    found = owners(db)
    assert found[ids["free1"]] == found[ids["amys"]] == "bob"
    assert found[ids["closed"]] is None and found[ids["free2"]] is None
    with db.session(write=False) as s:
        texts = s.scalars(
            select(col(Event.text)).where(col(Event.incident_id) == ids["amys"])
        ).all()
    assert any("amy -> bob: covers DESK today" in (text or "") for text in texts)


async def test_agent_takes_the_unowned_ones_and_is_refused_another_agents(db, admin, fixed_clock):
    """Runs on SQLite and on PostgreSQL: `m` as an agent. The services decide: an agent
    takes work nobody owns, not amy's; each incident is its own outcome."""
    ids = build(db, admin)
    app = console(db, login="bob", mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await list_shown(pilot)
        await select_rows(pilot, ids["free1"], ids["amys"], ids["free2"])
        await pilot.press("m")
        note = await reported(pilot, "Assigned 2 of 3")
        assert "2 incidents with bob now." in note.message
        assert f"INC-{ids['amys']} belongs to amy" in note.message
        assert app.screen.selected == {ids["amys"]}
        assert owner_cell(app, ids["free2"]) == "bob"
        assert owner_cell(app, ids["amys"]) == "amy"
    found = owners(db)
    assert found[ids["free1"]] == found[ids["free2"]] == "bob"
    assert found[ids["amys"]] == "amy"


async def test_an_incident_changed_since_the_list_read_it_is_refused_alone(db, admin, fixed_clock):
    """Runs on SQLite and on PostgreSQL: someone changed free2 after the list was read
    (behind the change feed's back); moving both to FIELD moves free1 and names free2's
    conflict; a second try after the reload moves it."""
    ids = build(db, admin)
    app = console(db, login="sue", mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await list_shown(pilot)
        await select_rows(pilot, ids["free1"], ids["free2"])
        with db.session() as s:
            s.execute(
                update(Incident)
                .where(col(Incident.id) == ids["free2"])
                .values(version=Incident.version + 1)
            )
        await pilot.press("d")
        await pick(pilot, "field")
        note = await reported(pilot, "Moved 1 of 2")
        assert "1 incident in the FIELD queue now." in note.message
        assert f"INC-{ids['free2']} was changed by" in note.message
        assert "since you read it" in note.message
        assert app.screen.selected == {ids["free2"]}
        # The list was read again: the same key moves it now.
        await pilot.press("d")
        await pick(pilot, "field")
        await reported(pilot, "Moved 1")
        assert app.screen.selected == set()
        with db.session(write=False) as s:
            field = s.scalars(select(Department).where(col(Department.code) == "FIELD")).one()
            moved = {s.get(Incident, ids[k]).department_id for k in ("free1", "free2")}
        assert moved == {field.id}
        assert table(app).get_row(str(ids["free1"]))[1].plain == "Registered"


async def test_priority_for_the_selection_and_the_keys_in_help(
    sqlite_db, sqlite_admin, fixed_clock
):
    """`p` picks a priority (no reason field: the change is its own event); the closed
    incident is refused; the list shows the new priority. `?` lists the keys."""
    ids = build(sqlite_db, sqlite_admin)
    app = console(sqlite_db, login="sue", mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await list_shown(pilot)
        groups = dict(app.screen.key_groups())
        change = groups["Change the selected (or the highlighted one)"]
        assert change == [
            ("space", "Select"),
            ("m", "Assign me"),
            ("t", "Assign to"),
            ("d", "Move to queue"),
            ("p", "Priority"),
        ]
        await select_rows(pilot, ids["free1"], ids["closed"])
        await pilot.press("p")
        await wait_until(pilot, lambda: app.screen.query("#picker-table"))
        assert not app.screen.query("#reason")
        picker = app.screen.query_one("#picker-table", DataTable)
        assert [picker.get_row_at(i)[0].plain for i in range(2)] == ["P1", "P3"]
        assert picker.get_row_at(0)[2].plain == "30m"
        await pick(pilot, "urgent")
        note = await reported(pilot, "Priority set 1 of 2")
        assert "1 incident at P1 now." in note.message
        assert f"INC-{ids['closed']} is closed; it cannot change" in note.message
        assert table(app).get_cell(str(ids["free1"]), "priority").plain == "P1"
        # Nothing selected: the highlighted incident; it is at P1 already.
        app.screen.selected.clear()
        table(app).move_cursor(row=table(app).get_row_index(str(ids["free1"])), animate=False)
        await pilot.press("p")
        await pick(pilot, "P1")
        note = await reported(pilot, "Priority set 0 of 1")
        assert note.message == f"At P1 already: INC-{ids['free1']}."
    with sqlite_db.session(write=False) as s:
        assert s.get(Incident, ids["free1"]).priority_rank == 1
        assert s.get(Incident, ids["closed"]).priority_rank == 3


async def test_a_refused_target_refuses_the_whole_change(sqlite_db, sqlite_admin, fixed_clock):
    """An agent deactivated after the picker was read: nothing changes, the error says why,
    the selection stays."""
    ids = build(sqlite_db, sqlite_admin)
    app = console(sqlite_db, login="sue", mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await list_shown(pilot)
        await select_rows(pilot, ids["free1"], ids["free2"])
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen.query("#picker-table"))
        with sqlite_db.session() as s:
            s.execute(update(Agent).where(col(Agent.login) == "fay").values(active=False))
        await pick(pilot, "fay")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications))
        await settled(pilot)
        error = next(n for n in app._notifications if n.severity == "error")
        assert "fay is deactivated" in error.message
        assert app.screen.selected == {ids["free1"], ids["free2"]}
    assert owners(sqlite_db)[ids["free1"]] is None


def test_outcome_message_names_at_most_a_few_refusals():
    refused = [Refusal(id=n, number=f"INC-{n}", reason=f"INC-{n} is closed") for n in range(8)]
    outcome: EachOutcome[object] = EachOutcome(done=[object()], unchanged=[], refused=refused)
    title, text = outcome_message(outcome, verb="Moved", where="in the FS queue")
    assert title == "Moved 1 of 9"
    lines = text.splitlines()
    assert lines[:2] == ["1 incident in the FS queue now.", "Refused 8 (they stay selected):"]
    assert lines[2:8] == [f"INC-{n} is closed" for n in range(6)]
    assert lines[8] == "… and 2 more"
    other = Refusal(id=9, number="INC-9", reason="no such thing")
    _title, text = outcome_message(EachOutcome(refused=[other]), verb="Moved", where="x")
    assert text.splitlines()[-1] == "INC-9: no such thing"
