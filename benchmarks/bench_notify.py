"""Notifications: what queuing adds to the change that causes it, and the sender's drain rate.

1. Queuing: `--changes` action requests are registered (intake's `save_call`, one
   transaction each, as an agent saves one), each queuing its "registered" e-mail to the
   customer in the same transaction. Timed: the call to `outbox.queue` inside each change
   (median, p95; wall clock and the thread's CPU), and the whole change with the policy on
   and, alternating with it, off (the difference of the medians is what a customer notice
   costs the agent).
2. Draining: `--count` queued e-mails, each the registration notice of its own incident
   (rendered from its template, threaded to its incident), sent by `send_due` passes to a
   local SMTP server (aiosmtpd), one connection per batch of 100, marks twenty a
   transaction, each sent message kept as outgoing mail. Rate, and the median and p95 of
   one batch (claim, send, mark) per message.

Targets (issue 17): queuing adds under 2 ms to the change; 10,000 e-mails drained at 200 or
more per second.

    .venv/bin/python benchmarks/bench_notify.py [--count 10000] [--changes 300] [--no-pg]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from cc_tui import clock  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Incident, Notification  # noqa: E402
from cc_tui.services.context import actor_of, bootstrap_admin  # noqa: E402
from cc_tui.services.notify import outbox  # noqa: E402
from cc_tui.services.notify import sender as sending  # noqa: E402

FROM = "desk@example.org"


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def desk(db: Database):
    from cc_tui.services.directory.agents import add_department
    from cc_tui.services.directory.codes import add_code
    from cc_tui.services.directory.customers import add_customer
    from cc_tui.services.sla.priorities import add_priority

    with db.session() as s:
        admin = bootstrap_admin(s, "admin")
        assert admin is not None
        actor = actor_of(admin)
        add_department(s, actor=actor, code="DESK", name="Service desk")
        add_code(s, actor=actor, kind="reason", path="HW")
        add_code(s, actor=actor, kind="reason", path="HW/DISK")
        add_code(s, actor=actor, kind="problem", path="DESK/IT/PC/DISK")
        add_priority(s, actor=actor, code="P3", name="Normal", is_default=True)
        customers = [
            add_customer(s, actor=actor, name=f"Customer {i}", email=f"c{i}@example.com").id
            for i in range(50)
        ]
    return actor, customers


def register(db: Database, actor, customer: int, n: int) -> float:
    from cc_tui.services.incidents.intake import IntakeForm, save_call

    form = IntakeForm(
        request_type="action",
        customer_id=customer,
        title=f"Disk full {n}",
        reason="HW/DISK",
        problem_code="DESK/IT/PC/DISK",
    )
    started = time.perf_counter()
    with db.session() as s:
        save_call(s, actor=actor, channel="phone", form=form)
    return time.perf_counter() - started


def queuing(db: Database, actor, customers: list[int], changes: int) -> None:
    queue_times: list[float] = []
    queue_cpu: list[float] = []
    real_queue = outbox.queue
    real_policy = outbox.policy_of
    policy_on = [True]

    def policy_of(session):
        # The run without a policy: the table's rows as if all were switched off.
        return real_policy(session) if policy_on[0] else frozenset()

    def timed_queue(session, *args, **kwargs):
        if not policy_on[0]:  # the run without a policy: nothing to time
            return real_queue(session, *args, **kwargs)
        # What the change wrote so far goes to the database at its commit anyway: flushed
        # first, it is not counted as queuing's.
        session.flush()
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return real_queue(session, *args, **kwargs)
        finally:
            queue_times.append(time.perf_counter() - started)
            queue_cpu.append(time.thread_time() - cpu)

    outbox.queue = timed_queue  # type: ignore[assignment]
    outbox.policy_of = policy_of  # type: ignore[assignment]
    try:
        # Warm up (first statements prepared, caches filled).
        for n in range(20):
            register(db, actor, customers[n % len(customers)], n)
        queue_times.clear()
        queue_cpu.clear()
        # Alternated, so that a change of the machine's load meanwhile hits both alike.
        with_policy: list[float] = []
        without: list[float] = []
        for n in range(changes):
            customer = customers[n % len(customers)]
            with_policy.append(register(db, actor, customer, n))
            policy_on[0] = False
            try:
                without.append(register(db, actor, customer, n))
            finally:
                policy_on[0] = True
    finally:
        outbox.queue = real_queue  # type: ignore[assignment]
        outbox.policy_of = real_policy  # type: ignore[assignment]
    print(f"  outbox.queue inside the change: {ms(queue_times)}  ({len(queue_times)} changes)")
    # The wall clock of a millisecond's work on a loaded machine includes waits for a core;
    # the thread's CPU time does not (nor the database's round trips on PostgreSQL).
    print(f"  outbox.queue CPU of this thread:  {ms(queue_cpu)}")
    print(f"  registration with its e-mail queued: {ms(with_policy)}")
    print(f"  registration with no policy:         {ms(without)}")
    added = statistics.median(with_policy) - statistics.median(without)
    print(f"  difference of the medians: {added * 1000:.2f} ms")


def bulk_incidents(db: Database, count: int) -> list[int]:
    """`count` registered action requests like the first one (copied in bulk: registering
    them one by one is timed above, not here), each its own customer's."""
    table = Incident.__table__  # type: ignore[attr-defined]
    with db.session() as s:
        model = dict(
            s.execute(select(table).where(table.c.request_type == "action").limit(1))
            .mappings()
            .one()
        )
        model.pop("id")
        rows = [{**model, "title": f"Bench {i}"} for i in range(count)]
        s.execute(insert(table), rows)
        return list(
            s.scalars(select(table.c.id).where(table.c.title.like("Bench %")).order_by(table.c.id))
        )


