"""The console's escalation watch: the sweep every minute and the alerts it brings (a toast
and a bell when one of mine, or my department's, turns warning or late).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from cc_tui.widgets.escalation_badge import LABEL

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from cc_tui.console.calls import Connection
    from cc_tui.console.messages import ChangeBatch
    from cc_tui.services.sla.escalation import Alert


# How often the console runs a sweep (seconds). Consoles on one PostgreSQL database do not
# double the work: a sweep that finds another one running returns at once.
SWEEP_SECONDS = 60.0


# Alerts that ring the bell; follow-up alerts only show a toast.
LOUD = ("warning", "late")


class AlertsArrived(Message):
    """Escalation alerts for the agent at the console, not shown yet."""

    def __init__(self, alerts: Sequence[Alert]) -> None:
        super().__init__()
        self.alerts = list(alerts)


def sweep_and_collect(connection: Connection, *, sweep: bool = True) -> list[Alert]:
    """Sweep until nothing is due (unless another console is at it); the unread alerts."""
    from cc_tui.services.sla.escalation import escalate_all, unread_alerts

    db = connection.db
    if sweep:
        escalate_all(db)
    with db.session(write=False) as session:
        return unread_alerts(session, agent_id=connection.actor.id)


class EscalationWatch:
    """The console's sweep loop (a thread worker) and the alerts it shows.

    Every `SWEEP_SECONDS` it runs a sweep and fetches the agent's unread alerts; an
    escalation committed elsewhere (another console, cron) wakes it early to fetch them.
    Shown alerts are marked read; an alert is never shown twice.
    """

    def __init__(self, app: App, connection: Connection) -> None:
        self.app = app
        self.connection = connection
        self._wake = threading.Event()
        self._posted: set[int] = set()

    def run(self) -> None:
        from cc_tui.errors import CcError

        worker = get_current_worker()
        sweep_due = 0.0
        failing = False
        while not worker.is_cancelled:
            now = time.monotonic()
            sweep = now >= sweep_due
            try:
                alerts = sweep_and_collect(self.connection, sweep=sweep)
            except CcError as error:
                if not failing:
                    self._call(self.app.log.warning, f"escalation sweep failed: {error.message}")
                failing = True
                alerts = []
            else:
                failing = False
            if sweep:
                sweep_due = now + SWEEP_SECONDS
            fresh = [a for a in alerts if a.id not in self._posted]
            if fresh and not worker.is_cancelled:
                self._posted.update(a.id for a in fresh)
                self.app.post_message(AlertsArrived(fresh))
            self._wake.clear()
            # Sleep until the next sweep, a poke, or the console closing.
            while not worker.is_cancelled and not self._wake.is_set():
                remaining = sweep_due - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.wait(min(0.5, remaining))

    def notice(self, batch: ChangeBatch) -> None:
        """An escalation was committed somewhere: fetch the alerts now."""
        if any(change.action == "escalation" for change in batch.changes):
            self._wake.set()

    def show(self, alerts: Sequence[Alert]) -> None:
        """Toast and bell, then mark the alerts read."""
        from cc_tui.console.calls import call_service
        from cc_tui.services.sla.escalation import mark_alerts_read

        ids = show_alerts(self.app, alerts)
        if ids:
            call_service(
                self.app,
                mark_alerts_read,
                on_result=lambda _count: None,
                write=True,
                group="escalation-read",
                exclusive=False,
                agent_id=self.connection.actor.id,
                ids=ids,
            )

    def _call(self, fn, *args) -> None:
        with contextlib.suppress(RuntimeError):  # the console is closing
            self.app.call_from_thread(fn, *args)


def show_alerts(app: App, alerts: Sequence[Alert]) -> list[int]:
    """A toast per alert, one bell for any warning or late one; returns the ids shown."""
    loud = False
    for alert in alerts:
        severity: SeverityLevel = "error" if alert.state == "late" else "warning"
        if alert.state not in LOUD:
            severity = "information"
        loud = loud or alert.state in LOUD
        # Titles come from customers: never markup.
        app.notify(
            alert.subject or alert.body,
            title=f"{alert.number}: {LABEL.get(alert.state, alert.state)}",
            severity=severity,
            timeout=20 if alert.state in LOUD else 8,
            markup=False,
        )
    if loud:
        app.bell()
    return [alert.id for alert in alerts]
