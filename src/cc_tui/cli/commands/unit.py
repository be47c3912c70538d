"""`cc-tui unit ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Units (serial numbers), their warranty and contract.", no_args_is_help=True)


def unit_text(u) -> str:
    lines = [f"{u.serial}  {u.item}" + (f" ({u.item_description})" if u.item_description else "")]
    lines.append(f"  customer  {u.customer_name} (id {u.customer_id})")
    if u.unit_type:
        lines.append(f"  type      {u.unit_type}")
    if u.warranty_until is None:
        lines.append("  warranty  none")
    else:
        state_text = "under warranty" if u.under_warranty else "expired"
        lines.append(f"  warranty  {state_text} (until {u.warranty_until.isoformat()})")
    if u.contract is None:
        lines.append("  contract  none")
    else:
        c = u.contract
        running = "active" if c.active_now else "not active"
        lines.append(f"  contract  {c.code} ({running}): {c.coverage}".rstrip(": "))
    if u.subcontract is not None:
        s = u.subcontract
        phone = f", {s.phone}" if s.phone else ""
        lines.append(f"  subcontr. {s.code} {s.subcontractor}{phone}")
    return "\n".join(lines)


@app.command()
@command
def add(
    ctx: typer.Context,
    serial: str = typer.Option(..., "--serial", help="Serial number."),
    item: str = typer.Option(..., "--item", help="Item (product) number."),
    customer: str = typer.Option(..., "--customer", help="Owner: customer id or number."),
    unit_type: str | None = typer.Option(None, "--unit-type", help="Unit type."),
    description: str | None = typer.Option(None, "--description", help="Item description."),
    warranty_until: str | None = typer.Option(
        None, "--warranty-until", help="Last day of warranty, YYYY-MM-DD."
    ),
    installed_on: str | None = typer.Option(None, "--installed", help="Installed on, YYYY-MM-DD."),
    contract: str | None = typer.Option(None, "--contract", help="Service contract code."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a unit of a customer."""
    from cc_tui.services.directory.customers import customer_by_ref
    from cc_tui.services.directory.units import add_unit, parse_day

    warranty = parse_day(warranty_until, "warranty_until")
    installed = parse_day(installed_on, "installed_on")
    with state(ctx).work() as (session, actor):
        owner = customer_by_ref(session, customer)
        info = add_unit(
            session,
            actor=actor,
            serial=serial,
            item=item,
            customer_id=owner.id,
            unit_type=unit_type,
            item_description=description,
            warranty_until=warranty,
            contract=contract,
            installed_on=installed,
        )
    emit(info, as_json=as_json, human=unit_text)


@app.command()
@command
def show(
    ctx: typer.Context,
    serial: str = typer.Argument(..., help="Serial number."),
    on: str | None = typer.Option(None, "--on", help="Coverage as of this day (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a unit with its warranty, contract and subcontract coverage."""
    from cc_tui.services.directory.units import parse_day, unit_by_serial

    day = parse_day(on, "on")
    with state(ctx).work(write=False) as (session, _actor):
        info = unit_by_serial(session, serial, on=day)
    emit(info, as_json=as_json, human=unit_text)


@app.command("list")
@command
def list_(
    ctx: typer.Context,
    customer: str = typer.Option(..., "--customer", help="Customer id or number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List a customer's units."""
    from cc_tui.services.directory.customers import customer_by_ref
    from cc_tui.services.directory.units import units_of_customer

    with state(ctx).work(write=False) as (session, _actor):
        owner = customer_by_ref(session, customer)
        rows = units_of_customer(session, owner.id)

    def human(units) -> str:
        if not units:
            return "no units"
        return table(
            [
                [
                    u.serial,
                    u.item,
                    u.unit_type,
                    u.warranty_until,
                    "yes" if u.under_warranty else "no",
                    u.contract.code if u.contract else None,
                ]
                for u in units
            ],
            ["serial", "item", "type", "warranty until", "warranty", "contract"],
        )

    emit(rows, as_json=as_json, human=human)
