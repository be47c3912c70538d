"""`cc-tui report ...`: statistics over a half-open period, and the incident report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state, table

app = typer.Typer(
    help="Reports: volumes, times, agents, conversion, SLA, backlog, knowledge base, incident.",
    no_args_is_help=True,
)

FROM = typer.Option(..., "--from", help="First day, YYYY-MM-DD (included, display zone).")
TO = typer.Option(..., "--to", help="Day after the last, YYYY-MM-DD (not included).")
CSV = typer.Option(None, "--csv", help="Also write the rows to this CSV file.")
XLSX = typer.Option(None, "--xlsx", help="Also write the report to this Excel file.")


def _run(
    ctx: typer.Context,
    fn_name: str,
    *,
    as_json: bool,
    csv: Path | None,
    xlsx: Path | None,
    **kwargs: Any,
) -> None:
    from cc_tui.services.reports import export, figures, times

    fn = getattr(times if fn_name == "times" else figures, fn_name)
    st = state(ctx)
    with st.work(write=False) as (session, actor):
        report = fn(session, zone=st.settings.display_zone, actor=actor, **kwargs)
    data = report.as_dict()
    about = {"report": report.kind, "from": report.from_, "to": report.to, **report.extra}
    if csv is not None:
        export.write_csv(data, csv)
        note(f"wrote {csv}")
    if xlsx is not None:
        export.write_xlsx({**about, "rows": data["rows"]}, xlsx)
        note(f"wrote {xlsx}")
    emit(data, as_json=as_json, human=lambda d: _human(about, d["rows"]))


def _human(about: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    from cc_tui.services.reports.export import flat_rows

    heading = f"{about['report']}: " + ", ".join(
        f"{k} {v}" for k, v in about.items() if k != "report"
    )
    if not rows:
        return heading + "\n(no rows)"
    headers, cells = flat_rows(rows)
    return heading + "\n" + table(cells, headers)


@app.command()
@command
def volume(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    by: str = typer.Option(
        "request_type", help="request_type, channel, reason, priority, department or agent."
    ),
    period: str = typer.Option("day", help="day, week (from Monday) or month."),
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Every contact (abandoned calls and comments too) by when it started."""
    from cc_tui.errors import UsageError

    if by == "problem":
        raise UsageError(
            "--by is one of request_type, channel, reason, priority, department, agent"
        )
    _run(
        ctx, "volume", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end, by=by, unit=period
    )


@app.command()
@command
def times(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    by: str = typer.Option(..., help="reason, priority, problem, department, agent or channel."),
    clock: str = typer.Option("wall", help="wall, or business (the incident's calendar)."),
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Minutes from the contact's start to response, assignment, solution and closing."""
    _run(
        ctx, "times", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end, by=by, clock=clock
    )


@app.command()
@command
def agents(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Per agent: registered, handled, solved, closed, minutes booked."""
    _run(ctx, "agents", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end)


@app.command()
@command
def conversion(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    by: str = typer.Option("reason", help="reason, problem, priority, department, agent, ..."),
    period: str = typer.Option("month", help="day, week or month."),
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Share of action requests handed to a work order, per period and code."""
    _run(
        ctx,
        "conversion",
        as_json=as_json,
        csv=csv,
        xlsx=xlsx,
        first=first,
        end=end,
        by=by,
        unit=period,
    )


@app.command()
@command
def sla(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Responses and resolutions met, missed or pending, per priority."""
    _run(ctx, "sla", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end)


@app.command()
@command
def backlog(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Open incidents at the end of each day."""
    _run(ctx, "backlog", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end)


@app.command()
@command
def kb(
    ctx: typer.Context,
    first: str = FROM,
    end: str = TO,
    as_json: bool = JSON_OPTION,
    csv: Path | None = CSV,
    xlsx: Path | None = XLSX,
) -> None:
    """Knowledge-base searches per request, answered share, articles that answered most."""
    _run(ctx, "kb", as_json=as_json, csv=csv, xlsx=xlsx, first=first, end=end)


@app.command()
@command
def incident(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    fmt: str = typer.Option("md", "--format", help="md (Markdown) or html (self-contained)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file."),
) -> None:
    """One incident, complete: caller, unit, codes, owners, deadlines, timeline, time, orders."""
    from cc_tui.services.reports.incident import incident_report

    st = state(ctx)
    with st.work(write=False) as (session, _actor):
        text = incident_report(session, ref=ref, fmt=fmt, zone=st.settings.display_zone)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        note(f"wrote {output}")
