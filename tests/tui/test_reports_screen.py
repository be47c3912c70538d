"""The Reports mode (Pilot): a report for this week as a table with bars, another report and
grouping picked, an export, an agent's own figures only, and a snapshot."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable, Select

from cc_tui.models import Agent, Incident
from cc_tui.services.context import bootstrap_admin
from tests.factories import fake_clock
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = pytest.mark.tui

# Thursday; "this week" is Monday 2026-03-02 to Monday 2026-03-09.
NOW = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
CONTACTS = (  # channel, request type, status, owner, days after Monday
    ("phone", "action", "closed", "maria", 0),
    ("phone", "information", "solved", "maria", 1),
    ("email", "action", "assigned", "tom", 1),
    ("phone", "comment", "registered", None, 2),
    ("phone", "action", "abandoned", None, 3),
    ("web", "action", "closed", "tom", -3),  # last week
)


@pytest.fixture
def week(sqlite_db, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    fake_clock(monkeypatch, NOW)
    with sqlite_db.session() as s:
        build_week(s)
    return sqlite_db


def build_week(s) -> None:
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    admin = bootstrap_admin(s, "admin")
    people = {login: Agent(login=login, name=login.title()) for login in ("maria", "tom")}
    s.add_all(people.values())
    s.flush()
    for n, (channel, kind, status, owner, days) in enumerate(CONTACTS):
        opened = monday + timedelta(days=days, minutes=n)
        saved = status != "abandoned"
        s.add(
            Incident(
                channel=channel,
                request_type=kind,
                status=status,
                title=f"Contact {n}",
                created_by_id=people[owner].id if owner else admin.id,
                owner_id=people[owner].id if owner else None,
                opened_at=opened,
                registered_at=opened + timedelta(minutes=1) if saved else None,
                solved_at=opened + timedelta(hours=2) if status in ("solved", "closed") else None,
                closed_at=opened + timedelta(hours=3) if status == "closed" else None,
            )
        )


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_reports(pilot):
    from cc_tui.screens.reports import ReportsScreen

    app = pilot.app
    await signed_in(pilot)
    await pilot.press("f7")
    await wait_until(pilot, lambda: isinstance(app.screen, ReportsScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.report is not None and not screen.busy)
    return screen


async def test_this_weeks_volume_then_agents_and_an_export(week, tmp_path):
    app = console(week)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        table = screen.query_one("#rp-table", DataTable)
        # Every contact of this week by request type and day, the abandoned call too.
        rows = {(r[0], r[1]): r[2] for r in cells(table)}
        assert rows == {
            ("action", "2026-03-02"): "1",
            ("information", "2026-03-03"): "1",
            ("action", "2026-03-03"): "1",
            ("comment", "2026-03-04"): "1",
            ("action", "2026-03-05"): "1",
        }
        assert screen.report.extra["total"] == 5
        screen.query_one("#rp-by", Select).value = "channel"
        await wait_until(pilot, lambda: screen.report.extra.get("by") == "channel")
        await wait_until(pilot, lambda: not screen.busy)
        phone = [int(r[2]) for r in cells(table) if r[0] == "phone"]
        assert sum(phone) == 4 and len(phone) == 4  # one a day, Monday to Thursday
        # Volume over the days of the week: a line per channel.
        assert screen.chart.kind == "line"
        assert screen.chart.labels == [f"2026-03-0{d}" for d in (2, 3, 4, 5)]
        assert screen.chart.series["phone"] == [1.0, 1.0, 1.0, 1.0]
        assert screen.chart.series["email"] == [0.0, 1.0, 0.0, 0.0]
        screen.query_one("#rp-report", Select).value = "agents"
        await wait_until(pilot, lambda: screen.report.kind == "agents" and not screen.busy)
        by_agent = {r[0]: r for r in cells(table)}
        # registered, handled, solved, closed
        assert by_agent["maria"][1:5] == ["2", "0", "2", "1"]
        # The chart above the table: a bar per agent, registered incidents.
        assert screen.chart.kind == "bar"
        assert dict(zip(screen.chart.labels, screen.chart.series["registered"], strict=True)) == {
            "admin": 1.0,
            "maria": 2.0,
            "tom": 1.0,
        }
        await pilot.press("c")
        out = tmp_path / "report-agents-2026-03-02-2026-03-09.csv"
        status = screen.query_one("#rp-status")
        await wait_until(pilot, lambda: out.exists() and "wrote" in str(status.render()))
        with out.open(newline="") as f:
            lines = list(csv.reader(f))
        assert lines[0][:2] == ["group", "registered"]
        assert {line[0] for line in lines[1:]} == set(by_agent)


async def test_last_week_and_an_agent_sees_their_own(week):
    app = console(week, login="tom")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        screen.query_one("#rp-period", Select).value = "last week"
        await wait_until(pilot, lambda: screen.report.from_ == "2026-02-23" and not screen.busy)
        assert screen.report.extra["total"] == 1
        screen.query_one("#rp-report", Select).value = "agents"
        await wait_until(pilot, lambda: screen.report.kind == "agents" and not screen.busy)
        table = screen.query_one("#rp-table", DataTable)
        assert [r[0] for r in cells(table)] == ["tom"]
        assert screen.chart.labels == ["tom"]


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
async def test_every_choice_is_in_sight(week, size):
    """Report, grouping, period and its days are all on the screen: in one row where they
    fit, else in two (what above when); none runs off to the right."""
    app = console(week)
    async with app.run_test(size=size) as pilot:
        screen = await open_reports(pilot)
        choices = ["#rp-report", "#rp-by", "#rp-period", "#rp-from", "#rp-to"]

        def laid_out() -> bool:
            # The narrow class is set on the first resize; its layout follows a refresh later.
            return all(
                screen.region.contains_region(screen.query_one(name).region) for name in choices
            )

        await wait_until(pilot, laid_out)
        regions = {name: screen.query_one(name).region for name in choices}
        for name, region in regions.items():
            assert screen.region.contains_region(region), (name, region, size)
        rows = {name: region.y for name, region in regions.items()}
        if size[0] < 106:
            assert rows["#rp-report"] == rows["#rp-by"] < rows["#rp-period"]
            assert rows["#rp-period"] == rows["#rp-from"] == rows["#rp-to"]
        else:
            assert len(set(rows.values())) == 1
        # Every choice takes the keyboard, in the order it is read (the days once the
        # period is custom).
        assert app.focused is screen.query_one("#rp-report")
        for name in ("#rp-by", "#rp-period"):
            await pilot.press("tab")
            await wait_until(pilot, lambda name=name: app.focused is screen.query_one(name))
        screen.query_one("#rp-period", Select).value = "custom"
        await wait_until(pilot, lambda: app.focused is screen.query_one("#rp-from"))
        await pilot.press("tab")
        await wait_until(pilot, lambda: app.focused is screen.query_one("#rp-to"))


async def test_a_long_report_keeps_the_screen_responsive(week, monkeypatch):
    """While a report is computed the chart and table show a loading indicator and the
    screen takes keys; the figures arrive when the worker is done."""
    import threading

    from textual.widgets import LoadingIndicator

    from cc_tui.services.reports import run

    release, started = threading.Event(), threading.Event()
    real = run.run_report

    def held(session, **arguments):
        # The real report, held back until the test lets it go: a long report.
        started.set()
        release.wait(60)
        return real(session, **arguments)

    app = console(week)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        monkeypatch.setattr(run, "run_report", held)
        try:
            screen.query_one("#rp-report", Select).value = "backlog"
            await wait_until(pilot, started.is_set)
            assert screen.busy
            for name in ("#rp-chart", "#rp-table"):
                widget = screen.query_one(name)
                # Textual draws the indicator over the widget (a cover, not a child).
                await wait_until(
                    pilot, lambda w=widget: isinstance(w._cover_widget, LoadingIndicator)
                )
                assert widget.loading
            assert "computing backlog" in str(screen.query_one("#rp-status").render())
            # Keys still work: focus moves over the choices and back.
            before = app.focused
            await pilot.press("tab")
            await wait_until(pilot, lambda: app.focused is not before)
            await pilot.press("shift+tab")
            await wait_until(pilot, lambda: app.focused is before)
            assert screen.busy and screen.report.kind == "volume"
        finally:
            release.set()
        await wait_until(pilot, lambda: screen.report.kind == "backlog" and not screen.busy)
        assert not screen.query_one("#rp-chart").loading
        assert screen.chart.kind == "line"
        assert screen.chart.labels[0] == "2026-03-02"


def test_snapshot_of_the_reports_mode(snap_compare, tmp_path, monkeypatch):
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade

    # A relative path, so the header names the same database on every machine.
    monkeypatch.chdir(tmp_path)
    fake_clock(monkeypatch, NOW)
    url = "sqlite:///reports.sqlite3"
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        build_week(session)
    db.dispose()
    settings = load_settings(database_url=url, agent="admin", timezone="UTC", poll_seconds=0.2)
    app = CcTuiApp(settings=settings, start_mode="reports")

    async def loaded(pilot) -> None:
        await signed_in(pilot)
        screen = app.screen
        await wait_until(pilot, lambda: screen.report is not None and not screen.busy)
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_a_count_axis_has_whole_numbers_that_fit_its_rows():
    from cc_tui.screens.reports import count_ticks

    assert count_ticks(17, 7) == [0, 5, 10, 15]  # 120x35: about one every two rows
    assert count_ticks(17, 2) == [0, 17]  # 80x24: the bottom and the top
    assert count_ticks(4, 20) == [0, 1, 2, 3, 4]
    assert count_ticks(1234, 10) == [0, 500, 1000]
    assert count_ticks(0, 7) == [0]
    for top in range(0, 300, 7):
        for rows in range(1, 30):
            ticks = count_ticks(top, rows)
            assert len(ticks) <= max((rows + 1) // 2 + 1, 2) and ticks[-1] <= top
