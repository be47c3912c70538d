"""Opening an incident whose timeline holds 5,000 events, on SQLite and PostgreSQL.

What is timed is what the incident screen does when it opens: one read transaction with
the summary (incident, names, deadlines, booked time, running timers, counts per kind) and
the first page of 50 events, newest first. Also timed: the next page (keyset on the event
id) and the first page of the customer-contact filter.

The database holds 40 incidents with 5,000 events each (200,000 events), so the
incident's events are found by index among many, not by scanning a small table.

    .venv/bin/python benchmarks/bench_timeline.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/bench_timeline.py --runs 200 --json
    .venv/bin/python benchmarks/bench_timeline.py --no-pg

Target: first screen of events p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 100.0
PAGE = 50
PG_ADMIN_URL = os.environ.get(
    "CC_TUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def build(db, *, incidents: int, events: int) -> str:
    """Migrate, then write `incidents` incidents with `events` events each; returns the
    number of the one that is opened (in the middle, not the newest)."""
    from sqlalchemy import insert, select
    from tests import factories as f

    from cc_tui.clock import now as utcnow
    from cc_tui.db.migrate import upgrade
    from cc_tui.models import Event, EventType
    from cc_tui.services.context import actor_of, bootstrap_admin
    from cc_tui.services.incidents.intake import IntakeForm, save_call
    from cc_tui.services.incidents.timetrack import book_time, start_timer

    upgrade(db)
    numbers = []
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "bench"))
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        customer = f.customer(s, "Bench Customer")
        contact = f.contact(s, customer, "Bench Contact")
        types = dict(s.execute(select(EventType.code, EventType.id)).all())
        for i in range(incidents):
            numbers.append(
                save_call(
                    s,
                    actor=admin,
                    channel="phone",
                    form=IntakeForm(
                        request_type="action",
                        customer_id=customer.id,
                        title=f"Bench incident {i}",
                        reason="HW/DISK",
                    ),
                ).number
            )
    cycle = ["Note", "CallIn", "CallOut", "EmailIn", "EmailOut", "Dispatch", "FieldChange"]
    start = utcnow() - timedelta(days=30)
    for number in numbers:
        incident_id = int(number.split("-")[1])
        rows = []
        for n in range(events - 3):  # intake wrote 3 already
            code = cycle[n % len(cycle)]
            system = code == "FieldChange"
            rows.append(
                {
                    "incident_id": incident_id,
                    "event_type_id": types[code],
                    "kind": "system" if system else "user",
                    "at": start + timedelta(minutes=n),
                    "author_id": admin.id,
                    "text": f"{code} number {n}: the customer reports the printer jams again",
                    "contact_id": contact.id if code in ("CallIn", "CallOut") else None,
                    "data": {"field": "title", "from": "a", "to": "b"} if system else None,
                }
            )
        with db.session() as s:
            s.execute(insert(Event), rows)
    opened = numbers[len(numbers) // 2]
    with db.session() as s:
        for _ in range(10):
            book_time(s, actor=admin, ref=opened, minutes=12, note="bench")
        start_timer(s, actor=admin, ref=opened)
    if not db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return opened


def measure(db, ref: str, runs: int) -> dict:
    from cc_tui.services.incidents.timeline import incident_summary, timeline

    def first_screen():
        with db.session(write=False) as s:
            summary = incident_summary(s, ref=ref)
            page = timeline(s, ref=ref, newest_first=True, limit=PAGE)
        assert len(page.events) == PAGE and summary.counts["all"] > PAGE
        return page

    page = first_screen()

    def next_page():
        with db.session(write=False) as s:
            timeline(s, ref=ref, newest_first=True, limit=PAGE, after=page.next_after)

    def contacts():
        with db.session(write=False) as s:
            timeline(s, ref=ref, kind="contact", newest_first=True, limit=PAGE)

    results = {}
    for name, fn in (
        ("first_screen", first_screen),
        ("next_page", next_page),
        ("contacts", contacts),
    ):
        for _ in range(5):  # warm the pool and the caches
            fn()
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        results[name] = {
            "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 2),
            "max_ms": round(samples[-1], 2),
        }
    return results


def run_sqlite(args) -> dict:
    from cc_tui.db.engine import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        t0 = time.perf_counter()
        ref = build(db, incidents=args.incidents, events=args.events)
        built = time.perf_counter() - t0
        result = measure(db, ref, args.runs)
        db.dispose()
    return {"build_s": round(built, 1), **result}


def run_postgres(args) -> dict | None:
    import psycopg

    from cc_tui.db.engine import Database, parse_url

    admin = parse_url(PG_ADMIN_URL)
    plain = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cct_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL skipped: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return None
    db = Database(admin.set(database=name).render_as_string(hide_password=False))
    try:
        t0 = time.perf_counter()
        ref = build(db, incidents=args.incidents, events=args.events)
        built = time.perf_counter() - t0
        result = measure(db, ref, args.runs)
    finally:
        db.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"build_s": round(built, 1), **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--events", type=int, default=5000, help="events per incident")
    parser.add_argument("--incidents", type=int, default=40)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    report = {
        "events_per_incident": args.events,
        "incidents": args.incidents,
        "runs": args.runs,
        "target_p95_ms": TARGET_MS,
        "sqlite": run_sqlite(args),
    }
    if not args.no_pg:
        report["postgresql"] = run_postgres(args)
    ok = all(
        r["first_screen"]["p95_ms"] < TARGET_MS
        for key in ("sqlite", "postgresql")
        if (r := report.get(key))
    )
    report["ok"] = ok
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"incident with {args.events} events ({args.incidents} such incidents), "
            f"{args.runs} runs"
        )
        for key in ("sqlite", "postgresql"):
            r = report.get(key)
            if not r:
                continue
            print(f"{key} (built in {r['build_s']} s)")
            for what in ("first_screen", "next_page", "contacts"):
                m = r[what]
                print(
                    f"  {what:<13} median {m['median_ms']:7.2f} ms   p95 {m['p95_ms']:7.2f} ms"
                    f"   max {m['max_ms']:7.2f} ms"
                )
        print(f"target: first screen p95 < {TARGET_MS:.0f} ms: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
