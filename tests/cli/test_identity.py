"""Who is at the console: identity from the database connection, roles, least privilege.

On the local PostgreSQL server (trust authentication on loopback, so each test connects as
each role explicitly). Every role a test makes is named after its own database, and goes
with it. On SQLite there are no roles: `--as` picks the agent, the OS login is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cc_tui.cli.app import app
from cc_tui.db.changes import os_login
from cc_tui.db.engine import Database, parse_url
from cc_tui.db.roles import ADMIN_WRITES, AGENT_WRITES, SUPERVISOR_WRITES, WRITES
from tests.conftest import _create_pg_database, _drop_pg_database

# What an agent's role may not change (issue: agents, roles, departments, priorities,
# calendars, routing rules, event types, templates, knowledge-base articles).
PROTECTED = [
    "agent",
    "department",
    "priority",
    "escalation_action",
    "calendar",
    "calendar_hours",
    "calendar_day",
    "routing_rule",
    "event_type",
    "work_order_template",
    "code",
    "kb_article",
    "kb_article_version",
    "kb_article_code",
]
WRITE_STATEMENTS = {
    "INSERT": 'INSERT INTO "{t}" ({c}) SELECT {c} FROM "{t}" WHERE false',
    "UPDATE": 'UPDATE "{t}" SET {c} = {c} WHERE false',
    "DELETE": 'DELETE FROM "{t}" WHERE false',
}


@dataclass
class Team:
    """A fresh PostgreSQL database and the roles made for it."""

    admin_url: str  # the test server's superuser, on the maintenance database
    name: str

    def url(self, role: str = "postgres") -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:5432/{self.name}"

    def login(self, who: str) -> str:
        return f"{self.name}_{who}"

    def cli(self, *args: str, role: str = "postgres", env: dict | None = None, input=None):
        return CliRunner().invoke(app, ["--db", self.url(role), *args], env=env, input=input)

    def sql(self, statement: str, *, role: str = "postgres", params=None):
        with psycopg.connect(self.url(role).replace("+psycopg", ""), autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def write(self, verb: str, table: str) -> str:
        """A write of `verb` on `table` that touches no row (the privilege is still checked)."""
        column = self.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position LIMIT 1",
            params=(table,),
        )
        assert column, table
        return WRITE_STATEMENTS[verb].format(t=table, c=column[0][0])

    def refused(self, role: str, statement: str) -> bool:
        """Whether the server refuses `statement` for `role` (nothing is changed either way)."""
        with psycopg.connect(self.url(role).replace("+psycopg", "")) as conn:
            try:
                conn.execute(statement)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.RestrictViolation):
                return True
            finally:
                conn.rollback()
        return False


def _server(admin_url: str) -> str:
    return parse_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def team(pg_admin_url: str) -> Iterator[Team]:
    url = _create_pg_database(pg_admin_url)
    name = parse_url(url).database
    assert name
    team = Team(pg_admin_url, name)
    yield team
    _drop_pg_database(pg_admin_url, team.url())
    with psycopg.connect(_server(pg_admin_url), autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE %s", (name + "\\_%",)
        ).fetchone()
    assert left == (0,)


def _set_up(team: Team) -> tuple[str, str, str]:
    """katrin (admin, first admin of the database), jonas (agent), maria (supervisor)."""
    katrin, jonas, maria = team.login("katrin"), team.login("jonas"), team.login("maria")
    upgraded = team.cli("--as", katrin, "db", "upgrade", "--json")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert json.loads(upgraded.stdout)["admin_created"] == katrin
    # The admin adds the others over her own connection (her role may create roles).
    for login, role in ((jonas, "agent"), (maria, "supervisor")):
        added = team.cli("agent", "add", login, "--name", login, "--role", role, role=katrin)
        assert added.exit_code == 0, added.stderr
    return katrin, jonas, maria


def _groups_of(team: Team, login: str) -> set[str]:
    rows = team.sql(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
        params=(login,),
    )
    return {r[0] for r in rows or []}


def _last_change(team: Team) -> tuple[str, str]:
    rows = team.sql(
        "SELECT a.login, c.acted_by FROM change c JOIN agent a ON a.id = c.agent_id "
        "ORDER BY c.id DESC LIMIT 1"
    )
    assert rows
    return rows[0]


def test_db_upgrade_creates_the_groups_and_the_first_admins_login(team):
    katrin, jonas, maria = _set_up(team)
    name = team.name
    groups = team.sql(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
        params=([f"{name}_agent", f"{name}_supervisor", f"{name}_admin"],),
    )
    assert groups == [
        (f"{name}_admin", False),
        (f"{name}_agent", False),
        (f"{name}_supervisor", False),
    ]
    # An admin's login administers the groups (to add agents), and so is in each of them.
    assert _groups_of(team, katrin) == {f"{name}_admin", f"{name}_supervisor", f"{name}_agent"}
    assert _groups_of(team, jonas) == {f"{name}_agent"}
    assert _groups_of(team, maria) == {f"{name}_supervisor"}
    logins = team.sql(
        "SELECT rolname, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = ANY(%s) "
        "ORDER BY 1",
        params=([katrin, jonas, maria],),
    )
    assert logins == [(jonas, True, False), (katrin, True, True), (maria, True, False)]
    # Upgrading again grants the same privileges again and leaves everything else.
    again = team.cli("--as", katrin, "db", "upgrade", "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["admin_created"] is None


def test_identity_comes_from_the_connection(team):
    katrin, jonas, maria = _set_up(team)

    mine = team.cli("customer", "add", "--name", "Acme", "--json", role=jonas)
    assert mine.exit_code == 0, mine.stderr
    assert _last_change(team) == (jonas, jonas)

    # An agent and a supervisor cannot be anyone else: not by --as, not by CC_TUI_AGENT.
    for who in (jonas, maria):
        by_option = team.cli("--as", katrin, "customer", "add", "--name", "X", role=who)
        assert by_option.exit_code == 1
        assert "only an admin may act as another agent" in by_option.stderr
        by_variable = team.cli(
            "customer", "add", "--name", "X", role=who, env={"CC_TUI_AGENT": katrin}
        )
        assert by_variable.exit_code == 1
        assert "only an admin may act as another agent" in by_variable.stderr
    # $USER names nobody on PostgreSQL: the connection does.
    as_user = team.cli("customer", "add", "--name", "Beta", role=jonas, env={"USER": katrin})
    assert as_user.exit_code == 0, as_user.stderr
    assert _last_change(team) == (jonas, jonas)
    # Naming oneself is no acting for another.
    assert team.cli("--as", jonas, "agent", "list", role=jonas).exit_code == 0

    # An admin may act for another agent; the change records who really made it.
    acted = team.cli(
        "--as", jonas, "incident", "open", "--channel", "phone", "--type", "comment",
        "--name", "Caller", "--description", "rang to say thanks", "--json",
        role=katrin,
    )  # fmt: skip
    assert acted.exit_code == 0, acted.stderr
    assert _last_change(team) == (jonas, katrin)
    events = team.sql("SELECT a.login, e.acted_by FROM event e JOIN agent a ON a.id = e.author_id")
    assert events and set(events) == {(jonas, katrin)}
    # The superuser running the tests acts for the admin, and is recorded as itself.
    assert team.cli("--as", katrin, "customer", "add", "--name", "Gamma").exit_code == 0
    assert _last_change(team) == (katrin, "postgres")


def test_acted_by_cannot_be_forged_on_postgresql(team):
    katrin, jonas, _maria = _set_up(team)
    agent_id = team.sql("SELECT id FROM agent WHERE login = %s", params=(jonas,))[0][0]
    team.sql(
        "INSERT INTO change (at, entity, action, agent_id, acted_by) "
        "VALUES (now(), 'customer', 'added', %s, %s)",
        role=jonas,
        params=(agent_id, katrin),
    )
    assert _last_change(team) == (jonas, jonas)


def test_console_header_shows_the_admin_acting_for_another(team):
    from cc_tui.console.calls import Connection
    from cc_tui.services.context import sign_in
    from cc_tui.widgets.chrome import identity_text

    katrin, jonas, _maria = _set_up(team)
    db = Database(team.url(katrin))
    try:
        with db.session(write=False) as session:
            actor = sign_in(session, jonas, "whoever")
            own = sign_in(session, None, "whoever")
    finally:
        db.dispose()
    assert (actor.login, actor.acted_by, actor.role) == (jonas, katrin, "agent")
    assert identity_text(Connection(db=db, actor=actor, settings=None)) == (  # type: ignore[arg-type]
        f"{katrin} as {jonas} · agent"
    )
    assert (own.login, own.acted_by) == (katrin, None)


def test_unknown_role_and_refused_login(team):
    katrin, jonas, _maria = _set_up(team)
    # A role made by hand, even one in the agents' group, is no agent.
    mallory = team.login("mallory")
    team.sql(f'CREATE ROLE "{mallory}" LOGIN IN ROLE "{team.name}_agent"')
    unknown = team.cli("agent", "list", role=mallory)
    assert unknown.exit_code == 1
    assert f"cc-tui agent add {mallory}" in unknown.stderr
    # The server refuses a role it does not know: exit 5 with what an admin runs.
    nobody = team.cli("agent", "list", role=team.login("nobody"))
    assert nobody.exit_code == 5
    assert "does not exist" in nobody.stderr and "db roles sync" in nobody.stderr

    # Deactivating takes LOGIN away; reactivating gives it back.
    off = team.cli("agent", "update", jonas, "--inactive", role=katrin)
    assert off.exit_code == 0, off.stderr
    refused = team.cli("agent", "list", role=jonas)
    assert refused.exit_code == 5 and "not permitted to log in" in refused.stderr
    assert team.cli("agent", "update", jonas, "--active", role=katrin).exit_code == 0
    assert team.cli("agent", "list", role=jonas).exit_code == 0


def test_agent_update_role_moves_the_login_to_another_group(team):
    katrin, jonas, _maria = _set_up(team)
    moved = team.cli("agent", "update", jonas, "--role", "supervisor", role=katrin)
    assert moved.exit_code == 0, moved.stderr
    assert _groups_of(team, jonas) == {f"{team.name}_supervisor"}
    # Made an admin and back: the admin groups and their ADMIN OPTION go again.
    assert team.cli("agent", "update", jonas, "--role", "admin", role=katrin).exit_code == 0
    assert len(_groups_of(team, jonas)) == 3
    assert team.sql("SELECT rolcreaterole FROM pg_roles WHERE rolname = %s", params=(jonas,)) == [
        (True,)
    ]
    assert team.cli("agent", "update", jonas, "--role", "supervisor", role=katrin).exit_code == 0
    assert _groups_of(team, jonas) == {f"{team.name}_supervisor"}
    assert team.sql(
        "SELECT m.admin_option, r.rolcreaterole FROM pg_auth_members m "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        params=(jonas,),
    ) == [(False, False)]
    assert not team.refused(jonas, 'UPDATE "kb_article" SET id = id WHERE false')
    # An agent asking for the same is refused by the service, and its role may not either.
    maria = team.login("maria")
    refused = team.cli("agent", "update", maria, "--role", "admin", role=jonas)
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    assert team.refused(jonas, f'ALTER ROLE "{maria}" CREATEROLE')


def test_password_from_stdin_is_stored_as_a_scram_verifier(team):
    katrin, _jonas, _maria = _set_up(team)
    remote = team.login("remote")
    added = team.cli(
        "agent", "add", remote, "--name", "Remote", "--password-stdin",
        role=katrin, input="s3cret pass\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    stored = team.sql("SELECT rolpassword FROM pg_authid WHERE rolname = %s", params=(remote,))
    assert stored
    verifier = stored[0][0]
    assert "s3cret" not in verifier
    # RFC 5802/7677: StoredKey = H(HMAC(SaltedPassword, "Client Key")) from the stored salt.
    head, keys = verifier.split("$", 1)[1].split("$")
    iterations, salt = head.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert base64.b64decode(stored_key) == hashlib.sha256(client_key).digest()
    assert base64.b64decode(server_key) == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert verifier.startswith("SCRAM-SHA-256$4096:")


def test_sql_privileges_of_each_group(team):
    katrin, jonas, maria = _set_up(team)
    for table in PROTECTED:
        for verb in WRITE_STATEMENTS:
            assert team.refused(jonas, team.write(verb, table)), (table, verb)
    kb = {"kb_article", "kb_article_version", "kb_article_code"}
    for table in PROTECTED:
        if table in kb:
            continue
        assert team.refused(maria, team.write("UPDATE", table)), table
    # What their services need, each may do.
    for login, writes in (
        (jonas, AGENT_WRITES),
        (maria, SUPERVISOR_WRITES),
        (katrin, ADMIN_WRITES),
    ):
        for table, privileges in writes.items():
            for verb in privileges.split(", "):
                assert not team.refused(login, team.write(verb, table)), (login, table, verb)
    # Nobody changes the timeline or the change feed once written: not even an admin.
    for login in (jonas, maria, katrin):
        for table in ("event", "change"):
            for verb in ("UPDATE", "DELETE"):
                assert team.refused(login, team.write(verb, table))
    # Everyone reads everything the console shows.
    for login in (jonas, maria, katrin):
        assert not team.refused(login, "SELECT count(*) FROM agent, incident, event")
    # No group may create roles; only an admin's own login role may.
    assert team.refused(jonas, f'CREATE ROLE "{team.login("x")}"')


def test_agent_with_plain_sql_cannot_raise_itself(team):
    _katrin, jonas, _maria = _set_up(team)
    assert team.refused(jonas, f"UPDATE agent SET role = 'admin' WHERE login = '{jonas}'")
    assert team.refused(jonas, "INSERT INTO agent (login, name, role) VALUES ('m', 'm', 'admin')")


def test_an_agents_everyday_work_needs_no_more_than_its_grants(team):
    katrin, jonas, _maria = _set_up(team)
    assert team.cli("code", "add", "reason", "HW", role=katrin).exit_code == 0
    priority = ("priority", "add", "P2", "--name", "Normal", "--default", "--response", "2h")
    assert team.cli(*priority, role=katrin).exit_code == 0
    customer = team.cli("customer", "add", "--name", "Acme", "--json", role=jonas)
    assert customer.exit_code == 0, customer.stderr
    opened = team.cli(
        "incident", "open", "--channel", "phone", "--type", "action",
        "--customer", str(json.loads(customer.stdout)["id"]),
        "--description", "printer jams", "--reason", "HW", "--json",
        role=jonas,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    number = json.loads(opened.stdout)["number"]
    for args in (
        ("incident", "event", number, "--type", "note", "--text", "called back"),
        ("timer", "start", number),
        ("timer", "stop"),
        ("incident", "timeline", number),
        ("kb", "search", "printer"),
        ("incident", "list"),
        ("escalate",),
    ):
        result = team.cli(*args, role=jonas)
        assert result.exit_code == 0, (args, result.stderr)


def test_roles_sync_creates_roles_for_agents_that_predate_them(team):
    from cc_tui.db.migrate import upgrade
    from cc_tui.services.context import actor_of, bootstrap_admin
    from cc_tui.services.directory.agents import add_agent

    boss, old = team.login("boss"), team.login("old")
    db = Database(team.url())
    try:
        upgrade(db)  # the schema without roles, as before this version
        with db.session() as session:
            admin = actor_of(bootstrap_admin(session, boss))
            add_agent(session, actor=admin, login=old, name="Old", role="supervisor")
    finally:
        db.dispose()
    assert team.cli("--as", boss, "db", "upgrade").exit_code == 0
    before = team.cli("agent", "list", role=old)
    assert before.exit_code == 5 and "db roles sync" in before.stderr

    # An agent may not; the database's owner acting for the admin may.
    synced = team.cli("--as", boss, "db", "roles", "sync", "--json")
    assert synced.exit_code == 0, synced.stderr
    assert json.loads(synced.stdout) == [
        {"login": boss, "action": "created"},
        {"login": old, "action": "created"},
    ]
    assert _groups_of(team, old) == {f"{team.name}_supervisor"}
    assert team.cli("agent", "list", role=old).exit_code == 0
    refused = team.cli("db", "roles", "sync", role=old)
    assert refused.exit_code == 1 and "only an admin" in refused.stderr
    again = team.cli("db", "roles", "sync", "--json", role=boss)
    assert again.exit_code == 0, again.stderr
    assert {r["action"] for r in json.loads(again.stdout)} == {"unchanged"}


def test_roles_sql_prints_the_set_up_for_a_superuser(team):
    _set_up(team)
    printed = team.cli("db", "roles", "sql")
    assert printed.exit_code == 0, printed.stderr
    assert f'CREATE ROLE "{team.name}_agent" NOLOGIN' in printed.stdout
    assert f'GRANT SELECT ON TABLE "agent" TO "{team.name}_agent"' in printed.stdout
    assert 'GRANT INSERT, UPDATE, DELETE ON TABLE "agent"' in printed.stdout


def test_every_table_has_a_privilege_rule():
    from sqlmodel import SQLModel

    import cc_tui.models  # noqa: F401

    ruled = {t for writes in WRITES.values() for t in writes}
    assert set(SQLModel.metadata.tables) == ruled
    assert set(PROTECTED) <= set(ADMIN_WRITES) | set(SUPERVISOR_WRITES)
    assert not set(PROTECTED) & set(AGENT_WRITES)


@pytest.fixture
def sqlite_cli(sqlite_db):
    from cc_tui.services.context import bootstrap_admin

    with sqlite_db.session() as session:
        bootstrap_admin(session, "admin")
    url = sqlite_db.url.render_as_string(hide_password=False)

    def run(*args: str, login: str = "admin", env: dict | None = None):
        return CliRunner().invoke(app, ["--db", url, "--as", login, *args], env=env)

    return run


@pytest.mark.commits
def test_sqlite_as_picks_the_agent_and_the_os_login_is_recorded(sqlite_db, sqlite_cli, monkeypatch):
    assert sqlite_cli("agent", "add", "bob", "--name", "Bob").exit_code == 0
    assert sqlite_cli("customer", "add", "--name", "Acme", login="bob").exit_code == 0
    with sqlite_db.session(write=False) as session:
        row = session.execute(
            text(
                "SELECT a.login, c.acted_by FROM change c JOIN agent a ON a.id = c.agent_id "
                "ORDER BY c.id DESC LIMIT 1"
            )
        ).one()
    assert tuple(row) == ("bob", os_login())
    # The OS login comes from the system, not from $USER (which anyone sets).
    import pwd

    os_login.cache_clear()
    monkeypatch.setenv("USER", "helga.sommer")
    monkeypatch.setenv("LOGNAME", "helga.sommer")
    assert os_login() == pwd.getpwuid(os.geteuid()).pw_name
    os_login.cache_clear()
    refused = sqlite_cli("agent", "add", "eve", "--name", "Eve", "--password-stdin")
    assert refused.exit_code == 2 and "no login roles" in refused.stderr
    no_roles = sqlite_cli("db", "roles", "sync")
    assert no_roles.exit_code == 2


def test_a_new_embedded_database_is_its_os_users_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from cc_tui.config import default_database_url

    path = default_database_url().removeprefix("sqlite:///")
    assert path.startswith(str(tmp_path))
    result = CliRunner().invoke(app, ["--as", "olga", "agent", "list", "--json"])
    assert result.exit_code == 0, result.stderr
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700


def test_over_the_local_socket_the_login_is_the_role(team):
    """The team server's set-up: no host in the URL, so libpq uses the local socket (peer
    authentication there; trust on this test server) and the role names the agent."""
    _katrin, jonas, _maria = _set_up(team)
    url = f"postgresql+psycopg://{jonas}@/{team.name}"
    added = CliRunner().invoke(app, ["--db", url, "customer", "add", "--name", "Acme"])
    assert added.exit_code == 0, added.stderr
    assert _last_change(team) == (jonas, jonas)
    refused = CliRunner().invoke(app, ["--db", url, "--as", team.login("katrin"), "agent", "list"])
    assert refused.exit_code == 1
