"""Change-feed latency: from another process's commit to a console's listener seeing it.

A console follows everyone's work through `ChangeListener` (PostgreSQL: LISTEN/NOTIFY;
SQLite: polling every `poll_seconds`, 1 s by default). Each run starts a separate process
that records one change and prints the wall-clock time right after its commit; this
process waits on its listener and notes when the change arrives. The difference is the
latency a console's screen reacts with (plus its own reload).

    .venv/bin/python benchmarks/bench_change_feed.py [--runs 20] [--json] [--no-pg]

Targets (what a claim by another process is allowed to take before it leaves a console's
queue): max under 2 s on SQLite (poll 1 s), under 1 s on PostgreSQL. Exit code 0 when they
hold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cc_tui.db.changes import ChangeListener  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from common import drop_pg, log, pg_url  # noqa: E402

TARGET_SECONDS = {"sqlite": 2.0, "postgresql": 1.0}
POLL_SECONDS = 1.0  # a console's default on SQLite
PG_NAME = "cct_bench_change_feed"

# The other process: one committed change, then the time of the commit.
COMMIT = """
import sys, time
from cc_tui.db.changes import record_change
from cc_tui.db.engine import Database
db = Database(sys.argv[1])
with db.session() as session:
    record_change(session, entity="incident", action="claimed", incident_id=1)
print(time.time(), flush=True)
db.dispose()
"""


def measure(url: str, runs: int) -> list[float]:
    db = Database(url)
    upgrade(db)
    listener = ChangeListener(db, poll_seconds=POLL_SECONDS)
    latencies = []
    try:
        listener.wait(timeout=0.1)
        for _ in range(runs):
            child = subprocess.Popen(
                [sys.executable, "-c", COMMIT, url], stdout=subprocess.PIPE, text=True
            )
            changes = listener.wait(timeout=30)
            seen = time.time()
            out, _ = child.communicate(timeout=60)
            if not changes or child.returncode != 0:
                raise SystemExit(f"no change seen from the other process ({url})")
            latencies.append(seen - float(out.strip()))
    finally:
        listener.close()
        db.dispose()
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        log("SQLite ...")
        results["sqlite"] = summary(measure(f"sqlite:///{folder}/feed.sqlite3", args.runs))
    if not args.no_pg:
        log("PostgreSQL ...")
        drop_pg(PG_NAME)
        try:
            results["postgresql"] = summary(measure(pg_url(PG_NAME), args.runs))
        finally:
            drop_pg(PG_NAME)
    ok = all(r["max_ms"] < TARGET_SECONDS[name] * 1000 for name, r in results.items())
    if args.json:
        print(json.dumps({"results": results, "targets_met": ok}, indent=2))
    else:
        for name, r in results.items():
            target = TARGET_SECONDS[name] * 1000
            print(
                f"{name:10}  median {r['median_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  "
                f"max {r['max_ms']:7.1f} ms  (target: max < {target:.0f} ms)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
