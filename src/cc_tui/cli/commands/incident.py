"""`cc-tui incident ...`: the incident operations for scripts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, local_time, note, state, table

app = typer.Typer(
    help="Incidents: open, show, list, change status, add events.", no_args_is_help=True
)


def _rows_text(rows) -> str:
    if not rows:
        return "no incidents"
    return table(
        [
            [r.number, r.status, r.type, r.priority, r.escalation, r.owner, r.customer, r.title]
            for r in rows
        ],
        ["number", "status", "type", "prio", "escalation", "owner", "customer", "title"],
    )


def _detail_text(d: dict) -> str:
    lines = [
        f"{d['number']}  {d['status']}  {d['type']} via {d['channel']}  v{d['version']}",
        f"title:     {d['title'] or ''}",
    ]
    if d["customer"]:
        c = d["customer"]
        block = f"  [{c['block_level']}: {c['block_reason']}]" if c["block_level"] != "none" else ""
        lines.append(f"customer:  {c['number']} {c['name']}{block}")
    if d["unit"]:
        u = d["unit"]
        warranty = f"warranty until {u['warranty_until']}" if u["under_warranty"] else "no warranty"
        contract = f", contract {u['contract']['code']}" if u["contract"] else ""
        lines.append(f"unit:      {u['serial']} {u['item']} ({warranty}{contract})")
    reason = "/".join(x for x in (d["reason"]["general"], d["reason"]["specific"]) if x)
    lines.append(f"reason:    {reason}   priority: {d['priority'] or '-'}")
    lines.append(f"owner:     {d['owner'] or '-'}   department: {d['department'] or '-'}")
    first = (d["first_response_at"] or "-")[:16]
    lines.append(f"response:  {first}   time spent: {d['time_spent_minutes']} min")
    by_hand = "  (set by hand)" if d["deadlines_manual"] else ""
    lines.append(
        f"clocks:    {d['escalation']}   response due {(d['response_due'] or '-')[:16]}   "
        f"resolve due {(d['resolve_due'] or '-')[:16]}{by_hand}"
    )
    if d["resolution"]["solution"]:
        lines.append(f"solution:  {d['resolution']['solution']}")
    lines.append(f"next:      {', '.join(d['legal_next']) or '(final)'}")
    lines.append("")
    for e in d["events"]:
        lines.append(f"{e['at'][:16]}  {e['type']:<13} {e['author']:<10} {e['text'] or ''}")
    return "\n".join(lines)


def _show(session, ref, warnings=None) -> dict:
    from cc_tui.services.incidents.records import incident_detail
    from cc_tui.services.serialize import jsonable

    data = jsonable(incident_detail(session, ref))
    if warnings is not None:
        data["warnings"] = list(warnings)
    return data


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="Only this status."),
    customer: int | None = typer.Option(None, help="Only this customer id."),
    open_: bool = typer.Option(False, "--open", help="Only open incidents."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many (newest first)."),
    before: str | None = typer.Option(None, help="Page on: incidents older than this one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List incidents, newest first."""
    from cc_tui.services.incidents.base import parse_ref
    from cc_tui.services.incidents.records import list_incidents

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_incidents(
            session,
            status=status,
            customer_id=customer,
            open_only=open_,
            limit=limit,
            before_id=parse_ref(before) if before else None,
        )
    emit(rows, as_json=as_json, human=_rows_text)


