"""What every command shares: the state built from global options, output, error exits."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from cc_tui.errors import CcError, UsageError
from cc_tui.untrusted import BIDI_CODES, VISIBLE, has_surrogate, visible

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from sqlmodel import Session

    from cc_tui.config import Settings
    from cc_tui.db.engine import Database
    from cc_tui.services.context import Actor

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")
# Ids are 32-bit integers on PostgreSQL; no count or limit comes near.
MAX_INT = 2**31 - 1


@dataclass
class CliState:
    """Global options, resolved lazily: a command that needs no database opens none."""

    db_url: str | None = None
    login: str | None = None
    config_file: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)
    _opened_db: bool = field(default=False, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from cc_tui.config import load_settings

            self._settings = load_settings(
                self.config_file, database_url=self.db_url, agent=self.login
            )
        return self._settings

    def database(self, *, check_schema: bool = True) -> Database:
        """The database, its schema checked (the embedded one is upgraded on first use)."""
        if self._db is None:
            from cc_tui.db.engine import Database

            if self.settings.database_url is None:
                # The embedded database's folder is ours to create (first run on a machine).
                from cc_tui.config import default_database_url

                # One person's data: the folder is the OS user's alone (0700).
                Path(default_database_url().removeprefix("sqlite:///")).parent.mkdir(
                    mode=0o700, parents=True, exist_ok=True
                )
            self._opened_db = True
            self._db = Database(self.settings.effective_database_url)
        if check_schema:
            from cc_tui.services.setup import prepare_database

            prepare_database(self._db, self.settings.login)
        return self._db

    def close(self) -> None:
        """Close the connections of the database this state opened (none it was given)."""
        if self._db is not None and self._opened_db:
            self._db.dispose()
            self._db = None

    @contextmanager
    def work(self, *, write: bool = True) -> Iterator[tuple[Session, Actor]]:
        """One transaction on behalf of the agent at the console."""
        from cc_tui.services.context import sign_in

        db = self.database()
        settings = self.settings
        with db.session(write=write) as session:
            yield session, sign_in(session, settings.agent, settings.login)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Report domain errors as one line on stderr and exit with their code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            _check_arguments(kwargs)
            return fn(*args, **kwargs)
        except CcError as error:
            fail(error)

    return wrapper


def _check_arguments(arguments: dict[str, Any]) -> None:
    """Refuse, naming the option, what no service could use, before any of them sees it:
    text whose bytes were not UTF-8 (Python keeps them as lone surrogates) and whole
    numbers beyond what any id, count or limit can be (the same answer on both databases)."""
    for name, value in arguments.items():
        shown = name.replace("_", "-")
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str) and has_surrogate(item):
                raise UsageError(f"{shown}: not valid UTF-8 text", field=name)
            if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
                raise UsageError(f"{shown}: {item} is out of range", field=name)


def printable(text: str) -> str:
    """Text for the terminal: every control character but newline and tab shown as a sign.

    Stored text may come from customers, callers and files (and from older rows written
    before the write guard): an escape sequence in it must never reach the terminal.
    """
    return visible(text, multiline=True)


# JSON escapes C0 controls itself; C1 controls, DEL and the bidirectional controls are
# escaped as \uXXXX too (the same document for a parser, nothing a terminal obeys or
# reorders when it is printed).
_ESCAPED = (*range(0x7F, 0xA0), *BIDI_CODES, *range(0xD800, 0xE000))
_JSON_C1 = {code: f"\\u{code:04x}" for code in _ESCAPED}


def local_time(moment: datetime | None, zone: tzinfo | None) -> str:
    """A stored moment as the tables show it: minutes, in the display time zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"


def fail(error: CcError) -> NoReturn:
    typer.echo(printable(f"cc-tui: {error.message}"), err=True)
    raise typer.Exit(int(error.exit_code))


def emit(value: Any, *, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    """Print a result: exactly one JSON document with --json, else readable text."""
    from cc_tui.services.serialize import jsonable

    data = jsonable(value)
    if as_json:
        sys.stdout.write(_json(data) + "\n")
        return
    text = printable(human(value)) if human else _json(data)
    sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))


def note(message: str) -> None:
    """A message for the person at the terminal: stderr, never mixed with data."""
    typer.echo(printable(message), err=True)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2).translate(_JSON_C1)


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """A plain aligned text table (no colour: safe in pipes and logs)."""
    # One line per row: a newline or tab inside a cell is shown as a sign.
    cells = [[("" if v is None else str(v).translate(VISIBLE)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = min(max(widths[i], len(value)), 60)

    def line(values: list[str]) -> str:
        return "  ".join(v[:60].ljust(widths[i]) for i, v in enumerate(values)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)
