"""Start-up time of the console, measured side by side with an empty Textual app.

Each run starts a fresh Python process on a pseudo-terminal (120x35, as a person's
terminal), so Textual runs its real driver. The child writes `time.monotonic()` (one clock
for all processes on Linux) when Textual reports its first frame (`events.Ready`); the
parent took the same clock just before starting the process. For cc-tui the child goes
through the real entry point (`cc-tui --db URL --as LOGIN`: `cc_tui.cli.main.main`) and also
reports when the start screen (the intake form) is painted and when the settings are read,
the database open and the agent signed in. cc-tui's first frame is the console's frame
(header with the agent, mode tabs, footer with the keys); the start screen follows.

Children run with a bytecode cache, as an installed program does (this workplace sets
PYTHONDONTWRITEBYTECODE, which would make every start compile every module).

Runs alternate (empty, cc-tui, empty, ...) so both see the same machine load.

    .venv/bin/python benchmarks/bench_startup.py            # 21 runs each
    .venv/bin/python benchmarks/bench_startup.py --runs 41 --json

Targets: cc-tui first paint <= 1.3x the empty app's; `cc-tui --help` < 0.3 s.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CC_TUI = Path(PYTHON).with_name("cc-tui")
COLUMNS, LINES = 120, 35
PAINT_RATIO_TARGET = 1.3
HELP_TARGET_SECONDS = 0.3

EMPTY_APP = """
import sys, time
from textual.app import App

class Empty(App):
    def on_ready(self):
        with open(sys.argv[1], "a") as out:
            out.write(f"paint {time.monotonic()}\\n")
        self.exit()

Empty().run()
"""

CC_TUI_APP = """
import sys, time
out_path, url = sys.argv[1], sys.argv[2]

def stamp(what):
    with open(out_path, "a") as out:
        out.write(f"{what} {time.monotonic()}\\n")

# The console's own module, loaded a little earlier than `cc-tui` would (same total work),
# so that cli.start_console starts this subclass, which only adds the time stamps.
import cc_tui.console.app

class Probe(cc_tui.console.app.CcTuiApp):
    seen = set()

    def reached(self, what):
        stamp(what)
        self.seen.add(what)
        if {"screen", "ready"} <= self.seen:
            self.exit()

    def on_ready(self):  # runs in addition to CcTuiApp.on_ready
        stamp("paint")

    def on_start_screen_shown(self, message):
        self.reached("screen")

    def on_database_ready(self, message):
        self.reached("ready")

    def on_database_failed(self, message):
        stamp("failed")
        self.exit()

cc_tui.console.app.CcTuiApp = Probe
sys.argv = ["cc-tui", "--db", url, "--as", "bench"]
from cc_tui.cli.main import main  # the `cc-tui` console script's entry point
main()
"""


def _drain(fd: int, tail: bytearray) -> None:
    """Read the terminal output (so the child never blocks on a full pty); keep the end."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        tail.extend(chunk)
        del tail[:-4000]


def run_on_pty(code: str, args: list[str], pycache: Path) -> dict[str, float]:
    """Run `python -c code args...` on a fresh pty; return the stamps relative to start."""
    with tempfile.NamedTemporaryFile("w", suffix=".stamps", delete=False) as handle:
        stamps_path = Path(handle.name)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "CC_TUI_CONFIG_FILE": str(stamps_path.with_suffix(".none.toml")),
    }
    # As an installed program runs: with compiled bytecode (kept apart from the tree).
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    for name in (
        "PYTHONDONTWRITEBYTECODE",
        "TEXTUAL",
        "NO_COLOR",
        "CC_TUI_DATABASE_URL",
        "CC_TUI_AGENT",
    ):
        env.pop(name, None)
    tail = bytearray()
    reader = threading.Thread(target=_drain, args=(master, tail), daemon=True)
    reader.start()
    started = time.monotonic()
    process = subprocess.Popen(
        [PYTHON, "-c", code, str(stamps_path), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        process.wait(timeout=60)
    finally:
        ended = time.monotonic()
        os.close(master)
        reader.join(timeout=2)
    stamps: dict[str, float] = {"exit": ended - started}
    for line in stamps_path.read_text().splitlines():
        what, moment = line.split()
        stamps[what] = float(moment) - started
    stamps_path.unlink()
    if "paint" not in stamps:
        output = tail.decode(errors="replace")
        raise RuntimeError(f"no first paint (exit code {process.returncode}):\n{output}")
    if "failed" in stamps:
        raise RuntimeError("cc-tui could not open the benchmark database")
    return stamps


def time_help(runs: int, pycache: Path) -> list[float]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(runs + 1):
        started = time.monotonic()
        subprocess.run([str(CC_TUI), "--help"], stdout=subprocess.DEVNULL, env=env, check=True)
        times.append(time.monotonic() - started)
    return times[1:]  # the first run compiles the bytecode


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each app (default 21)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        pycache = Path(folder) / "pycache"
        # Warm-up: creates and migrates the database (as on first use), compiles the
        # bytecode, warms the file cache.
        run_on_pty(CC_TUI_APP, [url], pycache)
        run_on_pty(EMPTY_APP, [], pycache)
        empty: list[dict[str, float]] = []
        console: list[dict[str, float]] = []
        for _ in range(options.runs):
            empty.append(run_on_pty(EMPTY_APP, [], pycache))
            console.append(run_on_pty(CC_TUI_APP, [url], pycache))
        help_times = time_help(options.runs, pycache)

    empty_paint = median_ms([s["paint"] for s in empty])
    console_paint = median_ms([s["paint"] for s in console])
    result = {
        "runs": options.runs,
        "terminal": f"{COLUMNS}x{LINES}",
        "empty_app_first_paint_ms": empty_paint,
        "cc_tui_first_paint_ms": console_paint,
        "paint_ratio": round(console_paint / empty_paint, 2),
        "paint_ratio_target": PAINT_RATIO_TARGET,
        "cc_tui_start_screen_ms": median_ms([s["screen"] for s in console]),
        "cc_tui_database_ready_ms": median_ms([s["ready"] for s in console]),
        "cc_tui_help_ms": median_ms(help_times),
        "help_target_ms": HELP_TARGET_SECONDS * 1000,
    }
    result["paint_ok"] = result["paint_ratio"] <= PAINT_RATIO_TARGET
    result["help_ok"] = result["cc_tui_help_ms"] <= HELP_TARGET_SECONDS * 1000
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"runs per app: {options.runs} (medians, terminal {result['terminal']})")
        print(f"empty Textual app, first paint : {empty_paint:8.1f} ms")
        print(
            f"cc-tui, first paint            : {console_paint:8.1f} ms  "
            f"({result['paint_ratio']}x, target <= {PAINT_RATIO_TARGET}x)"
        )
        print(f"cc-tui, start screen painted   : {result['cc_tui_start_screen_ms']:8.1f} ms")
        print(f"cc-tui, database open + sign-in: {result['cc_tui_database_ready_ms']:8.1f} ms")
        print(
            f"cc-tui --help                  : {result['cc_tui_help_ms']:8.1f} ms  "
            f"(target < {HELP_TARGET_SECONDS * 1000:.0f} ms)"
        )
    return 0 if result["paint_ok"] and result["help_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