def drain(db: Database, count: int) -> None:
    incidents = bulk_incidents(db, count)
    port = free_port()
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    target = sending.SmtpTarget("127.0.0.1", port, "none", FROM)
    try:
        # The registrations' own notices go first (not timed): the drain is `count` messages.
        sending.send_all(db, sending.SmtpTransport(target), sender=FROM)
        counter.count = 0
        now = clock.now()
        rows = [
            {
                "channel": "email",
                "reason": "registered",
                "incident_id": incident,
                "recipient": f"customer{i}@example.com",
                "body": "",
                "status": "queued",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "idempotency_key": f"bench:{uuid.uuid4().hex}",
            }
            for i, incident in enumerate(incidents)
        ]
        with db.session() as s:
            s.execute(insert(Notification.__table__), rows)  # type: ignore[attr-defined]
        batches: list[float] = []
        sent = 0
        cpu = time.process_time()
        started = time.perf_counter()
        while True:
            one_started = time.perf_counter()
            result = sending.send_due(db, sending.SmtpTransport(target), sender=FROM)
            if result.claimed:
                batches.append((time.perf_counter() - one_started) / result.claimed)
            sent += result.sent
            if result.claimed < sending.BATCH:
                break
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        controller.stop()
    print(
        f"  drained {sent} ({counter.count} received) in {seconds:.1f} s = "
        f"{sent / seconds:.0f}/s; per message in a batch: {ms(batches)}"
    )
    # On a shared machine the wall clock waits for other processes; the CPU this process
    # used (sender and SMTP server threads together) is what one free core would take.
    print(f"  CPU of this process: {cpu:.1f} s = {sent / cpu:.0f} messages per CPU-second")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(url: str, label: str, count: int, changes: int) -> None:
    db = Database(url)
    upgrade(db)
    actor, customers = desk(db)
    print(f"{label}:")
    queuing(db, actor, customers, changes)
    drain(db, count)
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    run(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3", "SQLite", args.count, args.changes)
    if not args.no_pg:
        from common import drop_pg, pg_url

        name = f"cct_bench_notify_{os.getpid()}"
        try:
            run(pg_url(name), "PostgreSQL", args.count, args.changes)
        finally:
            drop_pg(name)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
