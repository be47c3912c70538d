"""Reports over a year of a large database: each report's seconds, grouped.

Target (issue 15): every report for a year, grouped, under 2 s on SQLite and on PostgreSQL
with 1,000,000 incidents. The database comes from `cc-tui demo --incidents N` and is reused
(`--rebuild` to start over). The year is the 365 days before the newest contact. Reported:
the median of `--runs` runs of each report (the first run is not counted: it warms the
caches).

    .venv/bin/python benchmarks/bench_reports.py --only sqlite --incidents 100000
    .venv/bin/python benchmarks/bench_reports.py --json
"""

from __future__ import annotations

import argparse
import json
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

CASES = (
    ("volume by channel per day", "volume", {"by": "channel", "unit": "day"}),
    ("volume by agent per month", "volume", {"by": "agent", "unit": "month"}),
    ("times by priority (wall)", "times", {"by": "priority"}),
    ("times by department (wall)", "times", {"by": "department"}),
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
        if rebuild and path.exists():
            path.unlink()
        path.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{path}"
    else:
        if rebuild:
            drop_pg(name)
        url = pg_url(name)
    # A new PostgreSQL database needs its schema (and first admin) before the demo loads.
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


def measure(url: str, runs: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from cc_tui.db.engine import Database
    from cc_tui.models import Incident
    from cc_tui.services.reports import figures, times

    db = Database(url)
    with db.session(write=False) as s:
        newest = s.execute(select(func.max(Incident.opened_at))).scalar_one()
    newest = newest.replace(tzinfo=UTC) if newest.tzinfo is None else newest
    end = (newest + timedelta(days=1)).date()
    first = end - timedelta(days=365)
    out: dict[str, float] = {}
    for label, kind, options in CASES:
        fn = times.times if kind == "times" else getattr(figures, kind)
        seconds = []
        for _ in range(runs + 1):
            with db.session(write=False) as s:
                t0 = time.perf_counter()
                fn(s, first=first.isoformat(), end=end.isoformat(), zone=UTC, **options)
                seconds.append(time.perf_counter() - t0)
        out[label] = round(statistics.median(seconds[1:]), 3)
        log(f"  {label}: {out[label]:.3f} s")
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for dialect in ("sqlite", "postgresql"):
        if args.only and dialect != args.only:
            continue
        url = database(dialect, args.incidents, args.rebuild)
        log(f"{dialect}: {args.incidents} incidents, a year of reports")
        results[dialect] = measure(url, args.runs)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
