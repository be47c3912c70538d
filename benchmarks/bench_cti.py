"""Telephony: from a call event arriving at the bridge to the pop on the agent's screen, and
how many call events per second the bridge records.

The bridge is `cc-tui cti serve` in a process of its own, as in production. The console is
a headless cc-tui console (Textual's `run_test`) signed in as the agent the call rings for,
in this process, with the settings a console has by default (on SQLite it polls the change
feed every second; on PostgreSQL LISTEN/NOTIFY wakes it). Each run posts a `newCall` over
HTTP and waits until the console shows that call's pop; the time from just before the POST
to the pop on screen is the latency. Runs are spaced by an odd interval so the SQLite poll
is met at every phase.

Throughput: `--events` call events (newCall, answer, hangup for each call) posted by one
client one after the other, then by `--clients` clients at once; events per second and the
request median and p95.

    .venv/bin/python benchmarks/bench_cti.py [--runs 20] [--events 600] [--clients 8]
                                             [--json] [--no-pg]

Targets: pop p95 under 300 ms on PostgreSQL and under 1.5 s on SQLite; the bridge records
100 call events per second (with concurrent clients). Exit code 0 when they hold.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cc_tui.config import load_settings  # noqa: E402
from cc_tui.db.engine import Database  # noqa: E402
from cc_tui.db.migrate import upgrade  # noqa: E402
from cc_tui.models import Agent, Contact, Customer  # noqa: E402
from cc_tui.normalize import normalize_phone  # noqa: E402
from cc_tui.services.context import bootstrap_admin  # noqa: E402
from common import CC_TUI, drop_pg, log, pg_url  # noqa: E402

POP_TARGET_MS = {"sqlite": 1500.0, "postgresql": 300.0}
EVENTS_PER_SECOND = 100.0
PG_NAME = "cct_bench_cti"
TOKEN = "bench-token-0123456789abcdef"


def seed(url: str) -> None:
    db = Database(url)
    upgrade(db)
    with db.session() as s:
        bootstrap_admin(s, "admin")
        s.add(Agent(login="bob", name="Bob", role="agent", extension="201"))
        acme = Customer(
            number="K-00001",
            name="Acme AG",
            search_name="acme ag",
            phone="+49 30 1234567",
            phone_e164=normalize_phone("+49 30 1234567"),
        )
        s.add(acme)
        s.flush()
        s.add(
            Contact(
                customer_id=acme.id,
                name="Anna Nowak",
                search_name="anna nowak",
                phone="0171 5550001",
                phone_e164=normalize_phone("0171 5550001"),
            )
        )
    db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_bridge(url: str, folder: str) -> tuple[subprocess.Popen[bytes], str]:
    token = Path(folder) / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    port = free_port()
    bridge = subprocess.Popen(
        [str(CC_TUI), "--db", url, "--as", "admin", "cti", "serve", "--port", str(port),
         "--token-file", str(token)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1/cti/{TOKEN}"
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return bridge, base
        except OSError:
            if bridge.poll() is not None:
                error = bridge.stderr.read().decode() if bridge.stderr else ""
                raise SystemExit(f"the bridge did not start: {error}") from None
            time.sleep(0.05)
    raise SystemExit("the bridge did not listen")


def post(base: str, fields: dict[str, object]) -> float:
    """One event on a connection of its own; the seconds the request took."""
    data = urllib.parse.urlencode(fields, doseq=True).encode()
    request = urllib.request.Request(base, data=data, method="POST")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise SystemExit(f"the bridge answered {response.status}")
    return time.perf_counter() - started


class Client:
    """A PBX connector that keeps its HTTP connection open (keep-alive)."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.path = parts.path
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def post(self, fields: dict[str, object]) -> float:
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        started = time.perf_counter()
        self.connection.request("POST", self.path, body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"the bridge answered {response.status}")
        return time.perf_counter() - started


async def measure_pop(url: str, base: str, runs: int) -> list[float]:
    from cc_tui.console.app import CcTuiApp
    from cc_tui.dialogs.call_pop import CallPopDialog

    settings = load_settings(database_url=url, agent="bob", escalation_watch=False)
    app = CcTuiApp(settings=settings, start_mode="queues")
    latencies: list[float] = []
    async with app.run_test(size=(120, 35)) as pilot:
        while app.connection is None:
            if app.startup_error is not None:
                raise SystemExit(f"the console did not start: {app.startup_error}")
            await pilot.pause(0.05)
        await pilot.pause(1.0)  # the first screen's loads are done
        for n in range(runs):
            call_id = f"pop-{os.getpid()}-{n}"
            fields = {"event": "newCall", "callId": call_id, "from": "+4917155500 01",
                      "to": "4930555000", "direction": "in", "user[]": ["bob"]}  # fmt: skip
            started = time.perf_counter()
            await asyncio.to_thread(post, base, fields)
            while not (isinstance(app.screen, CallPopDialog) and app.screen.pop.call_id == call_id):
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"no pop for {call_id}")
                await pilot.pause(0.005)
            latencies.append(time.perf_counter() - started)
            await pilot.press("escape")
            await asyncio.to_thread(post, base, {"event": "hangup", "callId": call_id})
            await pilot.pause(0.37 + (n % 7) * 0.11)  # meet the poll at another phase
    return latencies


