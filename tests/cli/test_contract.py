"""The command line's contract: JSON out, exit codes, the first admin of a new database."""

from __future__ import annotations

import json

from sqlmodel import select

from cc_tui.models import Agent, Incident


def test_incident_list_json_empty_then_one(db, admin, cli):
    result = cli("incident", "list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    with db.session() as session:
        session.add(
            Incident(
                channel="phone",
                request_type="action",
                status="registered",
                created_by_id=admin.id,
                title="Printer jams",
            )
        )
    result = cli("incident", "list", "--json")
    rows = json.loads(result.stdout)
    assert [(r["number"], r["status"]) for r in rows] == [("INC-1", "registered")]


def test_unknown_login_is_refused_with_how_to_add(db, admin, cli):
    result = cli("incident", "list", "--json", login="nobody")
    assert result.exit_code == 3
    assert "cc-tui agent add nobody" in result.stderr


def test_db_upgrade_makes_first_admin(tmp_sqlite_url):
    from typer.testing import CliRunner

    from cc_tui.cli.app import app

    result = CliRunner().invoke(
        app, ["--db", tmp_sqlite_url, "--as", "maria", "db", "upgrade", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["admin_created"] == "maria"
    from cc_tui.db.engine import Database

    with Database(tmp_sqlite_url).session() as session:
        agents = session.exec(select(Agent)).all()
    assert [(a.login, a.role) for a in agents] == [("maria", "admin")]
