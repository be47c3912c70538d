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
