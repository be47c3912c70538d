"""`cc-tui import incidents`: the JSON shape (the contract), text output, errors, --map."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from tests.servicenow_export import generate


def _file(tmp_path, text, name="export.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_json_shape_and_a_second_run(cli, tmp_path):
    export = generate(30, bad_every=10, agents=3, callers=5)
    path = _file(tmp_path, export.text)
    result = cli("import", "incidents", path, "--zone", "UTC", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == [
        "file",
        "encoding",
        "rows",
        "imported",
        "skipped_existing",
        "bad",
        "created",
    ]
    assert (data["file"], data["encoding"], data["rows"]) == (path, "utf-8", 30)
    assert (data["imported"], data["skipped_existing"]) == (27, 0)
    assert [list(b) for b in data["bad"]] == [["line", "number", "reason"]] * 3
    assert [b["line"] for b in data["bad"]] == sorted(export.bad)
    assert list(data["created"]) == [
        "agents",
        "departments",
        "reason_codes",
        "priorities",
        "customers",
        "resolution_codes",
    ]
    # The 3 agents of the file and `unknown`, who registered the rows that name nobody.
    assert data["created"]["agents"] == 4
    assert data["created"]["resolution_codes"] == 9
    again = json.loads(cli("import", "incidents", path, "--json").stdout)
    assert (again["imported"], again["skipped_existing"]) == (0, 27)
    assert set(again["created"].values()) == {0}
    # Imported incidents are ordinary incidents for the other commands.
    shown = cli("incident", "show", "INC-1", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["status"] in ("closed", "solved")


def test_report_agents_over_an_import_credits_who_registered_not_the_importer(
    cli, tmp_path, monkeypatch
):
    from cc_tui.services.importing.incidents import login_for

    monkeypatch.setenv("CC_TUI_TIMEZONE", "UTC")

    export = generate(40, agents=3, callers=5, start=datetime(2025, 1, 1), days=30)
    result = cli("import", "incidents", _file(tmp_path, export.text), "--zone", "UTC", "--json")
    assert result.exit_code == 0, result.output
    report = cli("report", "agents", "--from", "2025-01-01", "--to", "2025-03-01", "--json")
    assert report.exit_code == 0, report.output
    registered = Counter(
        login_for(r["opened_by"] or r["sys_created_by"])
        if r["opened_by"] or r["sys_created_by"]
        else "unknown"
        for r in export.good
    )
    got = {r["group"]: r["registered"] for r in json.loads(report.stdout)["rows"]}
    assert "admin" not in got
    assert {login: n for login, n in got.items() if n} == dict(registered)


def test_text_output_lists_bad_rows(cli, tmp_path):
    text = "number,opened_at,closed_at\nA-1,2025-01-01 10:00,2025-01-01 11:00\n,2025-01-01,\n"
    result = cli("import", "incidents", _file(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert "2 rows, 1 imported, 0 already there, 1 bad" in result.stdout
    assert "number is empty" in result.stdout


def test_map_option(cli, tmp_path):
    text = "Ticket,Created,Done\nT-1,2025-01-01 10:00,2025-01-01 11:00\n"
    result = cli(
        "import",
        "incidents",
        _file(tmp_path, text),
        "--map",
        "Ticket=number",
        "--map",
        "Created=opened_at",
        "--map",
        "Done=closed_at",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1


def test_usage_errors_exit_2(cli, tmp_path):
    path = _file(tmp_path, "id,when\n1,2\n")
    missing = cli("import", "incidents", path, "--json")
    assert missing.exit_code == 2 and "no column for number" in missing.stderr
    assert missing.stdout == ""
    bad_map = cli("import", "incidents", path, "--map", "id=colour")
    assert bad_map.exit_code == 2 and "unknown field 'colour'" in bad_map.stderr
    zone = cli("import", "incidents", path, "--zone", "Mars/Olympus")
    assert zone.exit_code == 2 and "unknown time zone" in zone.stderr
    nofile = cli("import", "incidents", str(tmp_path / "nope.csv"))
    assert nofile.exit_code == 2 and "cannot read" in nofile.stderr


def test_cp1252_file_is_said(cli, tmp_path):
    path = tmp_path / "ansi.csv"
    path.write_bytes(
        "number,opened_at,closed_at,caller_id\nA-1,2025-01-01,2025-01-02,Zoë\n".encode("cp1252")
    )
    result = cli("import", "incidents", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["encoding"] == "cp1252"
    assert "not UTF-8" in result.stderr


def test_an_agent_may_not_import(cli, db, tmp_path):
    from tests import factories as f

    with db.session() as session:
        f.agent(session, "amy")
    path = _file(tmp_path, "number,opened_at\n")
    result = cli("import", "incidents", path, login="amy")
    assert result.exit_code == 1 and "only an admin" in result.stderr
