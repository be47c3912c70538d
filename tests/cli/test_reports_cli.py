"""`cc-tui report ...`: the JSON shapes, CSV and XLSX files, the incident report."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest

from cc_tui.models import Incident

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> | **bold** =cmd()'


@pytest.fixture
def incidents(db, admin):
    with db.session() as s:
        rows = [
            Incident(
                channel=channel,
                request_type=kind,
                status=status,
                created_by_id=admin.id,
                owner_id=admin.id if status != "abandoned" else None,
                title=HOSTILE,
                description=HOSTILE,
                opened_at=T0 + timedelta(hours=n),
                registered_at=T0 + timedelta(hours=n, minutes=2) if status != "abandoned" else None,
                assigned_at=T0 + timedelta(hours=n, minutes=10) if status == "closed" else None,
                first_response_at=T0 + timedelta(hours=n, minutes=20 + n)
                if status == "closed"
                else None,
                solved_at=T0 + timedelta(hours=n + 1) if status == "closed" else None,
                closed_at=T0 + timedelta(hours=n + 2) if status == "closed" else None,
            )
            for n, (channel, kind, status) in enumerate(
                [
                    ("phone", "action", "closed"),
                    ("phone", "information", "closed"),
                    ("email", "comment", "registered"),
                    ("phone", "action", "abandoned"),
                    ("web", "action", "closed"),
                ]
            )
        ]
        s.add_all(rows)
    return rows


def run_json(cli, *args):
    result = cli("report", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_volume_json_shape(cli, incidents):
    got = run_json(cli, "volume", "--from", "2026-03-02", "--to", "2026-03-03", "--by", "channel")
    assert got == {
        "from": "2026-03-02",
        "to": "2026-03-03",
        "by": "channel",
        "period": "day",
        "total": 5,
        "rows": [
            {"group": "email", "period": "2026-03-02", "count": 1},
            {"group": "phone", "period": "2026-03-02", "count": 3},
            {"group": "web", "period": "2026-03-02", "count": 1},
        ],
    }
    # The --to day is not included.
    assert run_json(cli, "volume", "--from", "2026-03-01", "--to", "2026-03-02")["total"] == 0


def test_times_json_shape(cli, incidents):
    got = run_json(cli, "times", "--from", "2026-03-02", "--to", "2026-03-03", "--by", "channel")
    assert list(got) == ["rows"]
    phone = next(r for r in got["rows"] if r["group"] == "phone")
    assert list(phone) == [
        "group",
        "count",
        "to_response",
        "to_assignment",
        "to_solution",
        "to_close",
        "booked",
    ]
    assert phone["count"] == 2  # the abandoned call is no request
    assert phone["to_response"] == {
        "count": 2,
        "mean_minutes": 20.5,
        "median_minutes": 20.5,
        "p90_minutes": 20.9,
        "min_minutes": 20.0,
        "max_minutes": 21.0,
    }
    assert phone["to_close"]["mean_minutes"] == 120.0


@pytest.mark.parametrize("report", ["agents", "conversion", "sla", "backlog", "kb", "volume"])
def test_every_report_writes_csv_and_xlsx(cli, incidents, tmp_path, report):
    from openpyxl import load_workbook

    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    args = ["--from", "2026-03-02", "--to", "2026-03-04"]
    result = cli("report", report, *args, "--json", "--csv", str(out_csv), "--xlsx", str(out_xlsx))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with out_csv.open(newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert len(lines) == 1 + len(data["rows"])
    sheet = load_workbook(out_xlsx).worksheets[0]
    assert sheet.max_row == 1 + len(data["rows"])
    if data["rows"]:
        assert lines[0] == [c.value for c in sheet[1]] == list(data["rows"][0])


def test_times_csv_flattens_spans(cli, incidents, tmp_path):
    out = tmp_path / "t.csv"
    args = ["--from", "2026-03-02", "--to", "2026-03-03", "--by", "priority", "--csv", str(out)]
    assert cli("report", "times", *args).exit_code == 0
    header = out.read_text().splitlines()[0].split(",")
    assert header[:3] == ["group", "count", "to_response_count"]
    assert "to_close_p90_minutes" in header


def test_bad_options_exit_with_usage_error(cli, incidents):
    result = cli("report", "volume", "--from", "2026-03-05", "--to", "2026-03-02")
    assert result.exit_code != 0
    assert "--to must come after --from" in result.stderr
    result = cli("report", "times", "--from", "2026-03-02", "--to", "2026-03-03", "--by", "x")
    assert result.exit_code != 0
    assert "--by is one of" in result.stderr


def test_incident_report_markdown_and_html_escape_customer_text(cli, incidents, tmp_path):
    md = cli("report", "incident", "INC-1", "--format", "md")
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("# INC-1: ")
    assert "<script>" not in md.stdout
    assert "\\<script\\>" in md.stdout
    for section in ("Deadlines", "Owner history", "Time booked", "Work orders", "Timeline"):
        assert f"## {section}" in md.stdout
    out = tmp_path / "inc.html"
    result = cli("report", "incident", "INC-1", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # Self-contained: nothing is fetched from elsewhere.
    assert "src=" not in page and "href=" not in page


def test_csv_keeps_formula_like_text_inert(cli, incidents, tmp_path):
    from cc_tui.services.reports.export import write_csv

    out = tmp_path / "x.csv"
    write_csv({"rows": [{"group": "=cmd()", "count": 1}]}, out)
    assert out.read_text().splitlines()[1] == "'=cmd(),1"
