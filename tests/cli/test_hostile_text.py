"""Untrusted text: nothing a customer, a caller or a file writes can command a terminal.

Every text column of every table is cleaned on write (the write guard), and every face
shows what may still hold control characters as visible signs (older rows, other writers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import String, text
from sqlmodel import SQLModel

from cc_tui.db.guard import check_value, storage_type
from cc_tui.errors import UsageError
from cc_tui.untrusted import BIDI, CONTROL, clean, has_control, visible
from tests import factories

# What the hostile-input review used, and its relatives.
HOSTILE = [
    "\x1b[31mRED\x1b[0m \x1b]0;pwned-title\x07",
    "\x1b]52;c;cHduZWQ=\x07clip",
    "a\x9b2Jb\x9d0;t\x9c",
    "nul\x00byte\x7fdel\x08bs",
    "\x1bP+q544e\x1b\\dcs",
    "\x1b[2J\x1b[H\x1b[3J",
    "[@click=app.quit]x[/] [b]markup[/b]",
    "invoice\u202efdp.exe \u2067rtl\u2069 \u202aembed\u202c",
]


def no_control(value: str) -> bool:
    value = value.replace("\n", "").replace("\t", "")
    return CONTROL.search(value) is None and BIDI.search(value) is None


def test_clean_removes_every_control_character_keeping_lines_where_asked() -> None:
    assert clean("a\x1b[31mb\x07", multiline=False) == "a[31mb"
    assert clean("line 1\r\nline 2\tx\x9b", multiline=True) == "line 1\nline 2\tx"
    assert clean("line 1\nline 2\tx", multiline=False) == "line 1 line 2 x"
    assert clean("bad\udcffname", multiline=False) == "bad\ufffdname"
    for hostile in HOSTILE:
        assert not has_control(clean(hostile, multiline=False))
        assert no_control(clean(hostile, multiline=True))


def test_visible_shows_each_control_character_as_a_sign() -> None:
    assert visible("a\x1b]0;t\x07b") == "a\u241b]0;t\u2407b"
    assert visible("a\x9bb\x7f") == "a\ufffdb\u2421"
    assert visible("a\nb\tc", multiline=True) == "a\nb\tc"
    assert visible("a\nb") == "a\u240ab"


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidirectional_controls_are_cleaned_and_shown_as_signs() -> None:
    """An override reorders what follows it: `report<RLO>txt.exe` reads "reportexe.txt"."""
    for code in BIDI_CONTROLS:
        assert has_control(f"a{code}b")
        assert clean(f"report{code}txt.exe", multiline=False) == "reporttxt.exe"
        assert clean(f"a{code}\nb", multiline=True) == "a\nb"
        assert visible(f"report{code}txt.exe") == "report\ufffdtxt.exe"
        assert visible(f"a{code}\nb", multiline=True) == "a\ufffd\nb"
    # The implicit marks (LRM, RLM, ALM) reorder nothing after them: text, not controls.
    assert clean("a\u200e\u200f\u061cb", multiline=False) == "a\u200e\u200f\u061cb"


def test_a_file_name_with_a_direction_override_reaches_no_terminal(
    cli, db, admin, tmp_path, monkeypatch
):
    """`mail import` names each file in its table and its JSON: the override is a sign in
    the table and an escape in the JSON."""
    with db.session() as session:
        factories.codes(session, admin)
        factories.normal_priority(session, admin)
    monkeypatch.chdir(tmp_path)  # a short name: the table cuts a cell at 60 characters
    message = Path("report\u202etxt.exe.eml")
    message.write_bytes(
        b"From: Anna <anna@customer.example>\nSubject: r\nMessage-ID: <r@c>\n\nbody\n"
    )
    shown = cli("mail", "import", str(message), "--reason", "HW/DISK")
    assert shown.exit_code == 0, shown.output
    assert "\u202e" not in shown.stdout and "report\ufffdtxt.exe.eml" in shown.stdout
    again = cli("mail", "import", str(message), "--json")
    assert "\u202e" not in again.stdout and "\\u202e" in again.stdout
    assert json.loads(again.stdout)[0]["file"] == str(message)  # the data unchanged


def _text_columns():
    import cc_tui.models  # noqa: F401

    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(storage_type(column), String):
                yield column


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_write_guard_cleans_every_text_column_of_every_table(hostile: str) -> None:
    columns = list(_text_columns())
    assert len(columns) > 50  # every table's text columns, not a hand-picked few
    for column in columns:
        length = storage_type(column).length
        value = hostile[:length] if length else hostile
        stored = check_value(column, column.name, value)
        assert no_control(stored), (column, stored)
        if length is not None and not column.info.get("multiline"):
            assert not has_control(stored), (column, stored)


def test_the_write_guard_refuses_too_long_text_and_out_of_range_numbers() -> None:
    from cc_tui.models import Incident

    title = Incident.__table__.c.title
    with pytest.raises(UsageError, match="incident title is too long: 301 characters"):
        check_value(title, "title", "x" * 301)
    with pytest.raises(UsageError, match="incident customer_id is out of range"):
        check_value(Incident.__table__.c.customer_id, "customer_id", 2**31)


def _hostile_records(cli, db, admin, hostile: str) -> str:
    """A customer, a contact and an open incident with `hostile` in every text the commands
    take; returns the incident's number."""
    with db.session() as session:
        factories.codes(session, admin)
        factories.normal_priority(session, admin)
    added = cli(
        "customer", "add", "--name", f"Acme {hostile}", "--address", hostile,
        "--city", hostile[:100], "--region", hostile[:40], "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    customer_id = json.loads(added.stdout)["id"]
    contact = cli("customer", "contact-add", str(customer_id), "--name", f"Anna {hostile}")
    assert contact.exit_code == 0, contact.output
    opened = cli(
        "incident", "open", "--channel", "phone", "--type", "action",
        "--customer", str(customer_id), "--name", hostile[:200], "--title", hostile,
        "--description", f"said:\n{hostile}", "--reason", "HW/DISK", "--json",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    ref = json.loads(opened.stdout)["number"]
    event = cli("incident", "event", ref, "--type", "Note", "--text", hostile)
    assert event.exit_code == 0, event.output
    return ref


@pytest.mark.commits  # the stored rows are read back on a connection of their own
@pytest.mark.parametrize("hostile", HOSTILE[:3] + HOSTILE[-1:])
def test_hostile_text_is_stored_clean_and_no_command_prints_a_control_character(
    cli, db, admin, hostile: str
) -> None:
    ref = _hostile_records(cli, db, admin, hostile)
    with db.engine.connect() as conn:
        for table, columns in [
            ("customer", "name, address, city, region, search_name"),
            ("contact", "name, search_name"),
            ("incident", "title, description, caller_name"),
            ("event", "text"),
        ]:
            for row in conn.execute(text(f"SELECT {columns} FROM {table}")):
                for value in row:
                    assert value is None or no_control(value), (table, row)
    outputs = [
        cli("incident", "show", ref),
        cli("incident", "list"),
        cli("customer", "find", "Acme"),
        cli("queue", "list"),
        cli("incident", "timeline", ref),
        cli("incident", "show", ref, "--json"),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert no_control(result.stdout), result.stdout
    assert "Acme" in outputs[2].stdout


@pytest.mark.commits  # older rows are written past the guard on a connection of their own
def test_older_rows_with_control_characters_are_shown_as_signs(cli, db, admin) -> None:
    """Rows another writer stored before the guard: the CLI still prints no control code."""
    ref = _hostile_records(cli, db, admin, "plain")
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE incident SET title = :t, description = :d"),
            {"t": HOSTILE[0], "d": "x\x9b2J\ny"},
        )
        conn.execute(text("UPDATE customer SET name = :n"), {"n": "Acme \x1b]52;c;eA==\x07"})
    for args in [("incident", "show", ref), ("incident", "list"), ("customer", "find", "Acme")]:
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert no_control(result.stdout), result.stdout
    shown = cli("incident", "show", ref).stdout
    assert "\u241b[31mRED" in shown
    as_json = cli("incident", "show", ref, "--json")
    assert "\x9b" not in as_json.stdout
    assert json.loads(as_json.stdout)["description"] == "x\x9b2J\ny"  # the data unchanged


def test_an_argument_that_is_not_utf8_is_a_usage_error_naming_it(cli) -> None:
    result = cli("customer", "add", "--name", "bad\udcffname")
    assert result.exit_code == 2, result.output
    assert "name: not valid UTF-8 text" in result.stderr
