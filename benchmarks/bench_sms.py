"""The SMS sender's rate: N queued SMS (distinct numbers) through a real Kannel (bearerbox,
smsbox and the fake SMSC, as the tests start them) until the fake SMSC has them all.

Prints the sender's rate (gateway accepted), the rate until all arrived at the fake SMSC,
the median and p95 of one sendsms request, and the load average.

    .venv/bin/python benchmarks/bench_sms.py --count 2000 [--db URL]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
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
    ms = sorted(t * 1000 for t in transport.times)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"{db.dialect}: {result.sent} SMS accepted in {sent:.1f} s = {result.sent / sent:.0f}/s; "
        f"all {args.count} at the fake SMSC after {arrived:.1f} s = {args.count / arrived:.0f}/s; "
        f"one request: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
