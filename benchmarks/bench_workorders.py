"""Work orders (M10) at scale, on SQLite and PostgreSQL.

Completion: one work order linked to 1,000 transferred incidents is completed (each
incident solved with the order's problem and solution and closed, with its events and
change-feed rows), then reopened (all of them back to transferred), alternately; each is
one transaction through `workorders.orders.set_status`. Target: completing under 1 s.

List: the first page (50 rows) of the work-order list on 200,000 orders, as the console's
Work orders mode and `cc-tui wo list` read it: all orders, open ones, one department's
open ones. Target: under 50 ms.

    .venv/bin/python benchmarks/bench_workorders.py                  # both databases
    .venv/bin/python benchmarks/bench_workorders.py --only sqlite --runs 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import drop_pg, log, pg_url  # noqa: E402

TARGET_COMPLETE_S = 1.0
TARGET_LIST_MS = 50.0
PROBLEM = "FIELD/PRINTERS/LASER/JAM"
DEPARTMENTS = ("FIELD", "DEPOT", "HVAC", "NET", "POS")


def build(db, *, linked: int, orders: int) -> tuple[object, int]:
    """Migrate; one order linked to `linked` transferred incidents; `orders` more orders."""
    from sqlalchemy import insert, select
    from tests import factories as f

    from cc_tui.clock import now
    from cc_tui.db.migrate import upgrade
    from cc_tui.models import Department, Incident, IncidentWorkOrder, WorkOrder
    from cc_tui.services.context import actor_of, bootstrap_admin
    from cc_tui.services.directory.codes import add_code
    from cc_tui.services.workorders.templates import add_template

    upgrade(db)
    with db.session() as s:
        admin = actor_of(bootstrap_admin(s, "bench"))
        f.codes(s, admin)
        for code in DEPARTMENTS[1:]:
            f.department(s, code, code.title())
        add_template(s, actor=admin, code="WO-PRN", kind="service", title="Printer repair")
        problem_id = add_code(
            s, actor=admin, kind="problem", path=PROBLEM, work_order_template="WO-PRN"
        ).id
        customer = f.customer(s, "Bench Customer")
        technicians = [f.agent(s, f"tech{i}").id for i in range(20)]
        start = now() - timedelta(days=400)
        shared = WorkOrder(
            kind="service",
            title="Printer repair: shared",
            problem_code_id=problem_id,
            created_by_id=admin.id,
            created_at=now(),
        )
        s.add(shared)
        s.flush()
        incidents = [
            Incident(
                channel="phone",
                request_type="action",
                status="transferred",
                title=f"Printer jams {i}",
                customer_id=customer.id,
                problem_code_id=problem_id,
                opened_at=start,
                created_by_id=admin.id,
            )
            for i in range(linked)
        ]
        s.add_all(incidents)
        s.flush()
        s.execute(
            insert(IncidentWorkOrder),
            [
                {
                    "incident_id": i.id,
                    "work_order_id": shared.id,
                    "linked_at": start,
                    "linked_by_id": admin.id,
                    "closed_incident": False,
                }
                for i in incidents
            ],
        )
        dept_ids = {d.code: d.id for d in s.scalars(select(Department))}
        shared_id = shared.id
    rng = random.Random(14)
    statuses = ["completed"] * 7 + ["cancelled"] + ["open", "in_progress"]
    chunk = 10_000
    for first in range(0, orders, chunk):
        rows = []
        for n in range(first, min(orders, first + chunk)):
            status = rng.choice(statuses)
            at = start + timedelta(minutes=3 * n)
            rows.append(
                {
                    "kind": "service",
                    "repair_kind": None,
                    "status": status,
                    "title": f"Order {n}: printer jams",
                    "description": None,
                    "template_id": None,
                    "problem_code_id": problem_id,
                    "department_id": dept_ids[rng.choice(DEPARTMENTS)],
                    "assignee_id": rng.choice(technicians),
                    "subcontract_id": None,
                    "billable": False,
                    "cross_reference": None,
                    "created_by_id": admin.id,
                    "created_at": at,
                    "completed_at": at + timedelta(hours=5) if status == "completed" else None,
                    "version": 1,
                }
            )
        with db.session() as s:
            s.execute(insert(WorkOrder), rows)
        log(f"  {min(orders, first + chunk):,} orders")
    return admin, shared_id


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def measure(db, admin, shared_id: int, *, runs: int, list_runs: int) -> dict:
    from cc_tui.services.workorders.orders import list_orders, set_status

    complete, reopen = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        with db.session() as s:
            r = set_status(
                s,
                actor=admin,
                wo=shared_id,
                to="completed",
                problem="worn roller",
                solution="replaced the pickup roller",
                resolution="FIX/REPLACED",
            )
        complete.append(time.perf_counter() - t0)
        closed = len(r.incidents)
        t0 = time.perf_counter()
        with db.session() as s:
            set_status(s, actor=admin, wo=shared_id, to="open")
        reopen.append(time.perf_counter() - t0)
    lists: dict[str, list[float]] = {"all": [], "open": [], "department open": []}
    for _ in range(list_runs):
        for name, kwargs in (
            ("all", {}),
            ("open", {"open_only": True}),
            ("department open", {"open_only": True, "department": "DEPOT"}),
        ):
            t0 = time.perf_counter()
            with db.session(write=False) as s:
                rows = list_orders(s, limit=50, **kwargs)
            lists[name].append((time.perf_counter() - t0) * 1000)
            assert len(rows) == 50
    return {
        "incidents closed per completion": closed,
        "complete_s": _stats(complete),
        "reopen_s": _stats(reopen),
        "list_ms": {name: _stats(v) for name, v in lists.items()},
    }


def run(label: str, url: str, args) -> dict:
    from cc_tui.db.engine import Database

    db = Database(url)
    log(f"{label}: building ({args.linked:,} linked incidents, {args.orders:,} orders)")
    admin, shared_id = build(db, linked=args.linked, orders=args.orders)
    log(f"{label}: measuring")
    result = measure(db, admin, shared_id, runs=args.runs, list_runs=args.list_runs)
    db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--linked", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--list-runs", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"load_average_before": os.getloadavg()}
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            results["sqlite"] = run("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
    if args.only in (None, "postgresql"):
        name = f"cct_bench_wo_{uuid.uuid4().hex[:8]}"
        try:
            results["postgresql"] = run("PostgreSQL", pg_url(name), args)
        finally:
            drop_pg(name)
    results["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for dialect in ("sqlite", "postgresql"):
        if dialect not in results:
            continue
        r = results[dialect]
        c, o = r["complete_s"], r["reopen_s"]
        print(
            f"{dialect}: complete {c['median']:.3f} s / {c['p95']:.3f} s (median / p95, "
            f"{r['incidents closed per completion']} incidents; target < {TARGET_COMPLETE_S} s), "
            f"reopen {o['median']:.3f} s / {o['p95']:.3f} s"
        )
        for name, s in r["list_ms"].items():
            print(
                f"  list first page ({name}): {s['median']:.1f} ms / {s['p95']:.1f} ms "
                f"(target < {TARGET_LIST_MS} ms)"
            )
    before, after = results["load_average_before"], results["load_average_after"]
    print(f"load average before {before}, after {after}")


if __name__ == "__main__":
    main()
