"""The program's one notion of the current time.

Everything that stamps or compares against "now" for the domain (services, model
defaults, screens, badges) calls `now()`. Tests replace `source` to pin the time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def system_now() -> datetime:
    return datetime.now(UTC)


# What `now()` reads; a test sets it to a callable returning an aware datetime.
source: Callable[[], datetime] = system_now


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return source().astimezone(UTC)
