"""Every error is the right error: one line, the exit code that says what happened (2 usage,
1 rule, 3 not found), the same on both databases; 5 only when the database is unreachable."""

from __future__ import annotations

import json

import pytest

from tests import factories


@pytest.fixture
def world(cli, db, admin):
    with db.session() as session:
        factories.codes(session, admin)
        factories.normal_priority(session, admin)
        acme = factories.customer(session, "Acme", number="K-1")
    opened = cli(
        "incident", "open", "--channel", "phone", "--type", "action",
        "--customer", str(acme.id), "--title", "Disk full", "--reason", "HW/DISK", "--json",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    return {"ref": json.loads(opened.stdout)["number"], "customer": acme.id}


def test_expected_close_can_be_set_and_cleared(cli, world) -> None:
    """Finding 3: the timeline's data holds the day as text, not a date object."""
    ref = world["ref"]
    done = cli("incident", "update", ref, "--expected-close", "2026-12-20", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["expected_close"] == "2026-12-20"
    cleared = cli("incident", "update", ref, "--expected-close", "", "--json")
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.stdout)["expected_close"] is None
    timeline = cli("incident", "timeline", ref, "--kind", "system", "--json")
    assert "expected_close: - -> 2026-12-20" in timeline.stdout


def test_kb_import_reports_an_impossible_date_and_imports_the_rest(cli, world, tmp_path) -> None:
    """Finding 4."""
    (tmp_path / "bad-date.md").write_text(
        "---\ntitle: Bad\nkind: script\nreview: 2026-02-30\n---\nBody\n"
    )
    (tmp_path / "good.md").write_text("---\ntitle: Good\nkind: script\n---\nBody\n")
    result = cli("kb", "import", str(tmp_path), "--json")
    outcomes = {o["file"]: o for o in json.loads(result.stdout)}
    assert outcomes["good.md"]["action"] == "created"
    assert outcomes["bad-date.md"]["action"] == "error"
    assert "day is out of range" in outcomes["bad-date.md"]["error"]


def test_kb_import_of_a_folder_name_too_long_is_a_usage_error(cli, world) -> None:
    """Finding 11."""
    result = cli("kb", "import", "x" * 100_000)
    assert result.exit_code == 2, result.output
    assert "cannot read" in result.stderr
    assert len(result.stderr) < 400


def test_an_argument_that_is_not_utf8_names_the_option(cli, world) -> None:
    """Finding 6."""
    result = cli("customer", "add", "--name", "bad\udcffname")
    assert result.exit_code == 2
    assert "name: not valid UTF-8 text" in result.stderr


def test_oversized_numbers_are_usage_errors_or_not_found(cli, world) -> None:
    """Finding 7: the same answer on SQLite and PostgreSQL."""
    huge = cli(
        "incident", "open", "--channel", "phone", "--type", "action",
        "--customer", "99999999999999999999", "--title", "T", "--reason", "HW/DISK",
    )  # fmt: skip
    assert huge.exit_code == 2, huge.output
    assert "customer" in huge.stderr
    missing = cli("incident", "show", "2147483648")
    assert missing.exit_code == 3, missing.output
    assert "no incident INC-2147483648" in missing.stderr


def test_too_long_values_are_refused_naming_the_field_on_both_databases(cli, world) -> None:
    """Finding 8: checked before the database sees them."""
    result = cli(
        "incident", "open", "--channel", "phone", "--type", "action",
        "--customer", str(world["customer"]), "--title", "x" * 301, "--reason", "HW/DISK",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "incident title is too long: 301 characters (at most 300)" in result.stderr
    name = cli("customer", "add", "--name", "y" * 3083)
    assert name.exit_code == 2, name.output
    assert "name is longer than 200" in name.stderr


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://u:secret@127.0.0.1:notaport/db", "postgresql://u@[::1/db"]
)
def test_a_database_url_with_a_bad_port_is_a_usage_error(url: str) -> None:
    """Finding 11: one line, the password not shown."""
    from typer.testing import CliRunner

    from cc_tui.cli.app import app

    result = CliRunner().invoke(app, ["--db", url, "incident", "list"])
    assert result.exit_code == 2, result.output
    assert "not a database URL" in result.stderr
    assert "secret" not in result.stderr


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00"])
def test_calendar_due_far_from_now_is_a_usage_error(cli, world, start: str) -> None:
    """Finding 11."""
    added = cli("calendar", "add", "office", "--hours", "mon-fri 08:00-17:00")
    assert added.exit_code == 0, added.output
    result = cli("calendar", "due", "office", "--start", start, "--minutes", "60")
    assert result.exit_code == 2, result.output
    assert "start must lie between 1900 and 2999" in result.stderr


def test_a_deadline_in_year_one_is_a_usage_error(cli, world) -> None:
    """Finding 11."""
    result = cli("incident", "deadline", world["ref"], "--resolve-due", "0001-01-01T00:00")
    assert result.exit_code == 2, result.output
    assert "must lie between" in result.stderr


def test_a_priority_offset_beyond_ten_years_is_refused(cli, world) -> None:
    """Finding 12: it would overflow every deadline computed with it."""
    result = cli("priority", "add", "PX", "--name", "X", "--response", "9223372036854775807m")
    assert result.exit_code == 2, result.output
    assert "response" in result.stderr
    long = cli("priority", "add", "PX", "--name", "X", "--response", "87841h")
    assert long.exit_code == 2, long.output
    assert "response minutes must be 0 to 5270400" in long.stderr
    fine = cli("priority", "add", "PX", "--name", "X", "--response", "87000h")
    assert fine.exit_code == 0, fine.output


# -- escalation as of another time (finding 2) -----------------------------------------------


def _escalation(db, ref: str) -> str:
    from cc_tui.services.incidents.records import get_incident

    with db.session(write=False) as session:
        return get_incident(session, ref).escalation


def test_escalate_at_is_for_admins_and_a_future_one_writes_nothing(cli, db, world) -> None:
    with db.session() as session:
        factories.agent(session, "bob")
    refused = cli("escalate", "--at", "2026-01-01T00:00:00Z", login="bob")
    assert refused.exit_code == 1, refused.output
    assert "only an admin" in refused.stderr
    assert cli("escalate", "--at", "9999-12-31T23:59:59Z").exit_code == 2
    dry = cli("escalate", "--at", "2999-12-31T23:59:59Z", "--json")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.stderr
    assert json.loads(dry.stdout)["late"] == 1  # what would happen
    assert _escalation(db, world["ref"]) == "on_time"  # and nothing happened
    timeline = cli("incident", "timeline", world["ref"], "--kind", "system", "--json")
    assert "escalation" not in timeline.stdout


def test_a_late_state_from_a_sweep_dated_in_the_future_is_repaired(db, world) -> None:
    """What `escalate --at 9999-...` left behind before it became a dry run."""
    from datetime import UTC, datetime

    from cc_tui.services.sla.escalation import escalate, escalate_all

    with db.session() as session:
        escalate(session, at=datetime(2999, 12, 31, tzinfo=UTC))
    assert _escalation(db, world["ref"]) == "late"
    escalate_all(db)  # a normal sweep, as of now
    assert _escalation(db, world["ref"]) == "on_time"
    with db.session(write=False) as session:
        from cc_tui.services.incidents.records import get_incident

        assert get_incident(session, world["ref"]).escalate_at is not None  # clocks run again


# -- the database and its files (findings 10, 13, 14, 15) ------------------------------------


def test_db_status_exits_5_while_the_schema_needs_an_upgrade(tmp_sqlite_url: str) -> None:
    from typer.testing import CliRunner

    from cc_tui.cli.app import app

    runner = CliRunner()
    before = runner.invoke(app, ["--db", tmp_sqlite_url, "db", "status", "--json"])
    assert before.exit_code == 5, before.output
    assert json.loads(before.stdout)["up_to_date"] is False
    assert runner.invoke(app, ["--db", tmp_sqlite_url, "db", "upgrade"]).exit_code == 0
    after = runner.invoke(app, ["--db", tmp_sqlite_url, "db", "status"])
    assert after.exit_code == 0, after.output


def test_reading_the_embedded_database_opens_no_write_transaction(sqlite_db, monkeypatch) -> None:
    """A read-only SQLite file stays readable: the start-up check writes only when the
    database has no agent yet."""
    from cc_tui.services import setup
    from cc_tui.services.context import bootstrap_admin

    with sqlite_db.session() as session:
        bootstrap_admin(session, "admin")
    writes: list[bool] = []
    session = sqlite_db.session

    def recording(*, write: bool = True):
        writes.append(write)
        return session(write=write)

    monkeypatch.setattr(sqlite_db, "session", recording)
    monkeypatch.setattr(setup, "_prepared", set())
    setup.prepare_database(sqlite_db, "admin")
    assert writes and not any(writes)


def test_the_embedded_database_and_its_folder_are_for_the_owner_only(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cc_tui.cli.app import app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr("cc_tui.services.setup._prepared", set())
    result = CliRunner().invoke(app, ["--as", "admin", "incident", "list"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "data" / "cc-tui"
    assert folder.stat().st_mode & 0o777 == 0o700
    files = list(folder.iterdir())
    assert any(f.name == "cc-tui.sqlite3" for f in files)
    for path in files:  # the database and its -wal and -shm files
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_a_config_file_holding_a_password_others_can_read_is_refused(tmp_path) -> None:
    from cc_tui.config import load_settings
    from cc_tui.errors import UsageError

    config = tmp_path / "config.toml"
    config.write_text('database_url = "postgresql+psycopg://desk:s3cret@db/cctui"\n')
    config.chmod(0o644)
    with pytest.raises(UsageError, match=f"run `chmod 600 {config}`"):
        load_settings(config)
    config.chmod(0o600)
    assert load_settings(config).database_url.endswith("@db/cctui")
    config.write_text('database_url = "postgresql+psycopg://desk@db/cctui"\n')
    config.chmod(0o644)  # no secret in it: readable is fine
    assert load_settings(config).database_url.endswith("desk@db/cctui")


def test_two_upgrades_at_once_on_an_empty_postgresql_database(pg_admin_url: str) -> None:
    import threading

    from cc_tui.db.engine import Database
    from cc_tui.services.setup import upgrade_database
    from tests.conftest import _create_pg_database, _drop_pg_database

    url = _create_pg_database(pg_admin_url)
    try:
        start = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def run(login: str) -> None:
            db = Database(url)
            start.wait()
            try:
                outcomes[login] = upgrade_database(db, login).admin
            except Exception as error:  # what the losing run used to report
                outcomes[login] = error
            finally:
                db.dispose()

        threads = [threading.Thread(target=run, args=(login,)) for login in ("ann", "ben")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
        assert sorted(map(str, outcomes.values())) in (["None", "ann"], ["None", "ben"])
    finally:
        _drop_pg_database(pg_admin_url, url)
