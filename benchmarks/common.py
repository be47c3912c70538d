"""What the benchmarks share: the PostgreSQL server they use, their databases, progress lines.

Benchmarks run as scripts (`python benchmarks/bench_x.py`), so this module is imported by
its plain name from the scripts' own folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CC_TUI = Path(sys.executable).with_name("cc-tui")
PG_ADMIN = os.environ.get(
    "CC_TUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pg_url(name: str) -> str:
    """The URL of database `name` on the benchmark server, created if it is missing."""
    import psycopg

    from cc_tui.db.engine import parse_url

    admin = parse_url(PG_ADMIN)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_pg(name: str) -> None:
    import psycopg

    from cc_tui.db.engine import parse_url

    admin = parse_url(PG_ADMIN).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def demo_cli_has(option: str) -> bool:
    """Whether this cc-tui's `demo` command takes `option` (the scale loader is there)."""
    try:
        result = subprocess.run(
            [str(CC_TUI), "demo", "--help"], capture_output=True, text=True, timeout=60
        )
    except OSError:
        return False
    return result.returncode == 0 and option in result.stdout
