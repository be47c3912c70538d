"""Loading the demo data set at scale: `cc-tui demo --customers M` then `--incidents N`.

Target (issue 2): 1,000,000 incidents, each with its timeline, load in under 5 minutes on
SQLite and on PostgreSQL on the 2-core machine. The script makes a fresh SQLite file and a
fresh PostgreSQL database, runs the real command line (`db upgrade`, then `demo
--customers`, then `demo --incidents`, each timed), checks the result and reports seconds
and rows per second. The customers step is timed on its own; the target is the incidents.

Without `--keep` both databases are removed afterwards. With `--keep` they stay as the
ready-made large database other benchmarks can reuse (they reuse a database that already
holds enough rows):

    .venv/bin/python benchmarks/bench_demo.py                      # 1M incidents, 200k customers
    .venv/bin/python benchmarks/bench_demo.py --keep               # ... and keep both databases
    .venv/bin/python benchmarks/bench_demo.py --only sqlite --incidents 100000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import text  # noqa: E402

from cc_tui.db.engine import Database, parse_url  # noqa: E402

TARGET_SECONDS = 300.0
CC_TUI = Path(sys.executable).with_name("cc-tui")
PG_ADMIN = os.environ.get(
    "CC_TUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
KEEP_SQLITE = "/tmp/cc-tui-bench/demo.sqlite3"
KEEP_PG = "cct_bench_demo"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pg_admin(sql: str) -> None:
    import psycopg

    dsn = parse_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def _pg_url(name: str) -> str:
    return parse_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def _cli(url: str, *args: str) -> tuple[float, dict | None]:
    """Run `cc-tui --db URL --as bench ARGS`; progress goes to our stderr."""
    started = time.monotonic()
    result = subprocess.run(
        [str(CC_TUI), "--db", url, "--as", "bench", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"bench: cc-tui {' '.join(args)} failed (exit {result.returncode})")
    out = result.stdout.strip()
    return seconds, json.loads(out) if out.startswith("{") else None


def _check(url: str, incidents: int) -> dict:
    """What must hold after the load: the count, and every incident has its timeline."""
    db = Database(url)
    started = time.monotonic()
    with db.engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM incident")).scalar()
        without_events = conn.execute(
            text(
                "SELECT COUNT(*) FROM incident i WHERE NOT EXISTS "
                "(SELECT 1 FROM event e WHERE e.incident_id = i.id)"
            )
        ).scalar()
        opened = conn.execute(
            text(
                "SELECT COUNT(*) FROM incident WHERE status IN "
                "('registered','assigned','in_process','pending','transferred')"
            )
        ).scalar()
    db.dispose()
    if count < incidents or without_events:
        raise SystemExit(f"bench: {count} incidents, {without_events} without events: incomplete")
    return {"incidents": count, "open": opened, "check_s": round(time.monotonic() - started, 1)}


def run(label: str, url: str, customers: int, incidents: int) -> dict:
    log(f"== {label}: {url.split('@')[-1]}")
    _cli(url, "db", "upgrade")
    c_seconds, c_summary = _cli(url, "demo", "--customers", str(customers), "--json")
    log(f"   customers: {c_seconds:.1f} s")
    i_seconds, i_summary = _cli(url, "demo", "--incidents", str(incidents), "--json")
    added = sum((i_summary or {}).get("added", {}).values())
    added_incidents = (i_summary or {}).get("added", {}).get("incident", 0)
    check = _check(url, incidents)
    result = {
        "database": label,
        "customers_s": round(c_seconds, 1),
        "customer_rows_added": sum((c_summary or {}).get("added", {}).values()),
        "incidents_s": round(i_seconds, 1),
        "incidents_added": added_incidents,
        "rows_added": added,
        "incidents_per_s": round(added_incidents / i_seconds),
        "rows_per_s": round(added / i_seconds),
        "events": (i_summary or {}).get("counts", {}).get("event"),
        "target_met": i_seconds < TARGET_SECONDS,
        **check,
    }
    log(
        f"   incidents: {i_seconds:.1f} s, {result['incidents_per_s']:,} incidents/s, "
        f"{result['rows_per_s']:,} rows/s ({added:,} rows)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--keep", action="store_true", help=f"keep {KEEP_SQLITE} and database {KEEP_PG}"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    results = []
    if args.only in (None, "sqlite"):
        path = Path(KEEP_SQLITE if args.keep else f"/tmp/cc-tui-bench/demo-{os.getpid()}.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
        try:
            results.append(run("SQLite", f"sqlite:///{path}", args.customers, args.incidents))
            results[-1]["size_mb"] = round(path.stat().st_size / 2**20)
        finally:
            if not args.keep:
                for old in path.parent.glob(path.name + "*"):
                    old.unlink()
    if args.only in (None, "postgresql"):
        name = KEEP_PG if args.keep else f"cct_bench_demo_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{name}"')
        try:
            results.append(run("PostgreSQL", _pg_url(name), args.customers, args.incidents))
        finally:
            if not args.keep:
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'database':<11} {'customers':>10} {'incidents':>10} {'incidents/s':>12} "
          f"{'rows/s':>9} {'open':>7}  target < {TARGET_SECONDS:.0f} s")  # fmt: skip
    for r in results:
        print(
            f"{r['database']:<11} {r['customers_s']:>9.1f}s {r['incidents_s']:>9.1f}s "
            f"{r['incidents_per_s']:>12,} {r['rows_per_s']:>9,} {r['open']:>7,}  "
            f"{'met' if r['target_met'] else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
