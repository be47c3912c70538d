"""The foundation: schema, the change feed, what the services import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cc_tui.db.changes import ChangeListener, record_change
from cc_tui.db.migrate import schema_status


def test_schema_is_at_head(db):
    status = schema_status(db)
    assert status.up_to_date and not status.newer


def test_schema_check_reads_the_revisions_alembic_reads():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from cc_tui.db.migrate import MIGRATIONS, head_revision, known_revisions

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert head_revision() == scripts.get_current_head()
    assert known_revisions() == {s.revision for s in scripts.walk_revisions()}


def test_schema_check_does_not_load_alembic():
    code = (
        "import sys; from cc_tui.db.migrate import head_revision, known_revisions; "
        "head_revision(); known_revisions(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.commits
def test_change_feed_sees_committed_changes_only(db, admin):
    listener = ChangeListener(db, poll_seconds=0.05)
    try:
        assert listener.wait(timeout=0.1) == []
        with db.session() as session:
            record_change(session, entity="incident", action="created", incident_id=7)
        changes = listener.wait(timeout=3)
        assert [(c.entity, c.incident_id) for c in changes] == [("incident", 7)]
        assert listener.wait(timeout=0.1) == []
    finally:
        listener.close()


@pytest.mark.commits
def test_postgresql_wakes_listeners_once_per_committed_transaction(db, admin):
    """The trigger on `change` notifies, not the service: one empty notification for a
    transaction with several change rows, none for one that rolled back."""
    if db.is_sqlite:
        pytest.skip("SQLite has no NOTIFY; its listeners poll")
    import psycopg

    dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("LISTEN cc_tui")
        with db.session() as session:
            for incident in (1, 2, 3):
                record_change(session, entity="incident", action="created", incident_id=incident)
        with pytest.raises(RuntimeError), db.session() as session:
            record_change(session, entity="incident", action="created", incident_id=4)
            raise RuntimeError("rolled back")
        with db.session() as session:
            record_change(session, entity="queue", action="changed")
        heard = [n.payload for n in conn.notifies(timeout=2, stop_after=2)]
        heard += [n.payload for n in conn.notifies(timeout=0.3)]
    assert heard == ["", ""]


@pytest.mark.commits
def test_a_session_that_need_not_be_durable_commits_without_waiting_for_the_disk(db):
    """`durable=False` turns off synchronous_commit for that transaction only (PostgreSQL)."""
    if db.is_sqlite:
        pytest.skip("SQLite ignores durable")
    from sqlalchemy import text

    show = text("SHOW synchronous_commit")
    with db.session(durable=False) as session:
        assert session.execute(show).scalar_one() == "off"
    with db.session() as session:
        assert session.execute(show).scalar_one() == "on"


@pytest.mark.commits
def test_a_session_that_flushes_all_commits_to_disk(db):
    """`flush_all=True`: SQLite syncs its WAL for that commit (synchronous FULL) and goes
    back to NORMAL for the next; PostgreSQL's commit waits for the disk as always."""
    from sqlalchemy import text

    if db.is_sqlite:
        level = text("PRAGMA synchronous")
        expected_during, expected_after = 2, 1  # FULL, NORMAL
    else:
        level = text("SHOW synchronous_commit")
        expected_during, expected_after = "on", "on"
    with db.session(flush_all=True) as session:
        assert session.execute(level).scalar_one() == expected_during
    for _ in range(3):  # each pooled connection
        with db.session() as session:
            assert session.execute(level).scalar_one() == expected_after


HEADLESS = (
    "services",
    "models",
    "db",
    "config",
    "errors",
    "normalize",
    "clock",
    "untrusted",
    "demo",
)


def _modules(*packages: str) -> list[str]:
    """Every module of the given top-level parts of cc_tui, found on disk (not by importing)."""
    import cc_tui

    root = Path(cc_tui.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        # Alembic's env.py runs the migrations when imported; the revisions load only there.
        if name.startswith("cc_tui.db.migrations"):
            continue
        if any(name == f"cc_tui.{p}" or name.startswith(f"cc_tui.{p}.") for p in packages):
            found.append(name)
    return found


def _first_to_load(modules: list[str], unwanted: tuple[str, ...]) -> str:
    """Import `modules` one by one in a fresh interpreter; the first that loads an unwanted
    package, with the package, or 'none'."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"    loaded = [p for p in {unwanted!r} if p in sys.modules]\n"
        "    if loaded:\n"
        "        print(name, *loaded)\n"
        "        break\n"
        "else:\n"
        "    print('none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_headless_modules_load_no_terminal_ui():
    """Services, models, the database layer, settings, errors, folding, the clock and the demo
    data set run under the commands and in workers: importing any of them loads no Textual,
    Rich or Typer (the import contracts in pyproject.toml say the same about the source)."""
    modules = _modules(*HEADLESS)
    assert {
        "cc_tui.services.directory.customers",
        "cc_tui.services.incidents.records",
        "cc_tui.models.customer",
        "cc_tui.db.engine",
        "cc_tui.config",
        "cc_tui.normalize",
        "cc_tui.demo.generator",
    } <= set(modules)
    assert _first_to_load(modules, ("textual", "rich", "typer")) == "none"


def test_commands_load_no_textual_nor_database_layer():
    """The command line without the console: `cc-tui --help` and every command module load
    no Textual, and no SQLAlchemy before a command runs."""
    modules = ["cc_tui.cli.app", *_modules("cli.commands")]
    assert "cc_tui.cli.commands.incident" in modules
    assert _first_to_load(modules, ("textual", "sqlalchemy")) == "none"
