"""Test fixtures: every service test runs on SQLite and on PostgreSQL.

Each database is created once per run through the real migrations. A test sees it empty
through one connection whose outer transaction is rolled back afterwards (its sessions are
savepoints); a test marked `commits` (other connections, threads or processes read its data)
gets it emptied and commits for real. PostgreSQL tests use a fresh database on the local
server (named uniquely and dropped afterwards); with CI=true a server that cannot be reached
fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlmodel import Session, SQLModel

from cc_tui.db.engine import Database

PG_ADMIN_URL = os.environ.get(
    "CC_TUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the developer's config or database, or depends on colours."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "CC_TUI_CONFIG_FILE": str(home / "no-config.toml"),
            "TZ": "UTC",
        }
    )
    for name in ("NO_COLOR", "CC_TUI_DATABASE_URL", "CC_TUI_AGENT"):
        os.environ.pop(name, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _pg_reachable() -> str | None:
    """None if the server answers, else why not."""
    import psycopg

    from cc_tui.db.engine import parse_url

    url = parse_url(PG_ADMIN_URL).set(drivername="postgresql")
    try:
        with psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    problem = _pg_reachable()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} unreachable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI requires PostgreSQL)")
        pytest.skip(message)
    return PG_ADMIN_URL


def _create_pg_database(admin_url: str) -> str:
    import psycopg

    from cc_tui.db.engine import parse_url

    name = f"cct_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = parse_url(admin_url)
    with psycopg.connect(
        admin.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, url: str) -> None:
    import psycopg

    from cc_tui.db.engine import parse_url

    name = parse_url(url).database
    admin = parse_url(admin_url).set(drivername="postgresql")
    server = admin.render_as_string(hide_password=False)
    # The roles made for this database (`db upgrade`'s groups, test logins) are named after
    # it: their privileges and objects go first, then the database, then the roles.
    with psycopg.connect(server, autocommit=True) as conn:
        roles = [
            row[0]
            for row in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"{name}\\_%",)
            )
        ]
    if roles:
        quoted = ", ".join('"' + r.replace('"', '""') + '"' for r in roles)
        with psycopg.connect(
            admin.set(database=name).render_as_string(hide_password=False), autocommit=True
        ) as conn:
            conn.execute(f"REASSIGN OWNED BY {quoted} TO CURRENT_USER")
            conn.execute(f"DROP OWNED BY {quoted}")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.execute('DROP ROLE IF EXISTS "' + role.replace('"', '""') + '"')


@pytest.fixture(scope="session")
def pg_database_url(pg_admin_url: str) -> Iterator[str]:
    url = _create_pg_database(pg_admin_url)
    yield url
    _drop_pg_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


_migrated: dict[str, object] = {}
# Databases holding rows a test committed (or reference rows the migrations seeded): the
# next test that wants an empty schema empties them first.
_dirty: set[str] = set()
# PostgreSQL: the statement that puts every sequence back where the empty schema left it
# (sequences ignore rollbacks; ids must not depend on which tests ran before).
_sequences: dict[str, str] = {}


def _migrated_database(url: str):
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade

    if url not in _migrated:
        db = Database(url)
        upgrade(db)
        _migrated[url] = db
        _dirty.add(url)
    return _migrated[url]


def empty_database(db) -> None:
    """Delete every row (children first) so each test starts from an empty schema."""
    import cc_tui.models  # noqa: F401

    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    if isinstance(db, RolledBack):
        # Within the test's own transaction, undone with it.
        with db.connection.begin_nested():
            _delete_all(db, db.connection, tables)
        _seed(db)
        return
    with db.engine.connect() as conn:
        if db.is_sqlite:
            # Every row goes, so skip SQLite's per-row key look-ups: a referencing column
            # without an index is scanned once per deleted row (quadratic).
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        with conn.begin():
            _delete_all(db, conn, tables)
        if db.is_sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
    _seed(db)


def _seed(db) -> None:
    # Reference rows the migrations seed come back, as on a freshly upgraded database.
    from cc_tui.services.incidents.event_log import seed_event_types
    from cc_tui.services.notify.policy import seed_policy

    with db.session() as session:
        seed_event_types(session)
        seed_policy(session)


def _delete_all(db, conn, tables: list[str]) -> None:
    if db.is_sqlite:
        # The append-only triggers on `event` refuse DELETE: lift them for the cleanup
        # and put the very same definitions back, in this one transaction.
        triggers = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event'"
        ).all()
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for name in tables:
            conn.execute(text(f'DELETE FROM "{name}"'))
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
    else:
        # TRUNCATE fires no row triggers, so the append-only trigger does not object.
        quoted = ", ".join(f'"{n}"' for n in tables)
        conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


def committed_database(url: str):
    """The migrated database, emptied, for a test whose data other connections, threads or
    processes must see: its sessions commit for real."""
    database = _migrated_database(url)
    empty_database(database)
    _dirty.add(url)
    return database


class RolledBack(Database):
    """The migrated test database through one connection in an outer transaction that is
    rolled back after the test; every `session()` is a savepoint on it (a commit releases
    the savepoint, a rollback returns to it)."""

    def __init__(self, database: Database, connection: Connection) -> None:
        self.__dict__.update(database.__dict__)
        self.connection = connection

    def new_session(self, *, write: bool) -> Session:
        return Session(
            bind=self.connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )


def _sequence_reset(database: Database) -> str | None:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),"
                " coalesce(last_value, start_value), last_value IS NOT NULL FROM pg_sequences"
            )
        ).all()
    calls = [f"setval('{name}', {value}, {str(called).lower()})" for name, value, called in rows]
    return "SELECT " + ", ".join(calls) if calls else None


@contextmanager
def rolled_back_database(url: str) -> Iterator[RolledBack]:
    """The migrated, empty database for one test; nothing the test writes outlives it."""
    database = _migrated_database(url)
    if url in _dirty:
        empty_database(database)
        _dirty.discard(url)
        _sequences.pop(url, None)
    if not database.is_sqlite and url not in _sequences:
        _sequences[url] = _sequence_reset(database) or ""
    with database.engine.connect() as connection:
        outer = connection.begin()
        if _sequences.get(url):
            connection.execute(text(_sequences[url]))
        try:
            yield RolledBack(database, connection)
        finally:
            outer.rollback()


def _database(request: pytest.FixtureRequest, dialect: str):
    """Rolled back, unless the test is marked `commits`."""
    if request.node.get_closest_marker("commits"):
        return committed_database(request.getfixturevalue(f"{dialect}_database_url"))
    return request.getfixturevalue(f"_rolled_back_{dialect}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest):
    """A migrated, empty database; the test runs once per dialect."""
    return _database(request, "sqlite" if request.param == "sqlite" else "pg")


@pytest.fixture
def sqlite_db(request: pytest.FixtureRequest):
    return _database(request, "sqlite")


@pytest.fixture
def _rolled_back_sqlite(sqlite_database_url: str) -> Iterator[RolledBack]:
    with rolled_back_database(sqlite_database_url) as database:
        yield database


@pytest.fixture
def _rolled_back_pg(pg_database_url: str) -> Iterator[RolledBack]:
    with rolled_back_database(pg_database_url) as database:
        yield database


@pytest.fixture
def admin(db):
    """The first admin of the test database, as the services see it."""
    from cc_tui.services.context import actor_of, bootstrap_admin

    with db.session() as session:
        agent = bootstrap_admin(session, "admin")
        assert agent is not None
        return actor_of(agent)


@pytest.fixture
def cli(db, admin, monkeypatch):
    """Run `cc-tui --db URL --as admin ARGS...` in-process; returns the Result."""
    from typer.testing import CliRunner

    from cc_tui.cli.app import app
    from cc_tui.cli.common import CliState

    runner = CliRunner()
    url = db.url.render_as_string(hide_password=False)
    # The commands work on the test's own `Database` (its connection, when rolled back).
    opened = CliState.database

    def database(self, *, check_schema: bool = True):
        if self._db is None and self.db_url == url:
            self._db = db
        return opened(self, check_schema=check_schema)

    monkeypatch.setattr(CliState, "database", database)

    def run(*args: str, login: str = "admin", input: str | None = None):
        return runner.invoke(app, ["--db", url, "--as", login, *args], input=input)

    return run


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
