"""`cc-tui import ...`: bring history over from another service desk."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state

app = typer.Typer(help="Import history from another service desk.", no_args_is_help=True)


def _zone(name: str | None, default: Any) -> Any:
    if not name:
        return default
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from cc_tui.errors import UsageError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--zone: unknown time zone {name!r}", field="zone") from None


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr while rows are written (a terminal only, never with --json)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "importing",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("rows", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _result_text(data: dict[str, Any]) -> str:
    created = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in data["created"].items() if n)
    lines = [
        f"{data['file']} ({data['encoding']}): {data['rows']} rows, {data['imported']} imported, "
        f"{data['skipped_existing']} already there, {len(data['bad'])} bad",
    ]
    if created:
        lines.append(f"created: {created}")
    # One line per bad row, the reason whole (a table would cut it).
    lines += [f"line {b['line']} {b['number'] or '-'}: {b['reason']}" for b in data["bad"]]
    return "\n".join(lines)


@app.command()
@command
def incidents(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV export (ServiceNow incident columns, or --map)."),
    mapping: list[str] = typer.Option(
        [], "--map", help="COLUMN=FIELD: the file's column for a field (repeatable)."
    ),
    zone: str | None = typer.Option(
        None, "--zone", help="Zone of times given without one (default: the display zone)."
    ),
    date_format: str | None = typer.Option(
        None, "--date-format", help="strptime format of the times (default: ISO 8601)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import closed and resolved incidents from a CSV export; a second run adds nothing."""
    from cc_tui.services.importing.incidents import import_incidents, parse_mapping

    fields = parse_mapping(mapping)
    cli = state(ctx)
    with cli.work(write=False) as (_session, actor):
        pass
    shown = not as_json and sys.stderr.isatty()
    with _progress_bar(shown) as progress:
        result = import_incidents(
            cli.database(),
            actor=actor,
            path=file,
            mapping=fields,
            zone=_zone(zone, cli.settings.display_zone),
            date_format=date_format,
            progress=progress,
        )
    if result.encoding != "utf-8":
        note(f"{file} is not UTF-8: read it as Windows-1252 (cp1252)")
    emit(result.as_dict(), as_json=as_json, human=_result_text)
