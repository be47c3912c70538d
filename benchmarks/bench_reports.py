"""Reports over a year of a large database: each report's seconds, grouped.

Target: every report for a year, grouped, under 2 s on SQLite and on PostgreSQL with
1,000,000 incidents (p95 of the runs), the business clock included. The database comes
from `cc-tui demo --incidents N` (the bulk loader: about two minutes for a million on
SQLite) and is kept between runs: the SQLite file in `benchmarks/results/`, the
PostgreSQL database `cctui_bench_reports_N` (`--rebuild` starts over; an existing
database is only upgraded to the current schema, and the demo loader tops it up if it has
fewer incidents). The year is the 365 days before the newest contact.

Each case runs `--runs` times after one warm-up run, each in its own read transaction, as
the Reports screen's worker and `cc-tui report ... --json` do. Printed: median, p95 and
max seconds, and the load average (the machine may be shared).

    .venv/bin/python benchmarks/bench_reports.py --only sqlite
    .venv/bin/python benchmarks/bench_reports.py --incidents 100000 --json
    .venv/bin/python benchmarks/bench_reports.py --only postgresql --case backlog --case agents
    .venv/bin/python benchmarks/bench_reports.py --only postgresql --pg-database my_copy --screen
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CC_TUI, drop_pg, log, pg_url  # noqa: E402

TARGET_S = 2.0
CASES = (
    ("volume by channel per day", "volume", {"by": "channel", "unit": "day"}),
    ("volume by agent per month", "volume", {"by": "agent", "unit": "month"}),
    ("times by priority (wall)", "times", {"by": "priority"}),
    ("times by agent (wall)", "times", {"by": "agent"}),
    ("times by department (wall)", "times", {"by": "department"}),
    ("times by priority (business)", "times", {"by": "priority", "clock": "business"}),
    ("times by agent (business)", "times", {"by": "agent", "clock": "business"}),
    ("agents", "agents", {}),
    ("conversion by reason per month", "conversion", {"by": "reason", "unit": "month"}),
    ("sla", "sla", {}),
    ("backlog", "backlog", {}),
    ("kb", "kb", {}),
)


def database(dialect: str, incidents: int, rebuild: bool, pg_database: str | None = None) -> str:
    name = f"cctui_bench_reports_{incidents}"
    if dialect == "sqlite":
        path = ROOT / "benchmarks" / "results" / f"{name}.sqlite3"
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = pg_database or name
        if rebuild:
            drop_pg(name)
        url = pg_url(name)
    # A new database needs its schema (and first admin) before the demo loads; a kept one
    # is brought up to the current schema.
    subprocess.run(
        [str(CC_TUI), "--db", url, "--as", "admin", "db", "upgrade"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(f"{dialect}: topping up to {incidents} incidents (cc-tui demo) ...")
    subprocess.run(
        [str(CC_TUI), "--db", url, "--as", "admin", "demo", "--incidents", str(incidents)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if dialect == "postgresql":
        vacuum(url)
    return url


def vacuum(url: str) -> None:
    """VACUUM (ANALYZE) the tables the reports read. A database in use has long been
    vacuumed by autovacuum, its pages marked all-visible, so its index-only scans read no
    table page; a freshly loaded (or copied) one has not: each index entry would be
    checked in the table. A vacuumed database needs only a few seconds."""
    import psycopg

    from cc_tui.db.engine import parse_url

    dsn = parse_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    log("postgresql: VACUUM (ANALYZE) incident, event, time_entry ...")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("incident", "event", "time_entry"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def summary(seconds: list[float], cpu: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "n": len(ordered),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
        # This process's CPU seconds: on SQLite all of the report's work, on PostgreSQL
        # only the client's. On a busy machine it is what the wall clock would be alone.
        "cpu_median_s": round(statistics.median(cpu), 3),
    }


def measure(url: str, runs: int, only: list[str]) -> dict[str, dict[str, float]]:
    from sqlalchemy import func, select

    from cc_tui.db.engine import Database
    from cc_tui.models import Incident
    from cc_tui.services.reports import figures, times

    db = Database(url)
    with db.session(write=False) as s:
        newest = s.execute(select(func.max(Incident.opened_at))).scalar_one()
        count = s.execute(select(func.count()).select_from(Incident)).scalar_one()
    log(f"  {count:,} incidents")
    newest = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
    end = (newest + timedelta(days=1)).date()
    first = end - timedelta(days=365)
    out: dict[str, dict[str, float]] = {}
    for label, kind, options in CASES:
        if only and not any(o in label for o in only):
            continue
        fn = times.times if kind == "times" else getattr(figures, kind)
        seconds, cpu = [], []
        for _ in range(runs + 1):
            with db.session(write=False) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                fn(s, first=first.isoformat(), end=end.isoformat(), zone=UTC, **options)
                seconds.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        out[label] = summary(seconds[1:], cpu[1:])
        r = out[label]
        verdict = "ok" if r["p95_s"] < TARGET_S else "OVER"
        log(
            f"  {label:<32} median {r['median_s']:7.3f} s  p95 {r['p95_s']:7.3f} s  "
            f"max {r['max_s']:7.3f} s  cpu {r['cpu_median_s']:6.3f} s  {verdict}  "
            f"(load {os.getloadavg()[0]:.1f})"
        )
    db.dispose()
    return out


SCREEN_CASES = (
    ("volume", "request_type"),
    ("times", "priority"),
    ("agents", None),
    ("backlog", None),
)


def measure_screen(url: str, runs: int) -> dict[str, dict[str, float]]:
    """The Reports screen (F7) in a headless console at 120x35: a year entered as a custom
    period, then the seconds until its chart and table are drawn, per report."""
    import asyncio

    from sqlalchemy import func, select

    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp
    from cc_tui.db.engine import Database
    from cc_tui.models import Incident

    db = Database(url)
    with db.session(write=False) as s:
        newest = s.execute(select(func.max(Incident.opened_at))).scalar_one()
    db.dispose()
    newest = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
    end = (newest + timedelta(days=1)).date()
    first = end - timedelta(days=365)
    settings = load_settings(database_url=url, agent="admin", timezone="UTC", poll_seconds=5)

    async def until(predicate, timeout: float = 300.0) -> None:
        # A plain sleep between looks: Pilot.pause walks every widget's message queue and
        # refreshes the screen each time, which at 100 looks a second took a third of a
        # core from the console it measures (the worker's report included).
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise TimeoutError("the Reports screen did not finish")
            await asyncio.sleep(0.01)

    async def run() -> dict[str, dict[str, float]]:
        from textual.widgets import Input, Select

        app = CcTuiApp(settings=settings, start_mode="reports")
        out: dict[str, dict[str, float]] = {}
        async with app.run_test(size=(120, 35)) as pilot:
            screen = app.screen
            await until(lambda: screen.report is not None and not screen.busy)
            screen.query_one("#rp-period", Select).value = "custom"
            await pilot.pause()
            screen.query_one("#rp-from", Input).value = first.isoformat()
            screen.query_one("#rp-to", Input).value = end.isoformat()
            for kind, by in SCREEN_CASES:
                seconds, cpu = [], []
                for _ in range(runs + 1):
                    with screen.prevent(Select.Changed):
                        screen.query_one("#rp-report", Select).value = kind
                    screen._groupings(kind)
                    if by:
                        with screen.prevent(Select.Changed):
                            screen.query_one("#rp-by", Select).value = by
                    t0, c0 = time.perf_counter(), time.process_time()
                    screen.action_run()
                    await until(
                        lambda k=kind: (
                            not screen.busy
                            and screen.report.kind == k
                            and screen.report.from_ == first.isoformat()
                        ),
                    )
                    await pilot.pause()  # the chart's and table's first paint
                    seconds.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                label = f"screen: {kind} for a year"
                out[label] = summary(seconds[1:], cpu[1:])
                r = out[label]
                log(
                    f"  {label:<32} median {r['median_s']:7.3f} s  p95 {r['p95_s']:7.3f} s  "
                    f"max {r['max_s']:7.3f} s  (load {os.getloadavg()[0]:.1f})"
                )
        return out

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--case", action="append", default=[], help="run the cases whose name contains this"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--screen", action="store_true", help="also time the Reports screen's chart (F7)"
    )
    parser.add_argument(
        "--pg-database",
        help="the PostgreSQL database to use instead of cctui_bench_reports_N "
        "(e.g. a copy: CREATE DATABASE copy TEMPLATE cctui_bench_reports_1000000)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rebuild and args.pg_database:
        # --rebuild drops the database: only the benchmark's own.
        parser.error("--rebuild starts cctui_bench_reports_N over; it never drops --pg-database")
    results: dict = {}
    for dialect in ("sqlite", "postgresql"):
        if args.only and dialect != args.only:
            continue
        url = database(dialect, args.incidents, args.rebuild, args.pg_database)
        log(f"{dialect}: {args.incidents:,} incidents, a year of reports, load average "
            f"{[round(x, 1) for x in os.getloadavg()]}")  # fmt: skip
        results[dialect] = {
            "load_average_before": [round(x, 1) for x in os.getloadavg()],
            "cases": measure(url, args.runs, args.case),
        }
        if args.screen:
            results[dialect]["cases"].update(measure_screen(url, args.runs))
        results[dialect]["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    ok = all(case["p95_s"] < TARGET_S for r in results.values() for case in r["cases"].values())
    if args.json:
        print(json.dumps({"target_s": TARGET_S, "ok": ok, **results}, indent=2))
    else:
        print(f"every report under {TARGET_S:g} s (p95): {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
