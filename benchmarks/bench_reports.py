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


def database(dialect: str, incidents: int, rebuild: bool) -> str:
    name = f"cctui_bench_reports_{incidents}"
    if dialect == "sqlite":
        path = ROOT / "benchmarks" / "results" / f"{name}.sqlite3"
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{path}"
    else:
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
    return url


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "n": len(ordered),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
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
        seconds = []
        for _ in range(runs + 1):
            with db.session(write=False) as s:
                t0 = time.perf_counter()
                fn(s, first=first.isoformat(), end=end.isoformat(), zone=UTC, **options)
                seconds.append(time.perf_counter() - t0)
        out[label] = summary(seconds[1:])
        r = out[label]
        verdict = "ok" if r["p95_s"] < TARGET_S else "OVER"
        log(
            f"  {label:<32} median {r['median_s']:7.3f} s  p95 {r['p95_s']:7.3f} s  "
            f"max {r['max_s']:7.3f} s  {verdict}  (load {os.getloadavg()[0]:.1f})"
        )
    db.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--case", action="append", default=[], help="run the cases whose name contains this"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict = {}
    for dialect in ("sqlite", "postgresql"):
        if args.only and dialect != args.only:
            continue
        url = database(dialect, args.incidents, args.rebuild)
        log(f"{dialect}: {args.incidents:,} incidents, a year of reports, load average "
            f"{[round(x, 1) for x in os.getloadavg()]}")  # fmt: skip
        results[dialect] = {
            "load_average_before": [round(x, 1) for x in os.getloadavg()],
            "cases": measure(url, args.runs, args.case),
            "load_average_after": [round(x, 1) for x in os.getloadavg()],
        }
    ok = all(
        case["p95_s"] < TARGET_S for r in results.values() for case in r["cases"].values()
    )
    if args.json:
        print(json.dumps({"target_s": TARGET_S, "ok": ok, **results}, indent=2))
    else:
        print(f"every report under {TARGET_S:g} s (p95): {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
