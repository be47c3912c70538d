"""`cc-tui demo`: load the demo data set."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, note, state

app = typer.Typer(
    help="Load demo data (idempotent). --incidents/--customers are totals to top up to.",
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
@command
def demo(
    ctx: typer.Context,
    incidents: int | None = typer.Option(
        None,
        "--incidents",
        min=0,
        help="Top the database up to this many incidents in total (generated, with timelines).",
    ),
    customers: int | None = typer.Option(
        None,
        "--customers",
        min=0,
        help="Top the database up to this many customers in total (with contacts and units).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load the demo organisation, customers, KB and incidents; safe to run again."""
    from cc_tui.demo.generator import load_demo

    st = state(ctx)
    summary = load_demo(
        st.database(),
        login=st.settings.login,
        incidents=incidents,
        customers=customers,
        progress=note,
    )
    emit(summary, as_json=as_json, human=_human)


def _human(summary) -> str:
    lines = [f"demo data in {summary.database} ({summary.seconds:.1f} s)"]
    width = max(len(name) for name in summary.counts)
    for name, count in summary.counts.items():
        added = summary.added.get(name)
        extra = f"  (+{added:,})" if added else ""
        lines.append(f"  {name.ljust(width)}  {count:>12,}{extra}")
    if summary.escalated:
        lines.append(f"escalation sweep: {summary.escalated:,} incident(s) escalated")
    if not summary.added:
        lines.append("nothing to add: the demo data is already there")
    return "\n".join(lines)