@app.command()
@command
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an incident with its timeline."""
    with state(ctx).work(write=False) as (session, _actor):
        data = _show(session, ref)
    emit(data, as_json=as_json, human=_detail_text)


@app.command("open")
@command
def open_(
    ctx: typer.Context,
    channel: str = typer.Option(..., help="phone, email, fax, web, walk-in, cti"),
    type_: str = typer.Option(..., "--type", help="information, action or comment"),
    customer: int | None = typer.Option(None, help="Customer id."),
    phone: str | None = typer.Option(None, help="Caller's phone (finds the customer)."),
    email: str | None = typer.Option(None, help="Caller's e-mail (finds the customer)."),
    name: str | None = typer.Option(None, help="Caller's name as given."),
    contact: int | None = typer.Option(None, help="Contact person id."),
    serial: str | None = typer.Option(None, help="Unit serial number."),
    title: str | None = typer.Option(None),
    description: str | None = typer.Option(None, help="What the caller said; a comment's text."),
    question: str | None = typer.Option(None, help="Information request: the question."),
    answer: str | None = typer.Option(None, help="Information request: the answer given."),
    reason: str | None = typer.Option(None, help="GENERAL or GENERAL/SPECIFIC reason code."),
    request_kind: str | None = typer.Option(None, help="Request-type dictionary code."),
    problem_code: str | None = typer.Option(None, help="Service problem code."),
    priority: str | None = typer.Option(
        None, help="Priority code (default: contract, customer, system)."
    ),
    responsible: str | None = typer.Option(None, help="Responsible agent's login."),
    expected_close: str | None = typer.Option(None, help="YYYY-MM-DD"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a contact and save it as an incident in one step."""
    from cc_tui.errors import UsageError
    from cc_tui.services.incidents.intake import IntakeForm, save_call

    try:
        close_on = date.fromisoformat(expected_close) if expected_close else None
    except ValueError:
        raise UsageError(f"expected close date is YYYY-MM-DD, not {expected_close!r}") from None
    form = IntakeForm(
        request_type=type_,
        customer_id=customer,
        contact_id=contact,
        caller_name=name,
        caller_phone=phone,
        caller_email=email,
        serial=serial,
        title=title,
        description=description,
        question=question,
        answer=answer,
        reason=reason,
        request_kind=request_kind,
        problem_code=problem_code,
        priority=priority,
        responsible=responsible,
        expected_close=close_on,
    )
    st = state(ctx)
    with st.work() as (session, actor):
        result = save_call(
            session,
            actor=actor,
            channel=channel,
            form=form,
            default_country=st.settings.default_country,
            kb_search_required=st.settings.kb_search_required,
        )
        data = _show(session, result.id, result.warnings)
    for warning in result.warnings:
        note(f"warning: {warning}")
    emit(data, as_json=as_json, human=_detail_text)


