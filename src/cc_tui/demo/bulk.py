"""Loading many rows fast: one raw DBAPI connection, one transaction, explicit ids.

The ORM costs tens of microseconds per row; a million incidents with their timelines are
several million rows. `BulkLoader` writes plain tuples instead: `executemany` on SQLite,
`COPY ... FROM STDIN` on PostgreSQL. For large loads it drops the secondary indexes (and on
PostgreSQL the foreign keys) of the tables it fills and recreates them from their own
definitions afterwards, which is a sort instead of millions of random B-tree inserts; the
foreign keys are validated again when they are re-added. All of it is one transaction: if
the load fails, the database is as it was, indexes included.

Values in the tuples are what both drivers take as they are: int, str, bool, None;
timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC strings (`TimestampFormat`), the format
SQLAlchemy uses for SQLite and one PostgreSQL reads with the session zone set to UTC.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cc_tui.db.engine import Database
from cc_tui.errors import RuleViolation

Row = tuple[Any, ...]
Progress = Callable[[str], None]

# Loads below this many rows keep the indexes: rebuilding them would cost more.
SUSPEND_THRESHOLD = 200_000


class TimestampFormat:
    """Seconds since the epoch -> the stored text form, by table look-up (no datetime)."""

    def __init__(self, first: datetime, last: datetime) -> None:
        self.day0 = int(first.timestamp()) // 86400 - 1
        days = int(last.timestamp()) // 86400 - self.day0 + 2
        start = date(1970, 1, 1) + timedelta(days=self.day0)
        self._days = [(start + timedelta(days=i)).isoformat() + " " for i in range(days)]
        self._tod = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86400)
        ]

    def ts(self, seconds: int) -> str:
        return self._days[seconds // 86400 - self.day0] + self._tod[seconds % 86400]

    def day(self, seconds: int) -> str:
        return self._days[seconds // 86400 - self.day0][:10]


def epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


class BulkLoader:
    """One transaction on a raw connection; use as a context manager.

    Committed when the block ends without error, rolled back otherwise.
    """

    def __init__(self, db: Database, *, progress: Progress | None = None) -> None:
        self.db = db
        self.sqlite = db.is_sqlite
        self.progress = progress or (lambda _message: None)
        # The driver's own connection and cursor (sqlite3 or psycopg): their calls differ.
        self._raw: Any = None
        self._cur: Any = None
        self._suspended: list[tuple[str, str]] = []  # (table, statement to recreate)
        self._tables: set[str] = set()
        self.rows_written = 0

    # --- transaction ---------------------------------------------------------------------

    def __enter__(self) -> BulkLoader:
        self._raw = self.db.engine.raw_connection()
        self._cur = self._raw.cursor()
        if self.sqlite:
            # Load-only settings on this connection: a big page cache for index builds,
            # no fsync per commit (one commit at the end anyway).
            for pragma in (
                "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -524288",
                "PRAGMA temp_store = MEMORY",
            ):
                self._cur.execute(pragma)
            self._cur.execute("BEGIN IMMEDIATE")
        else:
            self._cur.execute("SET TIME ZONE 'UTC'")
            self._cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            self._cur.execute("SET LOCAL synchronous_commit = off")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._restore()
                self._fix_sequences()
                self._raw.commit()
        finally:
            try:
                self._raw.rollback()  # nothing left to roll back after a commit
                if self.sqlite:
                    self._cur.execute("PRAGMA synchronous = NORMAL")
                    self._cur.execute("PRAGMA cache_size = -2000")
                else:
                    self._cur.execute("SET TIME ZONE DEFAULT")
                    self._raw.commit()
                self._cur.close()
            except Exception:
                # A broken connection is not given back to the pool.
                self._raw.invalidate()
            self._raw.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if params:
            self._cur.execute(sql, params)
        else:
            self._cur.execute(sql)  # no parameters: a literal '%' stays a '%'
        return list(self._cur.fetchall()) if self._cur.description else []

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.execute(sql, params)
        return rows[0][0] if rows else None

    @property
    def param(self) -> str:
        return "?" if self.sqlite else "%s"

    # --- ids -------------------------------------------------------------------------------

    def lock(self, tables: Iterable[str]) -> None:
        """Keep other writers out of these tables until commit (SQLite: BEGIN IMMEDIATE)."""
        if not self.sqlite:
            names = ", ".join(f'"{t}"' for t in tables)
            self._cur.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")

    def next_id(self, table: str) -> int:
        """The first free id, also past ids a PostgreSQL sequence has handed out."""
        highest = self.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"') or 0
        if not self.sqlite:
            seq = self.scalar("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
            if seq:
                last, called = self.execute(f"SELECT last_value, is_called FROM {seq}")[0]
                highest = max(highest, last if called else last - 1)
        self._tables.add(table)
        return int(highest) + 1

    def _fix_sequences(self) -> None:
        if self.sqlite:
            return
        for table in sorted(self._tables):
            seq = self.scalar("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
            if seq:
                self._cur.execute(
                    f'SELECT setval(%s, GREATEST((SELECT MAX(id) FROM "{table}"), 1))', (seq,)
                )

    # --- rows ------------------------------------------------------------------------------

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        if "id" in columns:
            self._tables.add(table)
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            self._cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
        else:
            with self._cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        self.rows_written += len(rows)

    # --- indexes and foreign keys ------------------------------------------------------------

    def suspend_indexes(self, tables: Iterable[str]) -> None:
        """Drop secondary indexes (PostgreSQL: and foreign keys) until the load ends."""
        started = time.monotonic()
        for table in tables:
            if self.sqlite:
                rows = self.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                    "AND sql IS NOT NULL",
                    (table,),
                )
                for name, sql in rows:
                    self._cur.execute(f'DROP INDEX "{name}"')
                    self._suspended.append((table, sql))
            else:
                fks = self.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE contype = 'f' AND conrelid = %s::regclass",
                    (table,),
                )
                for name, definition in fks:
                    self._cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    self._suspended.append(
                        (table, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                    )
                indexes = self.execute(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = "
                    "i.indexrelid)",
                    (table,),
                )
                for name, definition in indexes:
                    self._cur.execute(f'DROP INDEX "{name}"')
                    # Indexes first, then foreign keys (their validation is faster then).
                    self._suspended.insert(0, (table, definition))
        self.progress(
            f"dropped {len(self._suspended)} indexes/constraints for the load "
            f"({time.monotonic() - started:.1f} s)"
        )

    def _restore(self) -> None:
        if not self._suspended:
            return
        started = time.monotonic()
        self.progress(f"rebuilding {len(self._suspended)} indexes/constraints ...")
        for _table, statement in self._suspended:
            self._cur.execute(statement)
        self._suspended.clear()
        self.progress(f"indexes and constraints rebuilt ({time.monotonic() - started:.1f} s)")


@contextmanager
def database_errors(db: Database) -> Iterator[None]:
    """Driver errors of a bulk load as the domain's errors: one clear line, no traceback."""
    import sqlite3

    import psycopg

    try:
        yield
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as error:
        text = str(error).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        raise RuleViolation(f"refused by the database: {first}") from error
    except (sqlite3.Error, psycopg.Error) as error:
        raise db.unavailable(error) from error


def analyze(db: Database, tables: Iterable[str] | None = None) -> None:
    """Refresh the planner's statistics after a large load."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if db.is_sqlite:
            cur.execute("ANALYZE")
        else:
            raw.commit()
            names = list(tables) if tables else []
            if names:
                for name in names:
                    cur.execute(f'ANALYZE "{name}"')
            else:
                cur.execute("ANALYZE")
        raw.commit()
        cur.close()
    finally:
        raw.close()
