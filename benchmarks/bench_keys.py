"""What holding keys in order costs: typing speed into intake's title with the key order
(console/key_order.py) on and off.

The console runs headless (Textual's test driver) on a fresh SQLite database with a call
taken; each round posts a burst of keys the way the terminal driver does (all at once) into
the title field and measures until the field holds them all. Rounds alternate (on, off,
on, ...) so both see the same machine load. Prints the median and p95 time per key, and
the load average.

    .venv/bin/python benchmarks/bench_keys.py            # 30 rounds of 40 keys each
    .venv/bin/python benchmarks/bench_keys.py --rounds 60 --keys 80

Target: a key costs the agent no visible delay (well under a frame, 16 ms, per key).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(rounds: int, keys: int) -> dict[str, list[float]]:
    from tests.tui.test_intake_screen import build_snapshot_database
    from textual import events
    from textual.widgets import Input

    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    folder = tempfile.mkdtemp(prefix="cc-tui-bench-keys-")
    url = f"sqlite:///{folder}/keys.sqlite3"
    build_snapshot_database(url)
    settings = load_settings(database_url=url, agent="admin", timezone="UTC", poll_seconds=1)
    app = CcTuiApp(settings=settings, start_mode="intake")
    per_key: dict[str, list[float]] = {"in order": [], "unordered": []}
    async with app.run_test(size=(120, 35)) as pilot:
        while app.connection is None:
            await pilot.pause(0.05)
        await pilot.press("f2")
        intake = app.screen
        while getattr(intake, "contact", None) is None:
            await pilot.pause(0.05)
        title = intake.query_one("#title", Input)
        title.focus()
        await pilot.pause(0.2)
        gate = app.key_order
        admit = gate.admit
        for n in range(rounds * 2):
            ordered = n % 2 == 0
            gate.admit = admit if ordered else (lambda event: True)  # type: ignore[method-assign]
            title.value = ""
            await pilot.pause(0.05)
            text = ("abcdefghij" * (keys // 10 + 1))[:keys]
            start = time.perf_counter()
            for char in text:
                app.post_message(events.Key(char, char))
            while title.value != text:
                await asyncio.sleep(0.0005)
            elapsed = time.perf_counter() - start
            per_key["in order" if ordered else "unordered"].append(elapsed / keys * 1000)
        gate.admit = admit  # type: ignore[method-assign]
    return per_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    os.environ["CC_TUI_ESCALATION_WATCH"] = "false"
    os.environ.pop("NO_COLOR", None)
    results = asyncio.run(measure(args.rounds, args.keys))
    load = os.getloadavg()
    print(f"{args.rounds} rounds of {args.keys} keys into intake's title (ms per key)")
    for name, values in results.items():
        print(f"  {name:10}  median {statistics.median(values):6.3f}  p95 {p95(values):6.3f}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
