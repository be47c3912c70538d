"""`cc-tui contract ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Service contracts and subcontract agreements.", no_args_is_help=True)


def _contract_text(c) -> str:
    until = c.ends_on.isoformat() if c.ends_on else "open end"
    running = "active" if c.active_now else "not active"
    extra = ", ".join(
        v
        for v in (
            f"priority {c.priority}" if c.priority else None,
            f"calendar {c.calendar}" if c.calendar else None,
            f"response {c.response_minutes} min" if c.response_minutes else None,
        )
        if v
    )
    text = f"{c.code}  customer {c.customer_id}  {c.starts_on.isoformat()} .. {until} ({running})"
    if c.coverage:
        text += f"\n  coverage  {c.coverage}"
    if extra:
        text += f"\n  {extra}"
    return text


@app.command()
@command
def add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Contract code."),
    customer: str = typer.Option(..., "--customer", help="Customer id or number."),
    starts: str = typer.Option(..., "--starts", help="First day, YYYY-MM-DD."),
    ends: str | None = typer.Option(None, "--ends", help="Last day, YYYY-MM-DD."),
    coverage: str = typer.Option("", "--coverage", help="What is covered, in words."),
    description: str | None = typer.Option(None, "--description", help="Description."),
    priority: str | None = typer.Option(None, "--priority", help="Priority override code."),
    calendar: str | None = typer.Option(None, "--calendar", help="Coverage hours calendar."),
    response_minutes: int | None = typer.Option(
        None, "--response-minutes", help="Agreed response time in working minutes."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a service contract (admin)."""
    from cc_tui.services.directory.customers import customer_by_ref
    from cc_tui.services.directory.units import add_contract, parse_day, require_day

    starts_on = require_day(starts, "starts_on")
    ends_on = parse_day(ends, "ends_on")
    with state(ctx).work() as (session, actor):
        owner = customer_by_ref(session, customer)
        info = add_contract(
            session,
            actor=actor,
            code=code,
            customer_id=owner.id,
            starts_on=starts_on,
            ends_on=ends_on,
            coverage=coverage,
            description=description,
            priority=priority,
            calendar=calendar,
            response_minutes=response_minutes,
        )
    emit(info, as_json=as_json, human=_contract_text)


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only this customer's."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List service contracts."""
    from cc_tui.services.directory.customers import customer_by_ref
    from cc_tui.services.directory.units import list_contracts

    with state(ctx).work(write=False) as (session, _actor):
        owner_id = customer_by_ref(session, customer).id if customer else None
        rows = list_contracts(session, customer_id=owner_id)

    def human(contracts) -> str:
        if not contracts:
            return "no contracts"
        return table(
            [
                [c.code, c.customer_id, c.starts_on, c.ends_on, c.active_now, c.priority]
                for c in contracts
            ],
            ["code", "customer", "starts", "ends", "active", "priority"],
        )

    emit(rows, as_json=as_json, human=human)


@app.command("subcontract-add")
@command
def subcontract_add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Agreement code."),
    subcontractor: str = typer.Option(..., "--subcontractor", help="Who does the work."),
    starts: str = typer.Option(..., "--starts", help="First day, YYYY-MM-DD."),
    ends: str | None = typer.Option(None, "--ends", help="Last day, YYYY-MM-DD."),
    customer: str | None = typer.Option(None, "--customer", help="Only this customer's units."),
    item: str | None = typer.Option(None, "--item", help="Only units of this item."),
    unit_type: str | None = typer.Option(None, "--unit-type", help="Only units of this type."),
    phone: str | None = typer.Option(None, "--phone", help="The subcontractor's phone."),
    contact: str | None = typer.Option(None, "--contact", help="Contact person there."),
    transfer: bool = typer.Option(
        True, "--transfer/--no-transfer", help="Whether calls may be transferred to them."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a subcontract agreement (admin); empty scope options match any unit."""
    from cc_tui.services.directory.customers import customer_by_ref
    from cc_tui.services.directory.units import add_subcontract, parse_day, require_day

    starts_on = require_day(starts, "starts_on")
    ends_on = parse_day(ends, "ends_on")
    with state(ctx).work() as (session, actor):
        owner_id = customer_by_ref(session, customer).id if customer else None
        info = add_subcontract(
            session,
            actor=actor,
            code=code,
            subcontractor=subcontractor,
            starts_on=starts_on,
            ends_on=ends_on,
            customer_id=owner_id,
            item=item,
            unit_type=unit_type,
            phone=phone,
            contact=contact,
            transfer_allowed=transfer,
        )
    emit(info, as_json=as_json, human=lambda s: f"subcontract {s.code} ({s.subcontractor}) added")
