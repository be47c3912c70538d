"""`cc-tui customer ...`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Customers and contact persons: add, find, show.", no_args_is_help=True)


def _customer_text(c) -> str:
    lines = [f"{c.number}  {c.name}  (id {c.id}, version {c.version})"]
    for label, value in (
        ("address", " ".join(v for v in (c.address, c.postal_code, c.city, c.country) if v)),
        ("phone", c.phone),
        ("fax", c.fax),
        ("e-mail", c.email),
        ("region", c.region),
        ("priority", c.priority),
        ("notify", c.notify + (f" ({c.language})" if c.language else "")),
    ):
        if value:
            lines.append(f"  {label:<9} {value}")
    if c.block_level != "none":
        lines.append(f"  {c.block_level.upper():<9} {c.block_reason}")
    for p in c.contacts:
        told = f"notify {p.notify}" if p.notify else None
        extra = ", ".join(v for v in (p.role, p.phone, p.mobile, p.email, told) if v)
        primary = " (primary)" if p.is_primary else ""
        lines.append(f"  contact   {p.name}{primary}" + (f": {extra}" if extra else ""))
    return "\n".join(lines)


def _matches_text(rows) -> str:
    if not rows:
        return "no customer found"
    return table(
        [
            [
                r.customer_id,
                r.number,
                r.name,
                r.city,
                r.phone,
                r.matched_by,
                r.contact_name or r.unit_serial,
                r.open_incidents,
                "" if r.block_level == "none" else r.block_level,
            ]
            for r in rows
        ],
        ["id", "number", "name", "city", "phone", "by", "contact/unit", "open", "flag"],
    )


@app.command()
@command
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Customer name."),
    phone: str | None = typer.Option(None, help="Phone number as given."),
    email: str | None = typer.Option(None, help="E-mail address."),
    fax: str | None = typer.Option(None, help="Fax number."),
    address: str | None = typer.Option(None, help="Street address."),
    postal_code: str | None = typer.Option(None, "--postal-code", help="Postal code."),
    city: str | None = typer.Option(None, help="City."),
    country: str | None = typer.Option(None, help="Two-letter country code (DE, NL, ...)."),
    region: str | None = typer.Option(None, help="Sales / service region."),
    number: str | None = typer.Option(None, help="Customer number (default: K-<next>)."),
    priority: str | None = typer.Option(None, help="The customer's default priority code."),
    block: str | None = typer.Option(None, help="Flag: warn or block (needs --block-reason)."),
    block_reason: str | None = typer.Option(None, "--block-reason", help="Why it is flagged."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a customer."""
    from cc_tui.services.directory.customers import add_customer

    st = state(ctx)
    with st.work() as (session, actor):
        info = add_customer(
            session,
            actor=actor,
            name=name,
            phone=phone,
            email=email,
            fax=fax,
            address=address,
            postal_code=postal_code,
            city=city,
            country=country,
            region=region,
            number=number,
            priority=priority,
            block=block,
            block_reason=block_reason,
            default_country=st.settings.default_country,
        )
    emit(info, as_json=as_json, human=_customer_text)


