"""What the agent must see about a caller at a glance: the unit's warranty, contract and
subcontract, and a customer's warn/block flag. Text from the database is never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from cc_tui.services.directory.units import UnitInfo


def _line(label: str, value: Content | str, style: str = "") -> Content:
    text = value if isinstance(value, Content) else Content(value)
    if style:
        text = text.stylize(style)
    return Content.assemble((f"{label:<12}", "dim"), text, "\n")


def unit_content(unit: UnitInfo, *, customer_id: int | None = None) -> Content:
    """The unit in a few lines, each state in its colour (success / warning / error)."""
    kind = f" ({unit.unit_type})" if unit.unit_type else ""
    lines = [
        Content.assemble((unit.serial, "bold"), "  ", unit.item, kind, "\n"),
    ]
    if unit.item_description:
        lines.append(_line("Item", unit.item_description))
    if customer_id is not None and unit.customer_id != customer_id:
        lines.append(_line("Owner", f"{unit.customer_name} — not this caller", "bold $error"))
    else:
        lines.append(_line("Owner", unit.customer_name))
    if unit.warranty_until is None:
        lines.append(_line("Warranty", "none recorded", "$warning"))
    elif unit.under_warranty:
        lines.append(_line("Warranty", f"yes, until {unit.warranty_until:%Y-%m-%d}", "$success"))
    else:
        lines.append(_line("Warranty", f"expired {unit.warranty_until:%Y-%m-%d}", "$error"))
    contract = unit.contract
    if contract is None:
        lines.append(_line("Contract", "none", "$warning"))
    else:
        parts = [contract.code, contract.coverage]
        if contract.priority:
            parts.append(f"priority {contract.priority}")
        until = f", until {contract.ends_on:%Y-%m-%d}" if contract.ends_on else ""
        if contract.active_now:
            lines.append(_line("Contract", " · ".join(parts) + until, "$success"))
        else:
            lines.append(_line("Contract", " · ".join(parts) + " — not in force", "$error"))
    sub = unit.subcontract
    if sub is not None:
        phone = f" · {sub.phone}" if sub.phone else ""
        transfer = "" if sub.transfer_allowed else " · no transfer"
        lines.append(
            _line("Subcontract", f"{sub.code} · {sub.subcontractor}{phone}{transfer}", "$warning")
        )
    return Content.assemble(*lines).rstrip()


class UnitPanel(Static):
    """The caller's unit, or why none is shown."""

    DEFAULT_CSS = """
    UnitPanel {
        height: auto;
        padding: 0 1;
    }
    UnitPanel.-none {
        color: $text-muted;
    }
    """

    def show_unit(self, unit: UnitInfo, *, customer_id: int | None = None) -> None:
        self.remove_class("-none")
        self.update(unit_content(unit, customer_id=customer_id))

    def show_note(self, text: str) -> None:
        self.add_class("-none")
        self.update(Content(text))


class BlockBanner(Static):
    """A customer's warn or block flag, full width and in colour; hidden otherwise."""

    DEFAULT_CSS = """
    BlockBanner {
        display: none;
        height: auto;
        padding: 0 2;
        text-style: bold;
    }
    BlockBanner.-warn {
        display: block;
        background: $warning;
        color: $background;
    }
    BlockBanner.-block {
        display: block;
        background: $error;
        color: $foreground;
    }
    """

    def show_flag(self, level: str, reason: str | None, customer: str, *, action: bool) -> None:
        """`level` none / warn / block; `action`: whether the call is an action request."""
        self.set_class(level == "warn", "-warn")
        self.set_class(level == "block", "-block")
        why = (reason or "no reason recorded").rstrip(". ")
        if level == "block":
            refused = (
                "Action requests are refused — tell the caller why."
                if action
                else "Action requests are refused; this request can still be recorded."
            )
            self.update(
                Content.assemble(("BLOCKED  ", "reverse"), " ", customer, ": ", why, ". ", refused)
            )
        elif level == "warn":
            self.update(Content.assemble(("WARNING  ", "reverse"), " ", customer, ": ", why))
        else:
            self.update(Content(""))

    def hide(self) -> None:
        self.show_flag("none", None, "", action=False)
