"""Many rows per statement, below the ORM and SQLAlchemy's statement layer: the importer's
write path for its thousands of incidents and events.

SQLAlchemy's Core costs a few microseconds per value (binding, type processing, the
insertmanyvalues batches); over a few million values that is most of an import. Here the
rows go to the driver of the session's own connection, inside its transaction: `executemany`
on SQLite, `COPY ... FROM STDIN` on PostgreSQL. What Core would do per value is done once
per column instead: the column's constant default fills a value not given, times become the
form each dialect stores (aware UTC on PostgreSQL, 'YYYY-MM-DD HH:MM:SS.ffffff' UTC on
SQLite, as `models.base.UtcDateTime` writes them), JSON becomes its text. No ORM hook runs:
the caller gives text already passed through the write guard's rules (`db.guard`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Table
from sqlmodel import Session

from cc_tui.models.base import UtcDateTime


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


class BulkRows:
    """Raw inserts on the session's connection and transaction."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.sqlite = connection.dialect.name == "sqlite"
        self._cursor: Any = connection.connection.cursor()
        if not self.sqlite:
            # This transaction's commit does not wait for its WAL to reach the disk: after a
            # crash its rows may be missing, never half there, and the import is re-run
            # (it skips what it has) anyway.
            self._cursor.execute("SET LOCAL synchronous_commit = off")

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """`count` new ids for `table`, to be written explicitly."""
        if count <= 0:
            return []
        if self.sqlite:
            # Writers hold SQLite's write lock (BEGIN IMMEDIATE): nobody else takes ids now.
            self._cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')
            highest = int(self._cursor.fetchone()[0])
            return list(range(highest + 1, highest + 1 + count))
        self._cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table.name, count),
        )
        return [int(row[0]) for row in self._cursor.fetchall()]

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` (dicts with the same keys); columns left out take their constant
        default, or NULL."""
        if not rows:
            return
        given = set(rows[0])
        names: list[str] = []
        fills: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for column in table.columns:
            default = column.default
            if column.name in given:
                value: Any = _MISSING
            elif default is not None and getattr(default, "is_scalar", False):
                value = default.arg  # type: ignore[attr-defined]
            else:
                continue
            names.append(column.name)
            fills.append((column.name, value, self._converter(column.type)))
        # Column by column: each conversion is one map() over the column.
        data: list[list[Any]] = []
        for name, constant, convert in fills:
            cells = [row[name] for row in rows] if constant is _MISSING else [constant] * len(rows)
            data.append(list(map(convert, cells)) if convert else cells)
        values = list(zip(*data, strict=True))
        columns = ", ".join(f'"{n}"' for n in names)
        if self.sqlite:
            marks = ", ".join("?" for _ in names)
            self._cursor.executemany(
                f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', values
            )
            return
        with self._cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in values:
                copy.write_row(row)

    def _converter(self, kind: Any) -> Callable[[Any], Any] | None:
        if isinstance(kind, JSON):
            return _json
        if self.sqlite and isinstance(kind, UtcDateTime):
            return _sqlite_time
        if self.sqlite and isinstance(kind, Boolean):
            return _flag
        return None


_MISSING = object()
