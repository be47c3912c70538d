"""Engines and sessions for the embedded SQLite file and a shared PostgreSQL server.

A `Database` is made from a URL by the CLI or the app, never at import time. Every service
call runs in one `db.session()` transaction: commit on success, roll back on any error.
Driver errors are turned into the domain's `Unavailable` so a person reads one clear line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, create_engine

from cc_tui.errors import CcError, DuplicateRow, RuleViolation, Unavailable, UsageError

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Connection
    from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
INSUFFICIENT_PRIVILEGE = "42501"
UNIQUE_VIOLATION = "23505"


def parse_url(url: str) -> URL:
    """Parse and normalise a database URL; refuse anything but SQLite and PostgreSQL."""
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        # ValueError: a port that is not a number, an unclosed IPv6 bracket.
        raise UsageError(f"not a database URL: {_masked(url)}") from error
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.drivername != "sqlite":
            raise UsageError(f"unsupported SQLite driver {parsed.drivername!r}; use sqlite:///PATH")
        return parsed
    raise UsageError(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://..."
    )


def _masked(url: str) -> str:
    """The URL for an error message, without a password it may hold."""
    import re

    return repr(re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)[:200])


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" hook below issue BEGIN itself (pysqlite's own is too late).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers start with BEGIN IMMEDIATE: they queue on the write lock at once instead of
    # failing later when a read transaction tries to upgrade after another writer committed.
    options = conn.get_execution_options()
    # The safety level can only change outside a transaction: set here, before BEGIN, for a
    # commit that must reach the disk (`session(flush_all=True)`), and back for the next.
    wanted = options.get("sqlite_synchronous", "NORMAL")
    info = conn.connection.info
    if info.get("synchronous", "NORMAL") != wanted:
        conn.exec_driver_sql(f"PRAGMA synchronous = {wanted}")
        info["synchronous"] = wanted
    mode = options.get("sqlite_begin", "")
    conn.exec_driver_sql(f"BEGIN {mode}".strip())


class Database:
    """One database: its URL, its engine and its sessions."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        from cc_tui.db import guard

        guard.install()
        self.url = parse_url(url)
        self.dialect = "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"
        self.engine = self._make_engine(pool_size)
        self._write_engine = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.is_sqlite
            else self.engine
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def describe(self) -> str:
        """A short name for the header: the file, or host/database."""
        if self.is_sqlite:
            return str(self.sqlite_path or ":memory:")
        return f"{self.url.host or 'localhost'}/{self.url.database}"

    def _make_engine(self, pool_size: int) -> Engine:
        if self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                self._check_sqlite_path(path)
            engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 10}
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": "cc-tui"},
        )

    @staticmethod
    def _check_sqlite_path(path: Path) -> None:
        if path.exists() and path.is_dir():
            raise Unavailable(f"database path {path} is a directory, not a SQLite file")
        if not path.parent.exists():
            raise Unavailable(f"cannot open database {path}: folder {path.parent} does not exist")
        # A new embedded database is one person's: readable and writable by its OS user only
        # (SQLite gives its -wal and -shm files the same mode). An empty file is an empty
        # database.
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as error:
            raise Unavailable(f"cannot create database {path}: {error}") from error

    @contextmanager
    def session(
        self, *, write: bool = True, durable: bool = True, flush_all: bool = False
    ) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        `durable=False` (PostgreSQL; SQLite ignores it): the commit returns before its WAL
        is flushed to disk (`SET LOCAL synchronous_commit TO off`), saving the wait for the
        disk. A crash of the server may lose such a commit, never half of it. The caller
        must commit with `flush_all=True` (a commit that writes) before it tells anyone
        outside the database that the work is done: flushing the WAL up to that commit
        flushes every earlier commit too, asynchronous ones included.

        `flush_all=True`: this commit is on disk, and every commit before it, when the
        block ends. PostgreSQL's normal commit does that. SQLite's commits (WAL,
        synchronous NORMAL) survive the program's crash but not the machine's; this one
        syncs the WAL (synchronous FULL for its transaction), which holds them all."""
        try:
            with self.new_session(write=write) as session:
                try:
                    if flush_all and self.is_sqlite:
                        session.connection(execution_options={"sqlite_synchronous": "FULL"})
                    if not durable and not self.is_sqlite:
                        session.connection().exec_driver_sql("SET LOCAL synchronous_commit TO off")
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except CcError:
            raise
        except exc.IntegrityError as error:
            refused = DuplicateRow if _is_unique_violation(error) else RuleViolation
            raise refused(f"refused by the database: {_first_line(error.orig)}") from error
        except exc.DataError as error:
            # A value the database cannot hold (a number or date out of its range): the
            # request is wrong, the database is fine.
            raise UsageError(f"value out of range: {_first_line(error.orig)}") from error
        except OverflowError as error:
            # SQLite's driver refuses integers beyond 64 bits before the database sees them.
            raise UsageError(f"number out of range: {error}") from error
        except exc.ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                # The database role's grants refused it: a refusal by role, like the services'.
                raise RuleViolation(
                    f"refused by the database: {_first_line(error.orig)}"
                ) from error
            raise self.unavailable(error) from error
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise self.unavailable(error) from error
        except exc.DatabaseError as error:
            raise self.unavailable(error) from error

    def new_session(self, *, write: bool) -> Session:
        """A session on a connection of its own from the pool (the test suite binds it to
        one connection whose transaction it rolls back)."""
        return Session(self._write_engine if write else self.engine, expire_on_commit=False)

    def unavailable(self, error: Exception) -> Unavailable:
        """Translate a driver error into one clear line naming the database."""
        detail = _first_line(getattr(error, "orig", None) or error)
        if self.is_sqlite:
            if "file is not a database" in detail or "malformed" in detail:
                return Unavailable(f"{self.describe()} is not a usable SQLite database: {detail}")
            if "readonly" in detail or "unable to open" in detail:
                return Unavailable(f"cannot write database {self.describe()}: {detail}")
            return Unavailable(f"database {self.describe()}: {detail}")
        if "role" in detail and ("does not exist" in detail or "not permitted to log in" in detail):
            # The server refused the login: say what an admin runs.
            user = self.url.username or "your OS login"
            detail += (
                f" (an admin of the database adds or reactivates {user} with "
                f"`cc-tui agent add` / `cc-tui agent update --active`, or creates the roles "
                f"of existing agents with `cc-tui db roles sync`)"
            )
        return Unavailable(f"database {self.describe()} unavailable: {detail}")

    def dispose(self) -> None:
        self.engine.dispose()


def _is_unique_violation(error: exc.IntegrityError) -> bool:
    if getattr(error.orig, "sqlstate", None) == UNIQUE_VIOLATION:
        return True
    return str(error.orig).startswith("UNIQUE constraint failed")  # SQLite's wording


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