def calls(prefix: str, count: int) -> list[list[dict[str, object]]]:
    """Each call's three events, in order."""
    out = []
    for n in range(count):
        cid = f"{prefix}-{n}"
        out.append(
            [
                {
                    "event": "newCall",
                    "callId": cid,
                    "from": f"+49301{n:06d}",
                    "to": "4930555000",
                    "direction": "in",
                    "user[]": ["bob"],
                    "queue": "DESK",
                },
                {"event": "answer", "callId": cid, "answeringNumber": "201"},
                {"event": "hangup", "callId": cid, "cause": "normalClearing"},
            ]
        )
    return out


def measure_throughput(base: str, events: int, clients: int) -> dict[str, dict[str, float]]:
    """One client after the other, then `clients` at once; each client keeps its connection
    (as connectors do), except in the last run, which opens one per event."""
    out: dict[str, dict[str, float]] = {}
    runs = (
        ("sequential", 1, True),
        (f"{clients} clients", clients, True),
        (f"{clients} clients, new connection each", clients, False),
    )
    for label, workers, keep_alive in runs:
        batch = calls(f"tp-{len(out)}-{os.getpid()}", max(1, events // 3))
        out[label] = run_clients(base, batch, workers, keep_alive)
    return out


def run_clients(
    base: str, batch: list[list[dict[str, object]]], workers: int, keep_alive: bool
) -> dict[str, float]:
    """Each call's events in order by one client; `workers` clients at once."""
    times: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def one_call(events_of_call: list[dict[str, object]]) -> None:
        if keep_alive and not hasattr(local, "client"):
            local.client = Client(base)
        for fields in events_of_call:
            took = local.client.post(fields) if keep_alive else post(base, fields)
            with lock:
                times.append(took)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one_call, batch))
    elapsed = time.perf_counter() - started
    return {
        "events": len(times),
        "events_per_second": round(len(times) / elapsed, 1),
        **summary(times),
    }


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def bench(url: str, args: argparse.Namespace) -> dict[str, object]:
    seed(url)
    with tempfile.TemporaryDirectory() as folder:
        bridge, base = start_bridge(url, folder)
        try:
            pop = summary(asyncio.run(measure_pop(url, base, args.runs)))
            throughput = measure_throughput(base, args.events, args.clients)
        finally:
            bridge.terminate()
            bridge.wait(timeout=30)
    return {"pop": pop, "bridge": throughput}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        log("SQLite ...")
        results["sqlite"] = bench(f"sqlite:///{folder}/cti.sqlite3", args)
    if not args.no_pg:
        log("PostgreSQL ...")
        drop_pg(PG_NAME)
        try:
            results["postgresql"] = bench(pg_url(PG_NAME), args)
        finally:
            drop_pg(PG_NAME)
    ok = True
    for name, r in results.items():
        pop = r["pop"]
        assert isinstance(pop, dict)
        bridge = r["bridge"]
        assert isinstance(bridge, dict)
        ok &= pop["p95_ms"] < POP_TARGET_MS[name]
        ok &= max(v["events_per_second"] for v in bridge.values()) >= EVENTS_PER_SECOND
    load = {"before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    if args.json:
        print(json.dumps({"results": results, "load_average": load, "targets_met": ok}, indent=2))
    else:
        for name, r in results.items():
            pop = r["pop"]
            assert isinstance(pop, dict)
            print(
                f"{name:10}  pop        median {pop['median_ms']:7.1f} ms  "
                f"p95 {pop['p95_ms']:7.1f} ms  max {pop['max_ms']:7.1f} ms  "
                f"(target: p95 < {POP_TARGET_MS[name]:.0f} ms)"
            )
            bridge = r["bridge"]
            assert isinstance(bridge, dict)
            for label, b in bridge.items():
                print(
                    f"{'':10}  bridge {label:36} {b['events_per_second']:7.1f} events/s  "
                    f"request median {b['median_ms']:6.1f} ms  p95 {b['p95_ms']:6.1f} ms"
                )
        print(f"load average before {load['before']}, after {load['after']}")
        print(f"targets met: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
