"""The incident report: one incident, complete, as Markdown or as self-contained HTML.

Both are rendered from the same sections; every value (customer text included) is escaped
for the format it goes into.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import Session

from cc_tui.errors import UsageError

FORMATS = ("md", "html")


@dataclass
class Section:
    title: str
    fields: list[tuple[str, Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)


def _text(value: Any, zone: tzinfo | None) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, "", [], {}))
    return str(value)


def incident_sections(session: Session, ref: str) -> tuple[str, list[Section]]:
    from cc_tui.services.incidents.records import incident_detail
    from cc_tui.services.incidents.timetrack import incident_time
    from cc_tui.services.sla.deadlines import deadline_view
    from cc_tui.services.workorders.orders import orders_of_incident

    d = incident_detail(session, ref)
    plan = deadline_view(session, ref=ref).plan
    booked = incident_time(session, ref=ref)
    orders = orders_of_incident(session, ref)
    title = f"{d.number}: {d.title or '(no title)'}"
    sections = [
        Section(
            "Request",
            [
                ("Status", d.status),
                ("Type", d.type),
                ("Channel", d.channel),
                ("Description", d.description),
                ("Question", d.question),
                ("Answer", d.answer),
                ("Opened", d.opened_at),
                ("Registered", d.registered_at),
                ("First response", d.first_response_at),
                ("Solved", d.solved_at),
                ("Closed", d.closed_at),
            ],
        ),
        Section(
            "Caller and unit",
            [
                ("Caller", d.caller),
                ("Customer", d.customer),
                ("Contact", d.contact),
                ("Unit", d.unit),
            ],
        ),
        Section(
            "Classification",
            [
                ("Reason", d.reason),
                ("Request kind", d.request_kind),
                ("Problem code", d.problem_code),
                ("Priority", d.priority),
                ("Department", d.department),
                ("Owner", d.owner),
                ("Responsible", d.responsible),
            ],
        ),
        Section(
            "Deadlines",
            [
                ("Escalation", d.escalation),
                ("Response due", d.response_due),
                ("Follow-up", d.follow_up_at),
                ("Warning", d.warning_at),
                ("Late", d.late_at),
                ("Resolve due", d.resolve_due),
                ("Set by hand", d.deadlines_manual),
                ("Paused minutes", d.paused_minutes),
                ("Computed from", plan),
            ],
        ),
        Section(
            "Owner history",
            headers=["When", "By", "Change"],
            rows=[[e.at, e.author, e.data or e.text] for e in d.events if e.type == "Assignment"],
        ),
        Section(
            "Time booked",
            [("Total minutes", booked.total_minutes)],
            ["Agent", "Minutes", "Entries"],
            [[t.key, t.minutes, t.entries] for t in booked.by],
        ),
        Section(
            "Work orders",
            headers=["Order", "Kind", "Status", "Title", "Department", "Assignee"],
            rows=[[o.number, o.kind, o.status, o.title, o.department, o.assignee] for o in orders],
        ),
        Section(
            "Resolution",
            [
                ("Resolution", d.resolution),
                ("Accepted by customer", d.customer_accepted),
                ("Closed by coordinator", d.closed_by_coordinator),
            ],
        ),
        Section(
            "Timeline",
            headers=["When", "Type", "By", "Text"],
            rows=[[e.at, e.type, e.author, e.text] for e in d.events],
        ),
    ]
    return title, sections


def _plan_text(plan: Any) -> str:
    offsets = ", ".join(
        f"{name} {minutes} working min ({plan.offset_sources.get(name, '')})"
        for name, minutes in plan.offsets.items()
        if minutes is not None
    )
    return (
        f"priority {plan.priority or '-'}, {plan.basis or 'no'} hours, calendar "
        f"{plan.calendar} ({plan.calendar_source}); {offsets or 'no offsets'}"
    )


def incident_report(session: Session, *, ref: str, fmt: str, zone: tzinfo | None) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"--format is md or html, not {fmt!r}", field="format")
    title, sections = incident_sections(session, ref)
    for section in sections:
        section.fields = [
            (label, _plan_text(v) if label == "Computed from" else v) for label, v in section.fields
        ]
    return _markdown(title, sections, zone) if fmt == "md" else _html(title, sections, zone)


def _md(value: Any, zone: tzinfo | None) -> str:
    text = _text(value, zone).replace("\r", " ").replace("\n", " ")
    # Markdown and the table's pipes: shown literally, never as markup.
    for mark in ("\\", "|", "*", "_", "`", "[", "]", "<", ">", "#"):
        text = text.replace(mark, "\\" + mark)
    return text


def _markdown(title: str, sections: list[Section], zone: tzinfo | None) -> str:
    out = [f"# {_md(title, zone)}", ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        out += [f"- **{label}:** {_md(v, zone)}" for label, v in s.fields]
        if s.fields:
            out.append("")
        if s.headers:
            if s.rows:
                out.append("| " + " | ".join(s.headers) + " |")
                out.append("|" + "---|" * len(s.headers))
                out += ["| " + " | ".join(_md(v, zone) for v in r) + " |" for r in s.rows]
            else:
                out.append("(none)")
            out.append("")
    return "\n".join(out)


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
    "table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #999;padding:.2em .4em;text-align:left;vertical-align:top}"
    "dt{font-weight:bold}@media print{body{margin:0}}"
)


def _html(title: str, sections: list[Section], zone: tzinfo | None) -> str:
    def esc(value: Any) -> str:
        return html.escape(_text(value, zone), quote=True)

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        out.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.fields:
            out.append("<dl>")
            out += [f"<dt>{html.escape(label)}</dt><dd>{esc(v)}</dd>" for label, v in s.fields]
            out.append("</dl>")
        if s.headers:
            if not s.rows:
                out.append("<p>(none)</p>")
                continue
            out.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in s.headers) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{esc(v)}</td>" for v in r) + "</tr>" for r in s.rows]
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
