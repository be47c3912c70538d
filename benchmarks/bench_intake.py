"""Saving a call as a new incident: latency of the two write transactions of intake.

What the Intake screen does for one call, each in its own committed transaction through
the services: F2 records the contact (`open_contact`), ctrl+s saves it as an action request
(`save_intake`: caller, unit with warranty and contract, reason, request type and problem
code resolved, priority default, routing rules, deadlines, timeline events, change feed).
Every call is for a different customer that owns a unit, with a specific reason, request
type and problem code taken from the database's own codes.

By default it runs on the ready-made large demo databases (`bench_demo.py --keep`:
`/tmp/cc-tui-bench/demo.sqlite3` and `cct_bench_demo`, 1,000,000 incidents and 200,000
customers) and builds them with `cc-tui demo` when they hold less. Each run adds its
incidents there (titled "Bench intake ..."), as real calls would.

    .venv/bin/python benchmarks/bench_intake.py                   # both databases
    .venv/bin/python benchmarks/bench_intake.py --only sqlite --saves 300 --json
    .venv/bin/python benchmarks/bench_intake.py --sqlite-path /tmp/x.sqlite3 --customers 2000 \
        --incidents 10000 --pg-database cct_bench_intake

Target: saving a new incident p95 under 50 ms on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, select  # noqa: E402

from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Agent, Customer, Incident, Unit  # noqa: E402
from cc_tui.services.context import actor_of, bootstrap_admin  # noqa: E402
from common import CC_TUI, log, pg_url  # noqa: E402

TARGET_P95_MS = 50.0
WARM_UP = 20


def _counts(db: Database) -> tuple[int, int]:
    try:
        with db.session(write=False) as session:
            customers = session.scalar(select(func.count()).select_from(Customer)) or 0
            incidents = session.scalar(select(func.count()).select_from(Incident)) or 0
            return customers, incidents
    except Exception:
        return 0, 0


def prepare(db: Database, url: str, customers: int, incidents: int) -> str:
    """Reuse the database when it holds enough; else top it up with `cc-tui demo`."""
    have_c, have_i = _counts(db)
    if have_c >= customers and have_i >= incidents:
        return f"reused ({have_c:,} customers, {have_i:,} incidents)"
    upgrade(db)
    with db.session() as session:
        bootstrap_admin(session, "bench")  # only on a database without agents
    log(f"  building with cc-tui demo --customers {customers} --incidents {incidents}")
    command = [str(CC_TUI), "--db", url, "--as", "bench", "demo"]
    subprocess.run(
        [*command, "--customers", str(customers), "--incidents", str(incidents)],
        check=True,
        stdout=sys.stderr,
    )
    have_c, have_i = _counts(db)
    return f"built by cc-tui demo ({have_c:,} customers, {have_i:,} incidents)"


def calls(db: Database, count: int, seed: int) -> tuple[object, list[dict]]:
    """The agent (an admin) and `count` calls: distinct customers (not blocked) with a
    unit each."""
    from cc_tui.services.directory.codes import list_codes

    rng = random.Random(seed)
    with db.session(write=False) as session:
        agent = session.scalars(
            select(Agent).where(Agent.role == "admin", Agent.active.is_(True)).order_by(Agent.id)
        ).first()
        if agent is None:
            raise SystemExit("bench: no admin agent in this database")
        actor = actor_of(agent)
        reasons = [c.path for c in list_codes(session, kind="reason") if "/" in c.path]
        kinds = [c.path for c in list_codes(session, kind="request-type")]
        problems = [c.path for c in list_codes(session, kind="problem")]
        top = session.scalar(select(func.max(Unit.id))) or 0
        picked: dict[int, str] = {}
        tries = 0
        while len(picked) < count and tries < count * 50:
            tries += 1
            unit = session.get(Unit, rng.randint(1, top))
            if unit is None or unit.customer_id in picked:
                continue
            # A blocked customer's action request is refused: not a save to measure.
            if session.get(Customer, unit.customer_id).block_level != "block":
                picked[unit.customer_id] = unit.serial
    if not (reasons and kinds and problems and picked):
        raise SystemExit("bench: the database lacks codes or units; load `cc-tui demo` first")
    forms = [
        {
            "customer_id": customer_id,
            "serial": serial,
            "reason": rng.choice(reasons),
            "request_kind": rng.choice(kinds),
            "problem_code": rng.choice(problems),
        }
        for customer_id, serial in picked.items()
    ]
    return actor, forms


def one_call(db: Database, actor, n: int, call: dict) -> tuple[float, float, str]:
    """(contact ms, save ms, status) for one call, each a committed transaction."""
    from cc_tui.services.incidents.intake import IntakeForm, open_contact, save_intake

    started = time.perf_counter()
    with db.session() as session:
        draft = open_contact(session, actor=actor, channel="phone", request_type="action")
    contact_ms = (time.perf_counter() - started) * 1000
    form = IntakeForm(
        request_type="action",
        customer_id=call["customer_id"],
        serial=call["serial"],
        title=f"Bench intake {n}: unit does not start",
        description="The caller says the unit stopped this morning and shows no light.",
        reason=call["reason"],
        request_kind=call["request_kind"],
        problem_code=call["problem_code"],
    )
    started = time.perf_counter()
    with db.session() as session:
        result = save_intake(session, actor=actor, contact_id=draft.id, form=form)
    save_ms = (time.perf_counter() - started) * 1000
    return contact_ms, save_ms, result.status


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(max(values), 2),
    }


def run(name: str, url: str, args: argparse.Namespace) -> dict:
    db = Database(url)
    log(f"{name}: {db.describe()}")
    how = prepare(db, url, args.customers, args.incidents)
    log(f"  data: {how}")
    actor, forms = calls(db, args.saves + WARM_UP, args.seed)
    contact_ms: list[float] = []
    save_ms: list[float] = []
    statuses: dict[str, int] = {}
    for n, call in enumerate(forms):
        c, s, status = one_call(db, actor, n, call)
        if n >= WARM_UP:
            contact_ms.append(c)
            save_ms.append(s)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
    db.dispose()
    result = {
        "database": name,
        "data": how,
        "statuses": statuses,
        "open_contact": summary(contact_ms),
        "save_intake": summary(save_ms),
        "target_p95_ms": TARGET_P95_MS,
    }
    result["ok"] = result["save_intake"]["p95_ms"] < TARGET_P95_MS
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200, help="calls measured per database")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--sqlite-path", default="/tmp/cc-tui-bench/demo.sqlite3")
    parser.add_argument("--pg-database", default="cct_bench_demo")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    results = []
    if args.only in (None, "sqlite"):
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        results.append(run("sqlite", f"sqlite:///{path}", args))
    if args.only in (None, "postgresql"):
        results.append(run("postgresql", pg_url(args.pg_database), args))

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['database']}: {r['data']}; saved as {r['statuses']}")
            for key in ("open_contact", "save_intake"):
                v = r[key]
                print(
                    f"  {key:<13} n={v['n']:<4} median {v['median_ms']:>6} ms  "
                    f"p95 {v['p95_ms']:>6} ms  p99 {v['p99_ms']:>6} ms  max {v['max_ms']:>6} ms"
                )
            verdict = "OK" if r["ok"] else "OVER TARGET"
            print(f"  target: save p95 < {TARGET_P95_MS} ms: {verdict}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
