"""Domain errors shared by the services, the CLI and the TUI.

Each error maps to one CLI exit code, so scripts can tell a refused business rule from a
missing record, a concurrent edit or an unreachable server.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    RULE = 1
    USAGE = 2
    NOT_FOUND = 3
    CONFLICT = 4
    UNAVAILABLE = 5


class CcError(Exception):
    """Base of every error the product reports to a person or a script."""

    exit_code: ExitCode = ExitCode.RULE

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The form field the error belongs to, so a screen can show it next to that field.
        self.field = field

    def __str__(self) -> str:
        return self.message


class RuleViolation(CcError):
    """A business rule refused the operation (blocked customer, illegal transition, ...)."""

    exit_code = ExitCode.RULE


class DuplicateRow(RuleViolation):
    """A row with the same unique key exists already: usually one another session wrote
    between this one's look-up and its insert. Read again, it is found."""


class UsageError(CcError):
    """The request itself is malformed (bad option value, bad URL, unknown kind)."""

    exit_code = ExitCode.USAGE


class NotFound(CcError):
    exit_code = ExitCode.NOT_FOUND


class Conflict(CcError):
    """Someone else changed the record since it was read (optimistic locking)."""

    exit_code = ExitCode.CONFLICT


class Unavailable(CcError):
    """A server the program needs cannot be used: the database (unreachable, cannot be
    opened, or a schema this program cannot use), a mail server (unreachable, or its TLS
    certificate cannot be verified), the SMS gateway."""

    exit_code = ExitCode.UNAVAILABLE


def stale_version(
    what: str,
    *,
    by: str | None,
    at: datetime | None,
    version: int,
    expected: int | None,
    field: str | None = None,
) -> Conflict:
    """The one message for an edit made on a version that is no longer current (incidents,
    customers, articles): who changed the record, when, and that the editor must reload."""
    when = at.strftime("%Y-%m-%d %H:%M UTC") if at else "?"
    return Conflict(
        f"{what} was changed by {by or 'someone'} at {when} since you read it "
        f"(version {version}, yours {expected}): reload",
        field=field,
    )