@app.command()
@command
def status(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    to: str = typer.Argument(
        ..., metavar="STATUS", help="assigned, in_process, pending, solved, closed, ..."
    ),
    problem: str | None = typer.Option(None, help="Actual problem (solved)."),
    solution: str | None = typer.Option(None, help="Actual solution (solved)."),
    resolution: str | None = typer.Option(None, help="GENERAL/SPECIFIC resolution code (solved)."),
    accepted: bool = typer.Option(False, "--accepted", help="Closed: the customer accepted."),
    coordinator: bool = typer.Option(False, "--coordinator", help="Closed by a coordinator."),
    version: int | None = typer.Option(
        None, help="Refuse if the incident changed since this version."
    ),
    note_: str | None = typer.Option(None, "--note", help="Why (written to the timeline)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move an incident through its lifecycle."""
    from cc_tui.services.incidents.lifecycle import change_status

    with state(ctx).work() as (session, actor):
        result = change_status(
            session,
            actor=actor,
            ref=ref,
            to=to,
            expected_version=version,
            problem=problem,
            solution=solution,
            resolution=resolution,
            accepted=accepted or None,
            coordinator=coordinator,
            note=note_,
        )
        data = _show(session, ref)
    note(f"{result.number}: {result.previous} -> {result.status}")
    emit(data, as_json=as_json, human=_detail_text)


@app.command()
@command
def event(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    type_: str = typer.Option(
        ..., "--type", help="CallIn, CallOut, EmailIn, EmailOut, Dispatch, Note, ..."
    ),
    text: str = typer.Option(..., help="What happened / what the caller said."),
    contact: int | None = typer.Option(None, help="Contact person id."),
    minutes: int | None = typer.Option(
        None, help="Duration of the call or visit (booked time: `cc-tui time add`)."
    ),
    corrects: int | None = typer.Option(None, help="Id of the event this one corrects."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an event to an incident's timeline (events are never changed: correct instead)."""
    from cc_tui.services.incidents.timeline import add_event_to_incident

    with state(ctx).work() as (session, actor):
        row = add_event_to_incident(
            session,
            actor=actor,
            ref=ref,
            type_code=type_,
            text=text,
            contact_id=contact,
            duration_minutes=minutes,
            corrects_id=corrects,
        )
    if row.first_response:
        note(f"{row.incident}: first response recorded")
    emit(row, as_json=as_json, human=lambda r: f"event {r.id} added to {r.incident}")


def _timeline_text(page) -> str:
    lines = [
        f"{e.at:%Y-%m-%d %H:%M}  #{e.id:<6} {e.type:<13} {e.author:<10} "
        + (f"(corrects #{e.corrects_id}) " if e.corrects_id else "")
        + (e.text or "")
        for e in page.events
    ]
    if page.next_after is not None:
        lines.append(f"... more: --after {page.next_after}")
    return "\n".join(lines) if lines else "no events"


@app.command()
@command
def timeline(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    kind: str = typer.Option("all", help="user, system, contact (customer contacts) or all."),
    limit: int = typer.Option(50, min=1, max=500, help="Events per page."),
    newest_first: bool = typer.Option(False, "--newest-first", help="Newest events first."),
    after: int | None = typer.Option(None, help="Next page: events after this event id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read an incident's timeline, one page at a time."""
    from cc_tui.services.incidents.timeline import timeline as read_timeline

    with state(ctx).work(write=False) as (session, _actor):
        page = read_timeline(
            session, ref=ref, kind=kind, newest_first=newest_first, limit=limit, after=after
        )
    emit(page, as_json=as_json, human=_timeline_text)


@app.command()
@command
def contact(
    ctx: typer.Context,
    channel: str = typer.Option(..., help="phone, email, fax, web, walk-in, cti"),
    type_: str = typer.Option("action", "--type", help="information, action or comment"),
    phone: str | None = typer.Option(None, help="Caller's phone as signalled."),
    email: str | None = typer.Option(None),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record that a contact started (CTI bridges call this when the phone rings)."""
    from cc_tui.services.incidents.intake import open_contact

    st = state(ctx)
    with st.work() as (session, actor):
        draft = open_contact(
            session,
            actor=actor,
            channel=channel,
            request_type=type_,
            caller_phone=phone,
            caller_email=email,
            default_country=st.settings.default_country,
        )
    emit(draft, as_json=as_json, human=lambda d: f"{d.number} contact started")


@app.command()
@command
def abandon(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The contact's INC- number"),
    note_: str | None = typer.Option(None, "--note"),
    as_json: bool = JSON_OPTION,
) -> None:
    """End a contact that was not saved; it stays on record as abandoned."""
    from cc_tui.services.incidents.base import parse_ref
    from cc_tui.services.incidents.intake import abandon_contact

    with state(ctx).work() as (session, actor):
        result = abandon_contact(session, actor=actor, contact_id=parse_ref(ref), note=note_)
    emit(result, as_json=as_json, human=lambda r: f"{r.number} {r.status}")


@app.command("add-call")
@command
def add_call(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The open incident: INC-1042 or 1042"),
    text: str = typer.Option(..., help="What the caller said (the event's text)."),
    call: str | None = typer.Option(
        None, help="The call's contact (INC- number from `incident contact`); default: record one."
    ),
    channel: str = typer.Option("phone", help="phone, email, fax, web, walk-in, cti"),
    type_: str = typer.Option("action", "--type", help="information, action or comment"),
    phone: str | None = typer.Option(None, help="Caller's phone as signalled."),
    email: str | None = typer.Option(None),
    contact: int | None = typer.Option(None, help="Contact person id."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a call to an open incident instead of opening a duplicate: the call's contact is
    closed and linked to it, what the caller said becomes an event on it."""
    from cc_tui.services.incidents.base import parse_ref
    from cc_tui.services.incidents.intake import add_call_to_incident

    st = state(ctx)
    with st.work() as (session, actor):
        result = add_call_to_incident(
            session,
            actor=actor,
            target_ref=ref,
            text=text,
            channel=channel,
            contact_id=parse_ref(call) if call is not None else None,
            request_type=type_,
            caller_contact_id=contact,
            caller_phone=phone,
            caller_email=email,
            default_country=st.settings.default_country,
        )
    emit(result, as_json=as_json, human=lambda r: f"call added to {r.number} ({r.status})")


@app.command()
@command
def update(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    title: str | None = typer.Option(None),
    description: str | None = typer.Option(None),
    reason: str | None = typer.Option(None, help='GENERAL/SPECIFIC; "" clears.'),
    request_kind: str | None = typer.Option(None, help='Request-type code; "" clears.'),
    problem_code: str | None = typer.Option(None, help='Service problem code; "" clears.'),
    priority: str | None = typer.Option(None, help="Priority code."),
    contact: str | None = typer.Option(None, help='Contact person id; "" clears.'),
    responsible: str | None = typer.Option(None, help='Agent login; "" clears.'),
    expected_close: str | None = typer.Option(None, help='YYYY-MM-DD; "" clears.'),
    version: int | None = typer.Option(None, help="Refuse if changed since this version."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change fields of an open incident; each change is written to its timeline."""
    from cc_tui.errors import UsageError
    from cc_tui.services.incidents.edit import update_incident
    from cc_tui.services.partial import UNSET

    def given(value: str | None):
        return UNSET if value is None else (value or None)

    close_on = given(expected_close)
    contact_id = given(contact)
    try:
        if close_on not in (UNSET, None):
            close_on = date.fromisoformat(close_on)
        if contact_id not in (UNSET, None):
            contact_id = int(contact_id)
    except ValueError as error:
        raise UsageError(f"bad value: {error}") from None
    with state(ctx).work() as (session, actor):
        update_incident(
            session,
            actor=actor,
            ref=ref,
            expected_version=version,
            title=given(title),
            description=given(description),
            reason=given(reason),
            request_kind=given(request_kind),
            problem_code=given(problem_code),
            priority=given(priority),
            contact_id=contact_id,
            responsible=given(responsible),
            expected_close=close_on,
        )
        data = _show(session, ref)
    emit(data, as_json=as_json, human=_detail_text)


@app.command()
@command
def assign(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    to: str | None = typer.Option(None, "--to", help="Give it to this agent (login)."),
    department: str | None = typer.Option(
        None, "--department", help="Move it to this department's queue."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (written to the timeline)."),
    version: int | None = typer.Option(None, help="Refuse if changed since this version."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Assign or reassign an incident to an agent or another department."""
    from cc_tui.services.routing.queues import assign as assign_incident

    with state(ctx).work() as (session, actor):
        result = assign_incident(
            session,
            actor=actor,
            ref=ref,
            to_agent=to,
            to_department=department,
            reason=reason,
            expected_version=version,
        )
        data = _show(session, result.id)
    where = result.owner or f"the {result.department} queue"
    note(f"{result.number}: now with {where} ({result.status})")
    emit(data, as_json=as_json, human=_detail_text)


@app.command()
@command
def claim(
    ctx: typer.Context,
    department: str | None = typer.Option(
        None, "--department", help="Claim from this queue (default: your department's)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take the most urgent unassigned incident of a queue (exit 3 if it is empty)."""
    from cc_tui.services.routing.queues import claim_next

    with state(ctx).work() as (session, actor):
        result = claim_next(session, actor=actor, department=department)
        data = _show(session, result.id)
    note(f"{result.number} claimed")
    emit(data, as_json=as_json, human=_detail_text)


# --- deadlines ------------------------------------------------------------------------

_DEADLINE_LABELS = {
    "response_due": "response due",
    "follow_up_at": "follow-up",
    "warning_at": "warning",
    "late_at": "late",
    "resolve_due": "resolve due",
}


def _deadline_at(value: str | None, option: str, zone_name: str | None):
    """A deadline option: ISO 8601 (without an offset: display-zone time) or "none"."""
    from cc_tui.errors import UsageError
    from cc_tui.services.partial import UNSET
    from cc_tui.services.worktime.calendars import parse_instant

    if value is None:
        return UNSET
    if value.strip().lower() == "none":
        return None
    field = option.removeprefix("--")
    try:
        # An unknown configured zone is refused here rather than guessed.
        return parse_instant(value, default_tz=zone_name, field=field)
    except UsageError as error:
        # A bad time gets the hint; a bad configured zone (field "tz") is said as it is.
        hint = ", or none to clear it" if error.field == field else ""
        raise UsageError(f"{option}: {error.message}{hint}", field=field) from None


def _deadlines_text(view, zone) -> str:
    from cc_tui.services.worktime.hours import format_duration

    def when(moment) -> str:
        return local_time(moment, zone)

    plan = view.plan
    how = "set by hand" if view.manual else "computed"
    lines = [
        f"{view.number}  {view.status}  escalation {view.escalation}  v{view.version}  "
        f"deadlines {how}",
        f"calendar:  {plan.calendar} ({plan.calendar_tz}; {plan.calendar_source}), "
        f"basis {plan.basis or '-'}, priority {plan.priority or '-'}",
        f"counted from registration {when(plan.start)}",
        "",
    ]
    rows = []
    for name, label in _DEADLINE_LABELS.items():
        skipped = plan.holidays_skipped.get(name) or []
        rows.append(
            [
                label,
                when(view.deadlines[name]),
                when(plan.deadlines[name]),
                format_duration(plan.offsets[name]) or "-",
                plan.offset_sources[name],
                ", ".join(day.isoformat() for day in skipped),
            ]
        )
    lines.append(table(rows, ["deadline", "stored", "computed", "offset", "from", "holidays"]))
    lines.append("")
    for pause in plan.pauses:
        end = when(pause.ended_at) if pause.ended_at else "now"
        lines.append(f"paused:    {when(pause.started_at)} - {end}")
    if view.paused_minutes or view.paused_since:
        since = f", pending since {when(view.paused_since)}" if view.paused_since else ""
        lines.append(f"paused in total: {view.paused_minutes} min{since}")
    lines.append(f"next escalation: {when(view.escalate_at)}")
    lines.extend(f"note:      {text}" for text in view.notes)
    return "\n".join(lines)


@app.command()
@command
def deadlines(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an incident's deadlines and how they were computed (calendar, offsets, pauses)."""
    from cc_tui.services.sla.deadlines import deadline_view

    st = state(ctx)
    zone = st.settings.display_zone
    with st.work(write=False) as (session, _actor):
        view = deadline_view(session, ref=ref)
    emit(view, as_json=as_json, human=lambda v: _deadlines_text(v, zone))


@app.command()
@command
def deadline(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    response_due: str | None = typer.Option(
        None, "--response-due", help='ISO 8601 (no offset: your display zone); "none" clears.'
    ),
    follow_up: str | None = typer.Option(None, "--follow-up", help="As --response-due."),
    warning: str | None = typer.Option(None, "--warning", help="As --response-due."),
    late: str | None = typer.Option(None, "--late", help="As --response-due."),
    resolve_due: str | None = typer.Option(None, "--resolve-due", help="As --response-due."),
    computed: bool = typer.Option(
        False, "--computed", help="Drop the deadlines set by hand: back to the computed ones."
    ),
    version: int | None = typer.Option(None, help="Refuse if changed since this version."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set deadlines by hand (supervisors); they are kept until --computed."""
    from cc_tui.services.sla.deadlines import set_deadlines

    st = state(ctx)
    tz = st.settings.timezone
    given = {
        "response_due": _deadline_at(response_due, "--response-due", tz),
        "follow_up_at": _deadline_at(follow_up, "--follow-up", tz),
        "warning_at": _deadline_at(warning, "--warning", tz),
        "late_at": _deadline_at(late, "--late", tz),
        "resolve_due": _deadline_at(resolve_due, "--resolve-due", tz),
    }
    zone = st.settings.display_zone
    with st.work() as (session, actor):
        view = set_deadlines(
            session,
            actor=actor,
            ref=ref,
            expected_version=version,
            automatic=computed,
            **given,
        )
    note(f"{view.number}: deadlines {'computed' if not view.manual else 'set by hand'}")
    emit(view, as_json=as_json, human=lambda v: _deadlines_text(v, zone))


def _transfer_text(result) -> str:
    orders = ", ".join(f"{o.number} ({o.kind}, {o.status})" for o in result.work_orders)
    return f"{result.incident['number']} {result.incident['status']}: {orders}"


@app.command()
@command
def transfer(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    kind: str | None = typer.Option(None, help="service, subcontract or repair."),
    repair_kind: str | None = typer.Option(None, help="Repairs: depot, delivery, receipt, loan."),
    template: list[str] = typer.Option(
        [], "--template", help="Template code (default: the problem code's); repeat for more."
    ),
    billable: bool = typer.Option(False, "--billable", help="A charged service order."),
    xref: str | None = typer.Option(None, help="Billable: the ERP service order number."),
    destination: str | None = typer.Option(None, help="Billable: the ERP destination type."),
    to_subcontractor: bool = typer.Option(
        False, "--to-subcontractor", help="To the unit's subcontractor (its agreement)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand an action request to new work orders; it becomes transferred."""
    from cc_tui.services.workorders.orders import transfer as hand_over

    with state(ctx).work() as (session, actor):
        result = hand_over(
            session,
            actor=actor,
            ref=ref,
            kind=kind,
            repair_kind=repair_kind,
            templates=template,
            billable=billable,
            xref=xref,
            destination=destination,
            to_subcontractor=to_subcontractor,
        )
    emit(result, as_json=as_json, human=_transfer_text)


@app.command("link-wo")
@command
def link_wo(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    wo: str = typer.Argument(..., help="The open work order: WO-17 or 17."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Link an incident to an existing open work order; it becomes transferred."""
    from cc_tui.services.workorders.orders import link

    with state(ctx).work() as (session, actor):
        result = link(session, actor=actor, ref=ref, wo=wo)
    emit(result, as_json=as_json, human=_transfer_text)


def _attachments_text(rows, zone) -> str:
    if not rows:
        return "no attachments"
    return table(
        [
            [a.id, a.filename, a.size, a.content_type, a.sender, local_time(a.received_at, zone)]
            for a in rows
        ],
        ["id", "file", "bytes", "type", "from", "received"],
    )


@app.command()
@command
def attachments(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The files that came with the incident's e-mail."""
    from cc_tui.services.incidents.base import get_incident
    from cc_tui.services.mail.intake import attachments as listed

    cli = state(ctx)
    with cli.work(write=False) as (session, _actor):
        rows = listed(session, get_incident(session, ref).id or 0)
    zone = cli.settings.display_zone
    emit(rows, as_json=as_json, human=lambda rs: _attachments_text(rs, zone))


@app.command()
@command
def attachment(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    attachment_id: int = typer.Argument(..., help="Attachment id (see `incident attachments`)."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write the bytes to."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
) -> None:
    """Save one attachment, byte for byte, to a file (never over an existing one without
    --force; written whole or not at all)."""
    from cc_tui.errors import RuleViolation
    from cc_tui.services.incidents.base import get_incident
    from cc_tui.services.mail.intake import save_attachment

    with state(ctx).work(write=False) as (session, _actor):
        try:
            saved = save_attachment(
                session,
                incident_id=get_incident(session, ref).id or 0,
                attachment_id=attachment_id,
                path=str(output),
                overwrite=force,
            )
        except RuleViolation as exc:
            if exc.field != "path":
                raise
            raise RuleViolation(f"{exc.message} (--force replaces it)", field="path") from exc
    note(f"{saved.size} bytes written to {saved.path}")


@app.command()
@command
def reply(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    body_file: Path | None = typer.Option(
        None, "--body-file", help="The message text, UTF-8 (- reads standard input)."
    ),
    to: str | None = typer.Option(
        None, "--to", help="The address (default: the caller's, the contact's or customer's)."
    ),
    subject: str | None = typer.Option(
        None, "--subject", help="Default: Re: <the incident's title>."
    ),
    draft: bool = typer.Option(
        False, "--draft", help="Print what a reply starts from (greeting, quoted thread)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """E-mail the caller from the incident: an EmailOut event on the timeline (the first
    one records the first response), sent through the outbox by `notify send`/`watch`."""
    import sys

    from cc_tui.errors import UsageError
    from cc_tui.services.notify.replies import draft as reply_draft
    from cc_tui.services.notify.replies import send_reply

    cli = state(ctx)
    if draft:
        with cli.work(write=False) as (session, actor):
            start = reply_draft(
                session, ref, agent=actor.name, folder=cli.settings.templates_folder
            )
        emit(
            {
                "incident": start.incident,
                "to": start.to,
                "subject": start.subject,
                "body": start.body,
            },
            as_json=as_json,
            human=lambda d: f"To: {d['to'] or '-'}\nSubject: {d['subject']}\n\n{d['body']}",
        )
        return
    if body_file is None:
        raise UsageError("give the message with --body-file FILE (or --draft)", field="body")
    try:
        raw = sys.stdin.buffer.read() if str(body_file) == "-" else body_file.read_bytes()
        body = raw.decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {body_file}: {exc.strerror or exc}", field="body") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{body_file} is not UTF-8 text", field="body") from exc
    with cli.work() as (session, actor):
        sent = send_reply(
            session,
            actor=actor,
            ref=ref,
            body=body,
            to=to,
            subject=subject,
            sender=cli.settings.smtp.sender,
        )
    if sent.first_response:
        note(f"{sent.incident}: first response recorded")
    emit(
        sent,
        as_json=as_json,
        human=lambda r: f"reply to {r.to} queued (outbox #{r.outbox_id}, event {r.event_id})",
    )
