"""Importing a ServiceNow-style history: `cc-tui import incidents FILE --json`, end to end.

Target (issue 15): 100,000 rows under 1 minute on SQLite and on PostgreSQL. The file is
generated (tests/servicenow_export.py: 40 agents, 6 groups, 13 reason codes, 5 priorities,
2,000 callers, 6 close codes, who registered by opened_by, sys_created_by or nobody, one bad
row in 1,000); each run imports it into a fresh database (schema
made first, not timed) with the command a person runs, timed from start to exit. Then the
same file again, which must import nothing (idempotent). Reported: median and p95 of
`--runs` runs, the load average before and after.

    .venv/bin/python benchmarks/bench_import.py [--rows 100000] [--runs 3] [--only sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.servicenow_export import generate  # noqa: E402

from common import CC_TUI, drop_pg, log, pg_url  # noqa: E402


def fresh(dialect: str, folder: Path, run: int) -> tuple[str, str]:
    """A new, upgraded database: (url, name to drop)."""
    if dialect == "sqlite":
        path = folder / f"import-{run}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        name = ""
    else:
        name = f"cctui_bench_import_{os.getpid()}_{run}"
        drop_pg(name)
        url = pg_url(name)
    subprocess.run(
        [str(CC_TUI), "--db", url, "--as", "admin", "db", "upgrade"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return url, name


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_import(url: str, path: Path) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds of the command (its own process: on SQLite that is all
    the work, on PostgreSQL the server's share is not in it) and its JSON answer."""
    command = [str(CC_TUI), "--db", url, "--as", "admin", "import", "incidents", str(path)]
    cpu = cpu_children()
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--zone", "UTC", "--json"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed (exit {done.returncode}): {done.stderr.strip()}")
    return time.perf_counter() - started, cpu_children() - cpu, json.loads(done.stdout)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="cctui-bench-import-") as tmp:
        folder = Path(tmp)
        log(f"generating {args.rows} rows ...")
        export = generate(args.rows, bad_every=1000, agents=40, callers=2000)
        path = folder / "incidents.csv"
        path.write_text(export.text, encoding="utf-8")
        good = len(export.good)
        log(f"{path.stat().st_size / 1e6:.1f} MB, {good} good rows, {len(export.bad)} bad")
        for dialect in ("sqlite", "postgresql"):
            if args.only and dialect != args.only:
                continue
            load_before = os.getloadavg()
            first: list[float] = []
            again: list[float] = []
            cpu: list[float] = []
            for run in range(args.runs):
                url, name = fresh(dialect, folder, run)
                seconds, used, result = timed_import(url, path)
                assert result["imported"] == good, result["imported"]
                assert len(result["bad"]) == len(export.bad)
                first.append(seconds)
                cpu.append(used)
                seconds, _used, result = timed_import(url, path)
                assert result["imported"] == 0 and result["skipped_existing"] == good
                again.append(seconds)
                log(
                    f"  {dialect} run {run + 1}: import {first[-1]:.1f} s "
                    f"({cpu[-1]:.1f} s CPU), again {again[-1]:.1f} s"
                )
                if name:
                    drop_pg(name)
            load_after = os.getloadavg()
            results[dialect] = {
                "rows": args.rows,
                "import_median_s": round(statistics.median(first), 2),
                "import_p95_s": round(p95(first), 2),
                "import_cpu_median_s": round(statistics.median(cpu), 2),
                "again_median_s": round(statistics.median(again), 2),
                "again_p95_s": round(p95(again), 2),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in load_after],
            }
            r = results[dialect]
            log(
                f"{dialect}: {args.rows} rows: import median {r['import_median_s']} s, "
                f"p95 {r['import_p95_s']} s, CPU median {r['import_cpu_median_s']} s; "
                f"second run median {r['again_median_s']} s "
                f"(load {r['load_before'][0]} -> {r['load_after'][0]})"
            )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
