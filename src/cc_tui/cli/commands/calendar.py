"""`cc-tui calendar ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state, table

app = typer.Typer(
    help="Business calendars: hours, holidays, due-time arithmetic.", no_args_is_help=True
)


def _info_text(info) -> str:
    lines = [f"{info.name}  ({info.tz}){'  24/7' if info.always else ''}"]
    lines.extend(f"  {spec}" for spec in info.hours)
    region = f" from {info.holiday_region}" if info.holiday_region else ""
    lines.append(f"  {info.holidays} holidays{region}, {info.exceptions} exceptional days")
    for day in info.days or []:
        what = "holiday" if day.holiday else day.hours
        lines.append(f"  {day.day}  {what:<24} {day.name or ''}".rstrip())
    return "\n".join(lines)


def _recomputed(n: int) -> None:
    if n:
        note(f"deadlines recomputed on {n} open incident(s)")


@app.command()
@command
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    tz: str = typer.Option("UTC", "--tz", help="IANA time zone, e.g. Europe/Berlin."),
    hours: list[str] = typer.Option(
        ...,
        "--hours",
        help="DAYS HH:MM-HH:MM [...], e.g. 'mon-fri 08:00-12:00 13:00-17:00' (repeats; "
        "'mon-sun 00:00-24:00' is 24/7).",
    ),
    holidays: str | None = typer.Option(
        None, "--holidays", help="Load a region's public holidays: DE, DE-BE, NL, US-NY, ..."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a business calendar (admin)."""
    from cc_tui.services.worktime.calendars import add_calendar

    with state(ctx).work() as (session, actor):
        info = add_calendar(session, actor=actor, name=name, tz=tz, hours=hours, holidays=holidays)
    emit(info, as_json=as_json, human=_info_text)


@app.command("add-holiday")
@command
def add_holiday(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    days: list[str] = typer.Argument(..., help="YYYY-MM-DD [YYYY-MM-DD ...]"),
    label: str | None = typer.Option(None, "--name", help="What the holiday is called."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark days as holidays (admin)."""
    from cc_tui.services.worktime.calendars import add_holidays

    with state(ctx).work() as (session, actor):
        result = add_holidays(session, actor=actor, calendar=name, days=days, name=label)
    _recomputed(result.recomputed)
    emit(
        result,
        as_json=as_json,
        human=lambda r: (
            f"{len(r.added)} holiday(s) added to {r.calendar}"
            + (f", {len(r.existing)} already there" if r.existing else "")
        ),
    )


@app.command("set-day")
@command
def set_day(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    day: str = typer.Argument(..., help="YYYY-MM-DD"),
    hours: str = typer.Option(
        ..., "--hours", help="That day's own hours, 'HH:MM-HH:MM [...]'; '' makes it a holiday."
    ),
    label: str | None = typer.Option(None, "--name", help="Why the day is different."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give one date its own working hours (admin)."""
    from cc_tui.services.worktime.calendars import set_day as set_day_service

    with state(ctx).work() as (session, actor):
        result = set_day_service(
            session, actor=actor, calendar=name, day=day, hours=hours, name=label
        )
    _recomputed(result.recomputed)
    emit(
        result,
        as_json=as_json,
        human=lambda r: f"{r.calendar} {r.day.day}: {r.day.hours or 'holiday'}",
    )


@app.command("remove-day")
@command
def remove_day(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    days: list[str] = typer.Argument(..., help="YYYY-MM-DD [YYYY-MM-DD ...]"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove holidays or exceptional days: the weekday's hours apply again (admin)."""
    from cc_tui.services.worktime.calendars import remove_days

    with state(ctx).work() as (session, actor):
        result = remove_days(session, actor=actor, calendar=name, days=days)
    _recomputed(result.recomputed)
    emit(result, as_json=as_json, human=lambda r: f"{len(r.removed)} day(s) removed")


@app.command()
@command
def due(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    start: str = typer.Option(
        ..., "--start", help="ISO 8601 instant; without an offset it is the calendar's time."
    ),
    minutes: str = typer.Option(
        ..., "--minutes", help="Working minutes to add (also 45m, 2h, 3d, 1h30m)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """When N working minutes after START have passed on the calendar."""
    from cc_tui.services.worktime.calendars import calendar_due
    from cc_tui.services.worktime.hours import parse_duration

    amount = parse_duration(minutes, field="minutes")
    with state(ctx).work(write=False) as (session, _actor):
        result = calendar_due(session, calendar=name, start=start, minutes=amount)
    emit(result, as_json=as_json, human=lambda r: f"{r.due_local}  ({r.due.isoformat()})")


@app.command("list")
@command
def list_(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the calendars."""
    from cc_tui.services.worktime.calendars import list_calendars

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_calendars(session)

    def human(cals) -> str:
        if not cals:
            return "no calendars"
        return table(
            [[c.name, c.tz, "; ".join(c.hours), c.holidays, c.exceptions] for c in cals],
            ["name", "zone", "hours", "holidays", "exceptions"],
        )

    emit(rows, as_json=as_json, human=human)


@app.command()
@command
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Calendar name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a calendar with its hours, holidays and exceptional days."""
    from cc_tui.services.worktime.calendars import show_calendar

    with state(ctx).work(write=False) as (session, _actor):
        info = show_calendar(session, name=name)
    emit(info, as_json=as_json, human=_info_text)
