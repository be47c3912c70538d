"""The SMS sender's rate: N queued SMS (distinct numbers) through a real Kannel (bearerbox,
smsbox and the fake SMSC, as the tests start them) until the fake SMSC has them all.

Prints the sender's rate (gateway accepted), the rate until all arrived at the fake SMSC,
the median and p95 of one sendsms request, and the load average. Then what queuing one
message adds to the change that causes it, for a customer who prefers e-mail and one who
prefers SMS (the mobile number is looked up then): median and p95 of `outbox.queue`.

    .venv/bin/python benchmarks/bench_sms.py --count 2000 [--queue 300] [--db URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from tests.kannel import kannel_gateway  # noqa: E402

from cc_tui import clock  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Notification  # noqa: E402
from cc_tui.services.notify.sms import HttpGateway, SmsTarget, send_all_sms  # noqa: E402


class Timed(HttpGateway):
    """The gateway, timing each request."""

    def __init__(self, target: SmsTarget) -> None:
        super().__init__(target)
        self.times: list[float] = []

    def send(self, to: str, text: str) -> str:
        started = time.perf_counter()
        try:
            return super().send(to, text)
        finally:
            self.times.append(time.perf_counter() - started)


def _pcts(seconds: list[float]) -> str:
    ms = sorted(t * 1000 for t in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"median {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms"


def queuing(db: Database, runs: int) -> None:
    """What `outbox.queue` costs inside the change's transaction."""
    from tests import factories as f
    from tests.services.test_notify import _desk

    from cc_tui.models import Contact, Customer, Incident
    from cc_tui.services.context import actor_of, bootstrap_admin
    from cc_tui.services.notify import outbox

    with db.session() as s:
        agent = bootstrap_admin(s, "admin")
        assert agent is not None
        admin = actor_of(agent)
    _desk(db, admin)
    with db.session() as s:
        mailer = f.customer(s, "Mailer", email="mailer@example.com")
        texter = f.customer(s, "Texter", email="texter@example.com")
        texter.notify = "sms"
        person = Contact(
            customer_id=texter.id,
            name="Anna",
            search_name="anna",
            phone="+4930123456",
            phone_e164="+4930123456",
        )
        s.add(person)
        s.flush()
        ids = {"e-mail": (mailer.id, None), "SMS": (texter.id, person.id)}
    for label, (customer, contact) in ids.items():
        ref = f.register(db, admin, customer, contact_id=contact, caller_phone="0176 5550 1234")
        incident_id = int(ref.split("-")[1])
        times = []
        for k in range(runs):
            with db.session() as s:
                incident = s.get(Incident, incident_id)
                started = time.perf_counter()
                added = outbox.queue(s, incident, outbox.HANDED_OVER, detail=str(k))
                times.append(time.perf_counter() - started)
                assert added == 1
        with db.session() as s:
            assert s.get(Customer, customer) is not None
        print(f"{db.dialect}: queuing one {label} message: {_pcts(times)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--queue", type=int, default=300, help="queuing runs per channel")
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    db = Database(url)
    upgrade(db)
    now = clock.now()
    rows = [
        {
            "channel": "sms",
            "reason": "bench",
            "recipient": f"+49176{i:08d}",
            "body": f"Message {i}: your request is registered.",
            "status": "queued",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for i in range(args.count)
    ]
    with db.session() as s:
        s.execute(insert(Notification.__table__), rows)  # type: ignore[attr-defined]
    with kannel_gateway() as kannel:
        target = SmsTarget(url=kannel.url, user=kannel.user, password=kannel.password)
        transport = Timed(target)
        started = time.perf_counter()
        result = send_all_sms(db, transport, target)
        sent = time.perf_counter() - started
        kannel.wait_for(args.count, timeout=max(60.0, args.count / 10))
        arrived = time.perf_counter() - started
    print(
        f"{db.dialect}: {result.sent} SMS accepted in {sent:.1f} s = {result.sent / sent:.0f}/s; "
        f"all {args.count} at the fake SMSC after {arrived:.1f} s = {args.count / arrived:.0f}/s; "
        f"one request: {_pcts(transport.times)}; load average {os.getloadavg()[0]:.2f}"
    )
    if args.queue:
        queuing(db, args.queue)
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
