"""Reference data read once per batch of many short transactions.

A mail fetch files each message in its own transaction, and every new incident reads the
same reference rows: the mailbox's reason code, the default priority, the routing rules,
the department a rule routes to, the notification policy. Inside `reference_per_batch()`
each is read by the first transaction that needs it and shared with the ones after; a
value changed meanwhile counts from the next batch (as calendars and event types do:
`calendars_per_batch`, `event_types_per_batch`). Outside a batch every call reads.

What is shared is plain values or copies that belong to no session (`detached`), so no
transaction's rollback or commit can expire them. `row` puts such a copy into a session
without reading it (`Session.merge(load=False)`), where `session.get` then finds it:
the transaction reads its fields as the batch's first transaction read them. Only rows the
batch reads and never writes are shared this way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)

# session.info key: the merged copies, held for the session's life.
_HELD = "cc_tui.per_batch_rows"
_SHARED: ContextVar[dict[Hashable, Any] | None] = ContextVar("cc_tui_per_batch", default=None)


@contextmanager
def reference_per_batch() -> Iterator[None]:
    """Inside, `shared` and `row` read each value once."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def active() -> bool:
    """Whether a batch is running (outside one, shared copies would only cost)."""
    return _SHARED.get() is not None


def shared(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, once per batch: a plain value (or a `detached` copy), never a row bound to
    a session."""
    cache = _SHARED.get()
    if cache is None:
        return load()
    if key in cache:
        value: T = cache[key]
        return value
    value = cache[key] = load()
    return value


def detached(row: M) -> M:
    """A copy of a loaded row that belongs to no session, as if loaded (clean, with its
    identity), so that `Session.merge(load=False)` takes it."""
    copy = type(row)(**row.model_dump())
    make_transient_to_detached(copy)
    return copy


def row(session: Session, model: type[M], row_id: int) -> M | None:
    """`session.get(model, row_id)`, read once per batch: later transactions get the
    batch's copy merged into their session without a statement."""
    if _SHARED.get() is None:
        return session.get(model, row_id)
    copy = shared(("row", model.__name__, row_id), lambda: _copy_of(session, model, row_id))
    if copy is None:
        return None
    merged = session.merge(copy, load=False)
    # The session forgets an unchanged row nothing refers to; this one stays for the
    # session's life, so the next `session.get` of it finds it.
    session.info.setdefault(_HELD, []).append(merged)
    return merged


def _copy_of(session: Session, model: type[M], row_id: int) -> M | None:
    found = session.get(model, row_id)
    return detached(found) if found is not None else None
