"""The escalation badge and the console's escalation watch (sweep, toasts, bell)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from textual.app import App, ComposeResult

from cc_tui.models import Agent, Incident, Notification
from cc_tui.widgets.escalation_badge import (
    BadgeClock,
    EscalationBadge,
    badge_clock,
    badge_text,
    badge_words,
    span_text,
)
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_the_clock_that_matters_now():
    due, resolve = NOW + timedelta(minutes=35), NOW + timedelta(days=2)
    assert badge_clock("on_time", response_due=due, resolve_due=resolve).clock == "response"
    answered = badge_clock("warning", response_due=due, resolve_due=resolve, first_response_at=NOW)
    assert (answered.clock, answered.due) == ("resolution", resolve)
    assert badge_clock("late", status="pending", response_due=due).paused
    assert badge_clock("late", status="solved", response_due=due).stopped
    assert badge_clock("bogus").state == "on_time"


def test_badge_words():
    left = BadgeClock("warning", NOW + timedelta(minutes=35), "response")
    assert badge_words(left, NOW) == "warning · response 35m left"
    assert badge_words(left, NOW, compact=True) == "warning 35m left"
    over = BadgeClock("late", NOW - timedelta(hours=2, minutes=10), "resolution")
    assert badge_words(over, NOW) == "late · resolution 2h10m overdue"
    assert badge_words(BadgeClock("late", paused=True), NOW) == "late · paused"
    assert badge_words(BadgeClock("on_time", stopped=True), NOW) == "on time"
    assert [span_text(timedelta(minutes=m)) for m in (0, 59, 60, 61, 1440, 1500)] == [
        "0m",
        "59m",
        "1h",
        "1h01m",
        "1d",
        "1d1h",
    ]


def test_a_deadline_missed_before_any_escalation_is_not_called_on_time():
    # A priority whose follow-up comes long after its response time.
    missed = BadgeClock("on_time", NOW - timedelta(hours=15, minutes=20), "response")
    assert badge_words(missed, NOW) == "response 15h20m overdue · not escalated yet"
    assert badge_words(missed, NOW, compact=True) == "response 15h overdue"
    cell = badge_text(missed, {"warning": "#ffaa00", "success": "#00ff00"}, NOW)
    assert (cell.plain, str(cell.style)) == ("response 15h overdue", "#ffaa00")
    # Still running: on time.
    running = BadgeClock("on_time", NOW + timedelta(minutes=5), "response")
    assert badge_text(running, {"success": "#00ff00"}, NOW).plain == "on time 5m left"


def test_table_cells_take_the_theme_colours():
    cell = badge_text(
        BadgeClock("late", NOW - timedelta(minutes=5), "response"),
        {"error": "#ff0000", "success": "#00ff00"},
        NOW,
    )
    assert cell.plain == "late 5m overdue"
    assert str(cell.style) == "bold #ff0000"


class BadgeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EscalationBadge(
            BadgeClock("late", datetime.now(UTC) - timedelta(hours=3), "response"), id="badge"
        )


async def test_the_badge_widget_is_coloured_by_state():
    app = BadgeApp()
    async with app.run_test() as pilot:
        badge = app.query_one("#badge", EscalationBadge)
        await pilot.pause()
        assert badge.has_class("-late")
        assert "late · response 3h overdue" in str(badge.render())
        badge.show(BadgeClock("on_time", datetime.now(UTC) + timedelta(minutes=90), "response"))
        await pilot.pause()
        assert badge.has_class("-on_time") and not badge.has_class("-late")
        assert "1h29m left" in str(badge.render()) or "1h30m left" in str(badge.render())


async def test_console_sweeps_and_rings_for_my_late_incident(sqlite_db, sqlite_admin):
    """The console's first sweep makes olga's overdue incident late: a toast and a bell,
    and the alert is read afterwards (not shown again)."""
    past = datetime.now(UTC) - timedelta(hours=1)
    with sqlite_db.session() as s:
        olga = Agent(login="olga", name="Olga", role="agent")
        s.add(olga)
        s.flush()
        incident = Incident(
            channel="phone",
            request_type="action",
            status="in_process",
            title="[@click=app.quit]Printer[/] on fire",
            created_by_id=sqlite_admin.id,
            owner_id=olga.id,
            registered_at=past - timedelta(hours=8),
            late_at=past,
            escalate_at=past,
        )
        s.add(incident)
        s.flush()
        number = f"INC-{incident.id}"
    app = console(sqlite_db, login="olga", escalation_watch=True)
    bells = []
    app.bell = lambda: bells.append(True)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await wait_until(pilot, lambda: bells)
        toasts = [n for n in app._notifications if n.title.startswith(number)]
        assert len(toasts) == 1
        assert toasts[0].title == f"{number}: late"
        assert "[@click=app.quit]Printer[/]" in toasts[0].message
        assert toasts[0].severity == "error"

        def read() -> bool:
            with sqlite_db.session(write=False) as s:
                statuses = s.scalars(
                    select(Notification.status).where(Notification.channel == "alert")
                ).all()
            return statuses == ["read"]

        await wait_until(pilot, read)
        # another wake-up finds nothing new to show
        app.escalation_watch._wake.set()
        # The watch clears the wake-up once it has fetched (and posted) the alerts.
        await wait_until(pilot, lambda: not app.escalation_watch._wake.is_set())
        await settled(pilot)
        assert len([n for n in app._notifications if n.title.startswith(number)]) == 1
        assert len(bells) == 1


async def test_the_console_runs_no_sweep_with_the_watch_turned_off(sqlite_db, sqlite_admin):
    """`escalation_watch = false` (here from CC_TUI_ESCALATION_WATCH): no sweep worker."""
    app = console(sqlite_db)
    assert app.settings.escalation_watch is False
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.escalation_watch is None
        assert not [w for w in app.workers if w.group == "escalation"]