@app.command()
@command
def find(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Phone, e-mail, name, customer or serial number."),
    limit: int = typer.Option(20, min=1, max=100, help="At most this many matches."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find customers by whatever the caller gave: best matches first."""
    from cc_tui.services.directory.customers import find_customers

    st = state(ctx)
    with st.work(write=False) as (session, _actor):
        rows = find_customers(
            session, text=text, default_country=st.settings.default_country, limit=limit
        )
    emit(rows, as_json=as_json, human=_matches_text)


@app.command()
@command
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer id or customer number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a customer with its contact persons."""
    from cc_tui.services.directory.customers import customer_by_ref

    with state(ctx).work(write=False) as (session, _actor):
        info = customer_by_ref(session, ref)
    emit(info, as_json=as_json, human=_customer_text)


@app.command("contact-add")
@command
def contact_add(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer id or customer number."),
    name: str = typer.Option(..., "--name", help="Contact person's name."),
    phone: str | None = typer.Option(None, help="Phone number."),
    mobile: str | None = typer.Option(None, help="Mobile number."),
    email: str | None = typer.Option(None, help="E-mail address."),
    role: str | None = typer.Option(None, help="Role (purchasing, IT, ...)."),
    primary: bool = typer.Option(False, "--primary", help="Make this the primary contact."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a contact person to a customer."""
    from cc_tui.services.directory.customers import add_contact, customer_by_ref

    st = state(ctx)
    with st.work() as (session, actor):
        customer = customer_by_ref(session, ref)
        info = add_contact(
            session,
            actor=actor,
            customer_id=customer.id,
            name=name,
            phone=phone,
            mobile=mobile,
            email=email,
            role=role,
            is_primary=primary,
            default_country=st.settings.default_country,
        )
    emit(info, as_json=as_json, human=lambda p: f"contact {p.id} {p.name} added")


@app.command()
@command
def block(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer id or customer number."),
    level: str = typer.Argument(..., help="none, warn or block."),
    reason: str | None = typer.Option(None, help="Why (required for warn and block)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Flag a customer: warn (intake shows the reason) or block (action requests refused)."""
    from cc_tui.services.directory.customers import customer_by_ref, set_block

    with state(ctx).work() as (session, actor):
        customer = customer_by_ref(session, ref)
        info = set_block(session, actor=actor, customer_id=customer.id, level=level, reason=reason)
    emit(info, as_json=as_json, human=_customer_text)


@app.command()
@command
def update(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer id or customer number."),
    version: int = typer.Option(
        ..., "--version", help="The version you read (refused if someone changed it since)."
    ),
    name: str | None = typer.Option(None, help="New name."),
    phone: str | None = typer.Option(None, help="New phone number ('' clears it)."),
    email: str | None = typer.Option(None, help="New e-mail address ('' clears it)."),
    fax: str | None = typer.Option(None, help="New fax number ('' clears it)."),
    address: str | None = typer.Option(None, help="New street address."),
    postal_code: str | None = typer.Option(None, "--postal-code", help="New postal code."),
    city: str | None = typer.Option(None, help="New city."),
    country: str | None = typer.Option(None, help="New two-letter country code."),
    region: str | None = typer.Option(None, help="New region ('' clears it)."),
    priority: str | None = typer.Option(None, help="New default priority code ('' clears)."),
    notify: str | None = typer.Option(
        None, "--notify", help="How they hear from us: email, sms or none."
    ),
    language: str | None = typer.Option(
        None, "--language", help="Language of their messages, e.g. de ('' clears it)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a customer's details (optimistic locking: give the version you read)."""
    from cc_tui.errors import UsageError
    from cc_tui.services.directory.customers import customer_by_ref, update_customer

    given = {
        "name": name,
        "phone": phone,
        "email": email,
        "fax": fax,
        "address": address,
        "postal_code": postal_code,
        "city": city,
        "country": country,
        "region": region,
        "priority": priority,
        "notify": notify,
        "language": language,
    }
    # An empty string clears a field; an option not given leaves it alone.
    fields = {k: (v or None) for k, v in given.items() if v is not None}
    if not fields:
        raise UsageError("nothing to change: give at least one field option")
    st = state(ctx)
    with st.work() as (session, actor):
        customer = customer_by_ref(session, ref)
        info = update_customer(
            session,
            actor=actor,
            customer_id=customer.id,
            expected_version=version,
            default_country=st.settings.default_country,
            **fields,
        )
    emit(info, as_json=as_json, human=_customer_text)


@app.command("contact-notify")
@command
def contact_notify(
    ctx: typer.Context,
    contact: int = typer.Argument(..., help="The contact person's id (see `customer show`)."),
    notify: str = typer.Argument(..., help="email, sms, none, or default (as the customer)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """How one contact person hears from us, whatever their customer's preference."""
    from cc_tui.services.directory.customers import set_contact_notify

    with state(ctx).work() as (session, actor):
        info = set_contact_notify(session, actor=actor, contact_id=contact, notify=notify)
    emit(
        info,
        as_json=as_json,
        human=lambda p: f"contact {p.id} {p.name}: notify {p.notify or 'as the customer'}",
    )
