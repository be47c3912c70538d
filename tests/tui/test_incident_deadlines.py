"""The incident screen's escalation badge and deadlines: how they were computed (`d`), and
set by hand by a supervisor (`D`), on SQLite and PostgreSQL for the writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.incidents.intake import IntakeForm, save_call
from tests import factories as f
from tests.tui.test_incident_screen import (
    incident_row,
    make_app,
    open_detail,
    shown_text,
    summary_text,
    wait_for,
)

pytestmark = pytest.mark.tui

SIZE = (120, 40)
BY_HAND = "2030-01-02 10:00"


def build(db) -> dict:
    """An action request on a 24/7 priority: every deadline is set from the registration."""
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, admin)
        prio = f.priority(s, "P2", rank=2, default=True)
        prio.basis = "all"
        prio.response_minutes, prio.follow_up_minutes, prio.warning_minutes = 60, 120, 240
        prio.late_minutes, prio.resolve_minutes = 480, 960
        acme = f.customer(s, "Acme", number="K-00001")
        f.agent(s, "bob")
        result = save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action", customer_id=acme.id, title="Disk full", reason="HW/DISK"
            ),
        )
    return {"db": db, "url": db.url.render_as_string(hide_password=False), "id": result.id}


@pytest.fixture
def timed(sqlite_db):
    return build(sqlite_db)


@pytest.fixture
def timed_on_both(db):
    return build(db)


def panel_text(screen) -> str:
    return str(screen.query_one("#deadline-panel").render())


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


async def test_the_badge_shows_the_time_left_and_counts_on(timed, monkeypatch):
    due = incident_row(timed["db"], timed["id"]).response_due
    clock = f.fake_clock(monkeypatch, due - timedelta(minutes=35))
    app = make_app(timed["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, timed["id"])
        assert "Escalation on time · response 35m left" in summary_text(screen)
        clock.now = due + timedelta(hours=2, minutes=10)
        screen._tick()  # the screen's clock, without waiting for it
        assert "response 2h10m overdue" in summary_text(screen)


async def test_d_shows_how_each_deadline_was_computed(timed):
    row = incident_row(timed["db"], timed["id"])
    app = make_app(timed["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, timed["id"])
        panel = screen.query_one("#deadline-panel")
        assert not panel.display
        await pilot.press("d")
        await wait_for(pilot, lambda: panel.display, "the deadlines panel")
        text = panel_text(screen)
        assert (
            f"All hours count (24/7); counted from the registration {when(row.registered_at)}"
            in text
        )
        assert f"Response due: {when(row.response_due)} · 1h working time (priority P2)" in text
        assert f"Resolve due: {when(row.resolve_due)} · 16h working time (priority P2)" in text
        assert "d hide deadlines" in str(screen.query_one("#incident-steps").render())
        await pilot.press("d")
        assert not panel.display


async def test_a_supervisor_sets_deadlines_by_hand_and_back(timed_on_both):
    """Runs on SQLite and on PostgreSQL."""
    world = timed_on_both
    computed = incident_row(world["db"], world["id"])
    app = make_app(world["url"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("D")
        await wait_for(pilot, lambda: app.screen.query("#response_due"), "the deadlines dialog")
        dialog = app.screen
        assert dialog.query_one("#response_due").value == when(computed.response_due)
        await pilot.press("ctrl+u", *BY_HAND, "tab", "ctrl+u", *"soon", "ctrl+s")
        error = dialog.query_one("#follow_up_at-error")
        await wait_for(pilot, lambda: "not a time: 'soon'" in str(error.render()), "the refusal")
        assert app.screen is dialog  # nothing typed is lost
        assert dialog.query_one("#response_due").value == BY_HAND
        assert app.focused is dialog.query_one("#follow_up_at")
        await pilot.press("ctrl+u", "ctrl+s")  # empty: no follow-up at all
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
        await wait_for(pilot, lambda: "set by hand" in summary_text(screen), "the manual mark")
        assert f"Response due {BY_HAND}" in summary_text(screen)
        await wait_for(pilot, lambda: "(set by hand)" in shown_text(screen), "the timeline")
        assert "2030-01-02 10:00 UTC (set by hand)" in shown_text(screen)
        row = incident_row(world["db"], world["id"])
        assert row.deadlines_manual
        assert (row.response_due, row.follow_up_at) == (
            datetime(2030, 1, 2, 10, 0, tzinfo=UTC),
            None,
        )
        assert row.warning_at == computed.warning_at  # untouched fields stay as they were

        await pilot.press("D")
        await wait_for(pilot, lambda: app.screen.query("#response_due"), "the dialog again")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen is screen, "the dialog to close")
        await wait_for(
            pilot, lambda: "set by hand" not in summary_text(screen), "the computed deadlines"
        )
        assert f"Response due {when(computed.response_due)}" in summary_text(screen)
    row = incident_row(world["db"], world["id"])
    assert not row.deadlines_manual
    assert (row.response_due, row.follow_up_at) == (computed.response_due, computed.follow_up_at)


async def test_a_stale_version_shows_the_conflict_in_the_dialog(timed):
    from cc_tui.services.sla.deadlines import set_deadlines

    app = make_app(timed["url"])
    async with app.run_test(size=SIZE) as pilot:
        await open_detail(pilot, timed["id"])
        await pilot.press("D")
        await wait_for(pilot, lambda: app.screen.query("#response_due"), "the deadlines dialog")
        dialog = app.screen
        # Someone else changes the incident after the dialog read it.
        with timed["db"].session() as s:
            sue = f.agent(s, "sue", role="supervisor")
            set_deadlines(s, actor=sue, ref=timed["id"], late_at=None)
        await pilot.press("ctrl+u", *BY_HAND, "ctrl+s")
        error = dialog.query_one("#form-error")
        await wait_for(pilot, lambda: "since you read it" in str(error.render()), "the conflict")
        assert app.screen is dialog
        assert dialog.query_one("#response_due").value == BY_HAND


async def test_a_plain_agent_is_refused(timed):
    app = make_app(timed["url"], login="bob")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot, timed["id"])
        await pilot.press("D")
        message = screen.query_one("#incident-message")
        await wait_for(
            pilot,
            lambda: (
                "only a supervisor or admin may set deadlines by hand (you are bob, agent)"
                in str(message.render())
            ),
            "the refusal",
        )
        assert app.screen is screen
        # Agents still see how the deadlines were computed.
        await pilot.press("d")
        assert "Response due:" in panel_text(screen)
        assert "sets them by hand" not in str(screen.query_one("#deadline-panel").border_subtitle)
    assert not incident_row(timed["db"], timed["id"]).deadlines_manual


async def test_a_late_deadline_set_by_hand_in_the_past_reads_overdue(timed, monkeypatch):
    """Late because a supervisor moved the late deadline into the past, with the response
    still two days away: the badge counts from the late deadline, never "late 2d left"."""
    from sqlmodel import select

    from cc_tui.models import Agent
    from cc_tui.services.sla.deadlines import set_deadlines
    from cc_tui.services.sla.escalation import escalate_all

    now = incident_row(timed["db"], timed["id"]).opened_at + timedelta(hours=5)
    f.fake_clock(monkeypatch, now)
    with timed["db"].session() as s:
        admin = actor_of(s.exec(select(Agent).where(Agent.login == "admin")).one())
        set_deadlines(
            s,
            actor=admin,
            ref=timed["id"],
            response_due=now + timedelta(days=2),
            late_at=now - timedelta(hours=3),
        )
    escalate_all(timed["db"], at=now)
    assert incident_row(timed["db"], timed["id"]).escalation == "late"
    app = make_app(timed["url"])
    async with app.run_test(size=SIZE) as pilot:
        from tests.tui.conftest import settled

        await wait_for(pilot, lambda: app.connection is not None, "the database")
        await settled(pilot)
        table = app.screen.query_one("#incident-table")
        cells = [str(c) for c in table.get_row_at(0)]
        assert "late 3h overdue" in cells
        screen = await open_detail(pilot, timed["id"])
        assert "late · late deadline 3h overdue" in summary_text(screen)
        assert "left" not in summary_text(screen).split("Escalation")[1].split("\n")[0]
