"""The sender's drain rate: N queued e-mails to a local SMTP server (aiosmtpd).

Target (issue 17): 10,000 queued e-mails drained at 200 or more per second.

    .venv/bin/python benchmarks/bench_notify.py --count 10000 [--db URL]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from cc_tui import clock  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Notification  # noqa: E402
from cc_tui.services.notify.sender import SmtpTarget, SmtpTransport, send_all  # noqa: E402

FROM = "desk@example.org"


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    db = Database(url)
    upgrade(db)
    now = clock.now()
    rows = [
        {
            "channel": "email",
            "reason": "bench",
            "recipient": f"customer{i}@example.com",
            "subject": f"Message {i}",
            "body": "Hello.\n",
            "status": "queued",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for i in range(args.count)
    ]
    with db.session() as s:
        s.execute(insert(Notification.__table__), rows)  # type: ignore[attr-defined]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        transport = SmtpTransport(SmtpTarget("127.0.0.1", port, "none", FROM))
        started = time.perf_counter()
        result = send_all(db, transport, sender=FROM)
        seconds = time.perf_counter() - started
    finally:
        controller.stop()
    print(
        f"{db.dialect}: {result.sent} sent ({counter.count} received) in {seconds:.1f} s = "
        f"{result.sent / seconds:.0f}/s"
    )


if __name__ == "__main__":
    main()
