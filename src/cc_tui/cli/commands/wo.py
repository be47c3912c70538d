"""`cc-tui wo ...`: work orders and their templates (M10)."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(
    help="Work orders: templates, list, show, status changes, link candidates.",
    no_args_is_help=True,
)
template_app = typer.Typer(help="Work-order templates.", no_args_is_help=True)
app.add_typer(template_app, name="template")


def _templates_text(rows) -> str:
    if not rows:
        return "no work-order templates"
    return table(
        [
            [t.code, t.kind, t.repair_kind, t.hours, t.department, len(t.tasks), t.title]
            for t in rows
        ],
        ["code", "kind", "repair", "hours", "department", "tasks", "title"],
    )


def _orders_text(rows) -> str:
    if not rows:
        return "no work orders"
    return table(
        [
            [r.number, r.status, r.kind, r.department, r.assignee, r.incidents, r.title]
            for r in rows
        ],
        ["number", "status", "kind", "department", "technician", "incidents", "title"],
    )


def order_text(d) -> str:
    repair = f" ({d.repair_kind})" if d.repair_kind else ""
    lines = [
        f"{d.number}  {d.status}  {d.kind}{repair}  v{d.version}",
        f"title:      {d.title}",
        f"department: {d.department or '-'}   technician: {d.assignee or '-'}",
        f"incidents:  {', '.join(d.incidents) or '-'}",
    ]
    if d.subcontract:
        lines.append(f"subcontractor: {d.subcontract['subcontractor']} ({d.subcontract['code']})")
    if d.billable:
        lines.append(f"billable:   {d.cross_reference} {d.destination_type or ''}".rstrip())
    for task in d.tasks:
        lines.append(f"  [{'x' if task.get('done') else ' '}] {task.get('text')}")
    if d.actual_solution:
        lines.append(f"problem:    {d.actual_problem}")
        lines.append(f"solution:   {d.actual_solution}")
    lines.append(f"next:       {', '.join(d.legal_next) or '-'}")
    lines.append("")
    for e in d.events:
        lines.append(f"{e.at.isoformat()[:16]}  {e.author:<10} {e.text}")
    return "\n".join(lines)


@template_app.command("add")
@command
def template_add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Template code, e.g. WO-ONSITE."),
    kind: str = typer.Option(..., help="service, subcontract or repair."),
    repair_kind: str | None = typer.Option(None, help="Repairs: depot, delivery, receipt, loan."),
    title: str = typer.Option(..., help="What the order is called."),
    description: str | None = typer.Option(None),
    task: list[str] = typer.Option([], "--task", help="A checklist task (repeat for more)."),
    hours: float | None = typer.Option(None, help="Estimated duration in hours."),
    department: str | None = typer.Option(None, help="Default department code."),
    billable: bool = typer.Option(False, "--billable", help="Orders from it are charged."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a work-order template (supervisors)."""
    from cc_tui.services.workorders.templates import add_template

    with state(ctx).work() as (session, actor):
        info = add_template(
            session,
            actor=actor,
            code=code,
            kind=kind,
            repair_kind=repair_kind,
            title=title,
            description=description,
            tasks=task,
            hours=hours,
            department=department,
            billable=billable,
        )
    emit(info, as_json=as_json, human=lambda t: _templates_text([t]))


@template_app.command("list")
@command
def template_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the work-order templates."""
    from cc_tui.services.workorders.templates import list_templates

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_templates(session)
    emit(rows, as_json=as_json, human=_templates_text)


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, help="open, in_progress, completed or cancelled (default: all)."
    ),
    department: str | None = typer.Option(None, help="Only this department's orders."),
    technician: str | None = typer.Option(None, help="Only this technician's orders (login)."),
    incident: str | None = typer.Option(None, help="Only the orders of this incident."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many (newest first)."),
    before: str | None = typer.Option(None, help="Page on: orders older than this one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List work orders, newest first."""
    from cc_tui.services.workorders.orders import list_orders

    with state(ctx).work(write=False) as (session, _actor):
        rows = list_orders(
            session,
            status=status,
            department=department,
            assignee=technician,
            incident=incident,
            limit=limit,
            before=before,
        )
    emit(rows, as_json=as_json, human=_orders_text)


@app.command()
@command
def show(
    ctx: typer.Context,
    wo: str = typer.Argument(..., help="WO-17 or 17"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a work order: its incidents, tasks and timeline."""
    from cc_tui.services.workorders.orders import show_order

    with state(ctx).work(write=False) as (session, _actor):
        info = show_order(session, wo)
    emit(info, as_json=as_json, human=order_text)


@app.command()
@command
def status(
    ctx: typer.Context,
    wo: str = typer.Argument(..., help="WO-17 or 17"),
    to: str = typer.Argument(..., help="in_progress, completed, cancelled or open (reopen)."),
    problem: str | None = typer.Option(None, help="Completing: the actual problem."),
    solution: str | None = typer.Option(None, help="Completing: what was done."),
    resolution: str | None = typer.Option(None, help="Completing: GENERAL/SPECIFIC code."),
    version: int | None = typer.Option(None, help="Refuse if the order changed since then."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start, complete, cancel or reopen a work order; its incidents follow."""
    from cc_tui.services.workorders.orders import set_status

    with state(ctx).work() as (session, actor):
        result = set_status(
            session,
            actor=actor,
            wo=wo,
            to=to,
            problem=problem,
            solution=solution,
            resolution=resolution,
            expected_version=version,
        )

    def human(r) -> str:
        moved = ", ".join(f"{i['number']} {i['status']}" for i in r.incidents)
        line = f"{r.work_order.number}: {r.previous} -> {r.work_order.status}"
        return line + (f"\nincidents: {moved}" if moved else "")

    emit(result, as_json=as_json, human=human)


@app.command()
@command
def candidates(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The incident: INC-1042 or 1042."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open work orders worth linking the incident to (same problem code; same unit,
    customer or region), newest first."""
    from cc_tui.services.workorders.orders import candidates as find

    with state(ctx).work(write=False) as (session, _actor):
        rows = find(session, ref)

    def human(rows) -> str:
        if not rows:
            return "no open work orders to link to"
        return table(
            [[c.number, c.status, c.match, c.incidents, c.title] for c in rows],
            ["number", "status", "match", "incidents", "title"],
        )

    emit(rows, as_json=as_json, human=human)
