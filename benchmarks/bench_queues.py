"""Supervisor board refresh and claim throughput on a large database.

Board refresh: what the supervisor board's worker does on every change it hears about:
open a read transaction, read every department's and agent's load (`queues.load`) and the
first page (50 rows) of the busiest department's queue (`queues.department_queue`), close
it. Target: median under 100 ms on SQLite and on PostgreSQL, with 1,000,000 incidents of
which about 50,000 are open. "My work" (an agent's first page) is measured alongside.

Claim throughput: N claimer processes (not threads; each its own interpreter and
connection) take incidents from one queue with `queues.claim_next`, each call its own
transaction, until the queue is empty. Reported: claims per second, the median and p95 of
one claim, and double claims (an incident handed to two claimers, or claimed twice on its
timeline), which must be 0. The claimed incidents are closed afterwards so that the data
set stays the same for the next run.

The database is built once and reused (`--rebuild` to start over): with `cc-tui demo
--incidents N` when it is available (its generated incidents are about 5 % open), else
with this script's own bulk inserts.

    .venv/bin/python benchmarks/bench_queues.py                      # both databases
    .venv/bin/python benchmarks/bench_queues.py --only postgresql --json
    .venv/bin/python benchmarks/bench_queues.py --incidents 100000 --open 5000 --claims 1000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import inspect as sa_inspect  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from common import CC_TUI, demo_cli_has, drop_pg, log, pg_url  # noqa: E402

TARGET_BOARD_MS = 100.0
OPEN = ("registered", "assigned", "in_process", "pending", "transferred")
CLAIM_DEPT = "BENCHQ"


# ---------------------------------------------------------------------------- building


def _scalar(db: Database, sql: str) -> int:
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one() or 0)
    except Exception:
        return 0


def _open_count(db: Database) -> int:
    statuses = ", ".join(f"'{s}'" for s in OPEN)
    return _scalar(db, f"SELECT COUNT(*) FROM incident WHERE status IN ({statuses})")


def _not_null_defaults(db: Database, table: str) -> dict:
    """Values for NOT NULL columns without a server default (later migrations add some)."""
    from sqlalchemy import Boolean, DateTime, Integer
    from sqlmodel import SQLModel

    import cc_tui.models  # noqa: F401

    model = SQLModel.metadata.tables[table]
    values = {}
    for column in sa_inspect(db.engine).get_columns(table):
        name = column["name"]
        if column["nullable"] or column.get("default") is not None or name == "id":
            continue
        mapped = model.c.get(name)
        default = mapped.default if mapped is not None else None
        if default is not None and default.is_scalar:
            values[name] = default.arg
        elif isinstance(column["type"], DateTime):
            values[name] = "2026-01-01 00:00:00"
        elif isinstance(column["type"], Boolean):
            values[name] = False
        elif isinstance(column["type"], Integer):
            values[name] = 0
    return values


def _ts(moment: datetime, sqlite: bool) -> str:
    text_ = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text_ if sqlite else text_ + "+00"


def generate(db: Database, incidents: int, open_count: int, seed: int = 7) -> None:
    """Departments, agents, priorities and incidents by bulk insert (no timelines: the
    board reads none). The open ones are spread over the newest fifth of the ids."""
    from cc_tui.services.context import resolve_actor

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    depts = [("SD", "Service desk", False), ("NOC", "Network", False)]
    depts += [("FS", "Field service", True), ("DR", "Depot repair", False)]
    depts += [("FAC", "Facilities", True)]
    with db.session() as session:
        admin = resolve_actor(session, "bench")
        for code, name, on_site in depts:
            session.execute(
                text(
                    "INSERT INTO department (code, name, on_site, active, created_at) "
                    "VALUES (:c, :n, :o, :a, :t)"
                ),
                {"c": code, "n": name, "o": on_site, "a": True, "t": now},
            )
        dept_ids = [
            session.execute(text("SELECT id FROM department WHERE code = :c"), {"c": c}).scalar()
            for c, _n, _o in depts
        ]
        for i in range(40):
            session.execute(
                text(
                    "INSERT INTO agent (login, name, role, department_id, skills, active, "
                    "created_at) VALUES (:l, :n, 'agent', :d, '', :a, :t)"
                ),
                {
                    "l": f"agent{i:02d}",
                    "n": f"Agent {i}",
                    "d": dept_ids[i % 5],
                    "a": True,
                    "t": now,
                },
            )
        for rank in range(1, 5):
            session.execute(
                text(
                    "INSERT INTO priority (code, name, rank, basis, is_default, active, "
                    "created_at) VALUES (:c, :n, :r, 'business', :d, :a, :t)"
                ),
                {"c": f"P{rank}", "n": f"P{rank}", "r": rank, "d": rank == 3, "a": True, "t": now},
            )
        agents = session.execute(
            text("SELECT id, department_id FROM agent WHERE login LIKE 'agent%'")
        ).all()
        created_by = admin.id
    by_dept: dict[int, list[int]] = {}
    for agent_id, dept_id in agents:
        by_dept.setdefault(dept_id, []).append(agent_id)

    extra = _not_null_defaults(db, "incident")
    columns = [
        "id",
        "channel",
        "request_type",
        "status",
        "title",
        "priority_rank",
        "department_id",
        "owner_id",
        "created_by_id",
        "opened_at",
        "registered_at",
        "assigned_at",
        "closed_at",
        "response_due",
        "escalation",
        "escalation_rank",
        "version",
        "updated_at",
    ]
    columns += [c for c in extra if c not in columns]
    sqlite = db.is_sqlite
    first_open = incidents - incidents // 5
    open_ids = set(rng.sample(range(first_open, incidents + 1), min(open_count, incidents // 5)))
    escalations = ["on_time"] * 70 + ["follow_up"] * 15 + ["warning"] * 10 + ["late"] * 5
    ranks = {"on_time": 0, "follow_up": 1, "warning": 2, "late": 3}
    span = timedelta(days=3 * 365).total_seconds()
    raw = db.engine.raw_connection()
    cursor = raw.cursor()
    if sqlite:
        cursor.execute("BEGIN")
    else:
        cursor.execute("SET TIME ZONE 'UTC'")
    batch = []
    names = ", ".join(columns)

    def flush() -> None:
        if sqlite:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO incident ({names}) VALUES ({marks})", batch)
        else:
            with cursor.copy(f"COPY incident ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        batch.clear()

    started = time.monotonic()
    for incident_id in range(1, incidents + 1):
        opened = now - timedelta(seconds=span * (1 - incident_id / incidents) + 60)
        dept = dept_ids[rng.randrange(5)]
        prio = rng.choice((1, 2, 3, 3, 3, 4))
        if incident_id in open_ids:
            status = rng.choice(
                ("registered",) * 3
                + ("assigned",) * 2
                + ("in_process",) * 3
                + ("pending", "transferred")
            )
            escalation = rng.choice(escalations)
            owner = None if status == "registered" else rng.choice(by_dept[dept])
            closed = None
        else:
            status, escalation, closed = "closed", "on_time", opened + timedelta(hours=30)
            owner = rng.choice(by_dept[dept])
        due = opened + timedelta(hours=rng.choice((1, 4, 8, 24))) if rng.random() < 0.8 else None
        row = [
            incident_id,
            rng.choice(("phone", "phone", "email", "web")),
            "action",
            status,
            f"Incident {incident_id}",
            prio,
            dept,
            owner,
            created_by,
            _ts(opened, sqlite),
            _ts(opened + timedelta(minutes=4), sqlite),
            _ts(opened + timedelta(minutes=20), sqlite) if owner else None,
            _ts(closed, sqlite) if closed else None,
            _ts(due, sqlite) if due else None,
            escalation,
            ranks[escalation],
            2,
            _ts(opened, sqlite),
        ]
        row += [extra[c] for c in columns[len(row) :]]
        batch.append(tuple(row))
        if len(batch) >= 20_000:
            flush()
            if incident_id % 200_000 == 0:
                rate = incident_id / (time.monotonic() - started)
                log(f"  {incident_id:,}/{incidents:,} incidents ({rate:,.0f}/s)")
    flush()
    if not sqlite:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('incident', 'id'), "
            "(SELECT MAX(id) FROM incident))"
        )
    raw.commit()
    if not sqlite:
        raw.driver_connection.autocommit = True
        cursor = raw.cursor()
        cursor.execute("VACUUM ANALYZE incident")
    else:
        cursor = raw.cursor()
        cursor.execute("ANALYZE")
    cursor.close()
    raw.close()


def prepare(db: Database, url: str, incidents: int, open_count: int, data: str) -> str:
    """Reuse the database when it holds enough incidents; else fill it. Returns how."""
    have = _scalar(db, "SELECT COUNT(*) FROM incident")
    if have >= incidents:
        return f"reused ({have:,} incidents)"
    upgrade(db)
    from cc_tui.services.context import bootstrap_admin

    with db.session() as session:
        bootstrap_admin(session, "bench")  # only on a database without agents
    if data == "demo" or (data == "auto" and demo_cli_has("--incidents")):
        log(f"  building with cc-tui demo --incidents {incidents}")
        subprocess.run(
            [str(CC_TUI), "--db", url, "--as", "bench", "demo", "--incidents", str(incidents)],
            check=True,
            stdout=sys.stderr,  # its summary is not this script's output
        )
        return "built by cc-tui demo"
    if have:
        raise SystemExit(f"bench: {db.describe()} holds partial data; run with --rebuild")
    generate(db, incidents, open_count)
    return "built by bench_queues.py bulk inserts"


def _vacuum(db: Database) -> None:
    """After a load: PostgreSQL's index-only scans need the visibility map (autovacuum
    would get there in its own time); SQLite's write-ahead log is folded into the file
    (a bulk load leaves gigabytes in it, and the first writer after it would copy them)."""
    raw = db.engine.raw_connection()
    try:
        if db.is_sqlite:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            raw.driver_connection.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE incident")
    finally:
        raw.close()


# ---------------------------------------------------------------------------- measuring


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(pct(95), 2),
        "max_ms": round(max(values), 2),
    }


def measure_board(db: Database, runs: int) -> dict:
    from cc_tui.services.routing.queues import agent_queue, department_queue, load

    with db.session(write=False) as session:
        first = load(session)
    busiest = max((d for d in first.departments if d.code), key=lambda d: d.unassigned)
    worker = max(first.agents, key=lambda a: a.open)
    board, mine = [], []
    for i in range(runs + 3):
        started = time.perf_counter()
        with db.session(write=False) as session:
            result = load(session)
            page = department_queue(session, department=busiest.code, limit=50)
        elapsed = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        with db.session(write=False) as session:
            own = agent_queue(session, agent=worker.id, limit=50)
        own_ms = (time.perf_counter() - started) * 1000
        if i >= 3:  # the first runs warm the caches
            board.append(elapsed)
            mine.append(own_ms)
    assert len(page) == min(50, busiest.unassigned) and own
    return {
        "open_incidents": result.total_open,
        "departments": len(result.departments),
        "agents": len(result.agents),
        "queue": busiest.code,
        "queue_length": busiest.unassigned,
        "board_refresh": summary(board),
        "my_work_page": summary(mine) | {"agent": worker.login, "open": worker.open},
        "target_ms": TARGET_BOARD_MS,
        "ok": statistics.median(board) < TARGET_BOARD_MS,
    }


def _setup_claim_queue(db: Database, claimers: int, claims: int, seed: int) -> list[str]:
    """A department with `claims` unassigned incidents and `claimers` agents."""
    from cc_tui.models import Agent, Department, Incident

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with db.session() as session:
        dept = session.scalars(select(Department).where(Department.code == CLAIM_DEPT)).first()
        if dept is None:
            dept = Department(code=CLAIM_DEPT, name="Claim benchmark")
            session.add(dept)
            session.flush()
        logins = []
        for i in range(claimers):
            login = f"claimer{i}"
            if session.scalars(select(Agent).where(Agent.login == login)).first() is None:
                session.add(Agent(login=login, name=login, department_id=dept.id))
            logins.append(login)
        creator = session.scalars(select(Agent.id).order_by(Agent.id)).first()
        session.add_all(
            Incident(
                channel="phone",
                request_type="action",
                status="registered",
                title=f"claim bench {i}",
                priority_rank=rng.randint(1, 4),
                escalation_rank=(rank := rng.choice((0, 0, 0, 1, 2, 3))),
                escalation=("on_time", "follow_up", "warning", "late")[rank],
                response_due=now + timedelta(minutes=rng.randint(1, 600)),
                department_id=dept.id,
                created_by_id=creator,
                opened_at=now,
                registered_at=now,
                updated_at=now,
            )
            for i in range(claims)
        )
    return logins


def _claimer(url: str, login: str, ready, start, results) -> None:
    """One claimer process: claim until the queue is empty."""
    from cc_tui.errors import NotFound
    from cc_tui.services.context import resolve_actor
    from cc_tui.services.routing.queues import claim_next

    db = Database(url, pool_size=1)
    with db.session(write=False) as session:
        actor = resolve_actor(session, login)
    ready.set()
    start.wait()
    ids, latencies = [], []
    while True:
        began = time.perf_counter()
        try:
            with db.session() as session:
                result = claim_next(session, actor=actor, department=CLAIM_DEPT)
        except NotFound:
            break
        latencies.append((time.perf_counter() - began) * 1000)
        ids.append(result.id)
    results.put((login, ids, latencies))
    db.dispose()


def measure_claims(db: Database, url: str, claimers: int, claims: int) -> dict:
    from cc_tui.models import Department, Event, EventType, Incident

    logins = _setup_claim_queue(db, claimers, claims, seed=claims)
    _vacuum(db)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    readies, procs = [], []
    for login in logins:
        ready = ctx.Event()
        proc = ctx.Process(target=_claimer, args=(url, login, ready, start, results))
        proc.start()
        readies.append(ready)
        procs.append(proc)
    for ready in readies:
        if not ready.wait(120):
            raise SystemExit("bench: a claimer process did not start")
    began = time.perf_counter()
    start.set()
    collected = [results.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join(30)

    handed = [i for _login, ids, _lat in collected for i in ids]
    latencies = [ms for _login, _ids, lat in collected for ms in lat]
    with db.session() as session:
        dept_id = session.scalars(select(Department.id).where(Department.code == CLAIM_DEPT)).one()
        claimed_ids = set(handed)
        # Each claimed incident must carry exactly one claim on its timeline.
        per_incident = session.execute(
            select(Event.incident_id, text("COUNT(*)"))
            .join(EventType, EventType.id == Event.event_type_id)
            .where(EventType.code == "Assignment", Event.incident_id.in_(claimed_ids))
            .group_by(Event.incident_id)
        ).all()
        twice = sum(1 for _i, n in per_incident if n != 1)
        left = session.scalar(
            select(text("COUNT(*)"))
            .select_from(Incident)
            .where(
                Incident.department_id == dept_id,
                Incident.owner_id.is_(None),
                Incident.status == "registered",
            )
        )
        # Close them so that the next run finds the same board.
        session.execute(
            text("UPDATE incident SET status = 'closed' WHERE department_id = :d"),
            {"d": dept_id},
        )
    double = (len(handed) - len(claimed_ids)) + twice
    return {
        "claimers": claimers,
        "queue": claims,
        "claimed": len(claimed_ids),
        "left_in_queue": left,
        "double_claims": double,
        "seconds": round(elapsed, 2),
        "claims_per_second": round(len(handed) / elapsed, 1),
        "per_claimer": sorted(len(ids) for _l, ids, _lat in collected),
        "claim": summary(latencies),
        "ok": double == 0 and len(claimed_ids) == claims and left == 0,
    }


def run(name: str, url: str, args: argparse.Namespace) -> dict:
    log(f"{name}: preparing {args.incidents:,} incidents")
    db = Database(url, pool_size=2)
    how = prepare(db, url, args.incidents, args.open, args.data)
    _vacuum(db)
    log(f"{name}: {how}; {_open_count(db):,} open")
    board = measure_board(db, args.runs)
    log(
        f"{name}: board refresh median {board['board_refresh']['median_ms']} ms "
        f"(p95 {board['board_refresh']['p95_ms']} ms), {board['open_incidents']:,} open"
    )
    result = {"database": db.describe(), "data": how, **board}
    if name == "postgresql" or args.sqlite_claims:
        claims = args.claims if name == "postgresql" else args.sqlite_claims
        claim = measure_claims(db, url, args.claimers, claims)
        log(
            f"{name}: {claim['claims_per_second']} claims/s with {args.claimers} processes, "
            f"{claim['double_claims']} double claims"
        )
        result["claims"] = claim
    db.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=50_000, help="open ones (own generator)")
    parser.add_argument("--runs", type=int, default=31, help="board refreshes measured")
    parser.add_argument("--claimers", type=int, default=8, help="claimer processes")
    parser.add_argument("--claims", type=int, default=4000, help="queue length (PostgreSQL)")
    parser.add_argument(
        "--sqlite-claims", type=int, default=1000, help="queue length on SQLite (0: skip)"
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--data", choices=("auto", "demo", "bulk"), default="auto")
    parser.add_argument("--sqlite-path", default="/tmp/cc-tui-bench/queues.sqlite3")
    parser.add_argument("--pg-database", default="cct_bench_queues")
    parser.add_argument("--rebuild", action="store_true", help="drop and build the data again")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    results = {}
    if args.only in (None, "sqlite"):
        path = Path(args.sqlite_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        results["sqlite"] = run("sqlite", f"sqlite:///{path}", args)
    if args.only in (None, "postgresql"):
        if args.rebuild:
            drop_pg(args.pg_database)
        results["postgresql"] = run("postgresql", pg_url(args.pg_database), args)

    ok = all(r["ok"] and r.get("claims", {"ok": True})["ok"] for r in results.values())
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            b = r["board_refresh"]
            print(
                f"{name:<10} board refresh  median {b['median_ms']:>6} ms  p95 {b['p95_ms']:>6} ms"
                f"  ({r['open_incidents']:,} open; queue {r['queue']} of {r['queue_length']:,})"
            )
            m = r["my_work_page"]
            print(f"{'':<10} my work page   median {m['median_ms']:>6} ms  p95 {m['p95_ms']:>6} ms")
            if "claims" in r:
                c = r["claims"]
                print(
                    f"{'':<10} claims         {c['claims_per_second']:>8} /s with {c['claimers']}"
                    f" processes; one claim median {c['claim']['median_ms']} ms; "
                    f"double claims {c['double_claims']}"
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
