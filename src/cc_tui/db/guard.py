"""The write guard: every row the ORM writes passes the untrusted-text rule and the column's
limits before the database sees it.

One session-level hook (`before_flush`) instead of a call in each service: a new writer
cannot forget it, and both databases give the same answer. For each new row, and each
changed column of a changed row:

- text columns are cleaned by `cc_tui.untrusted.clean` (columns without a length, and those
  whose `info` says `multiline`, keep tab and newline);
- a text longer than its column, or an integer outside its column's range, is refused with
  `UsageError` naming the table and field (SQLite would store it, PostgreSQL would fail with
  a driver error that reads like an outage).

Core statements (`update(...)`, `insert(...)`) fire no ORM hook: their writers call
`checked_values` on the values they write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, SmallInteger, String, event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from cc_tui.errors import UsageError
from cc_tui.untrusted import clean

_INT_BITS = ((BigInteger, 63), (SmallInteger, 15), (Integer, 31))


def install() -> None:
    """Hook the guard into every ORM session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.new:
        _check_row(obj, only_changed=False)
    for obj in session.dirty:
        _check_row(obj, only_changed=True)


# Per mapped class, the columns the guard looks at (text and integers; dates, flags and
# JSON pass as they are), worked out once: (attribute, column, storage type).
_PLANS: dict[Any, tuple[tuple[str, Any, Any], ...]] = {}


def _plan(mapper: Any) -> tuple[tuple[str, Any, Any], ...]:
    plan = _PLANS.get(mapper)
    if plan is None:
        plan = _PLANS[mapper] = tuple(
            (attr.key, attr.columns[0], kind)
            for attr in mapper.column_attrs
            if isinstance(kind := storage_type(attr.columns[0]), (String, Integer))
        )
    return plan


def _check_row(obj: Any, *, only_changed: bool) -> None:
    state = inspect(obj)
    # A changed row: only the attributes set since it was loaded (their old values are
    # kept in committed_state), and of those the ones whose value changed.
    changed = state.committed_state if only_changed else None
    for key, column, kind in _plan(state.mapper):
        if changed is not None and (key not in changed or not state.attrs[key].history.added):
            continue
        value = getattr(obj, key)
        if value is None:
            continue
        checked = _checked(column, kind, key, value)
        if checked is not value:
            setattr(obj, key, checked)


def check_value(column: Any, name: str, value: Any) -> Any:
    """`value` as it may be stored in `column`, or UsageError naming the field."""
    return _checked(column, storage_type(column), name, value)


def _checked(column: Any, kind: Any, name: str, value: Any) -> Any:
    if isinstance(value, str) and isinstance(kind, String):
        multiline = kind.length is None or bool(column.info.get("multiline"))
        cleaned = clean(value, multiline=multiline)
        if kind.length is not None and len(cleaned) > kind.length:
            raise UsageError(
                f"{_where(column, name)} is too long: {len(cleaned)} characters "
                f"(at most {kind.length})",
                field=name,
            )
        return value if cleaned == value else cleaned
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(kind, Integer):
        bits = next(b for t, b in _INT_BITS if isinstance(kind, t))
        if not -(2**bits) <= value < 2**bits:
            raise UsageError(f"{_where(column, name)} is out of range: {value}", field=name)
    return value


def _where(column: Any, name: str) -> str:
    return f"{column.table.name} {name}" if column.table is not None else name


def storage_type(column: Any) -> Any:
    """The column's type as the database stores it (SQLModel's `str` is a decorator)."""
    kind = column.type
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def checked_values(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The values of a Core UPDATE/INSERT on `table` (a model class), guarded as on flush."""
    columns = inspect(table).columns
    return {
        key: value if value is None or key not in columns else check_value(columns[key], key, value)
        for key, value in values.items()
    }
