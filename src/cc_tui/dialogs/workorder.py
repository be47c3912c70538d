"""Dialogs of work orders: hand an incident over (transfer or link), complete an order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static, TextArea

from cc_tui.console.calls import connected
from cc_tui.dialogs.form import FormDialog

if TYPE_CHECKING:
    from cc_tui.services.workorders.orders import TransferOffer

REPAIR_KINDS = ("depot", "delivery", "receipt", "loan")


def transfer_choices(offer: TransferOffer) -> list[tuple[str, str]]:
    """What the agent can do, link candidates first: (label, value)."""
    choices = [
        (f"Link to {c.number} ({c.match}, {c.incidents} incidents): {c.title}", f"link:{c.number}")
        for c in offer.candidates
    ]
    if offer.template:
        choices.append((f"New order from template {offer.template} ({offer.kind})", "template"))
    choices.append(("New service order", "kind:service"))
    if offer.subcontract and offer.subcontract["transfer_allowed"]:
        who = offer.subcontract["subcontractor"]
        choices.append((f"New subcontract order to {who}", "kind:subcontract"))
    choices.append(("New repair order", "kind:repair"))
    return choices


class TransferDialog(FormDialog[Any]):
    """Hand the incident to a work order: link to an open one (candidates first), a new
    one from the problem code's template, or a new one of a chosen kind."""

    FIELDS = ("action", "repair_kind", "xref")
    FIELD_ALIASES = {"kind": "action", "template": "action", "status": "action"}
    AUTO_FOCUS = "#action"

    def __init__(self, *, incident_id: int, number: str, offer: TransferOffer) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.number = number
        self.offer = offer
        self.choices = transfer_choices(offer)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Hand {self.number} over to a work order"), id="dialog-title")
            agreement = self.offer.subcontract
            if agreement:
                allowed = "" if agreement["transfer_allowed"] else " (takes no transfers)"
                text = f"Subcontract {agreement['code']}: {agreement['subcontractor']}{allowed}"
                yield Static(Content(text), id="subcontract")
            yield Label(Content("Work order"), classes="field-label")
            yield Select(
                [(Content(label), value) for label, value in self.choices],
                value=self.choices[0][1],
                allow_blank=False,
                id="action",
            )
            yield self.field_error("action")
            yield Label(Content("Repair kind (repair orders)"), classes="field-label")
            yield Select([(Content(k), k) for k in REPAIR_KINDS], id="repair_kind", prompt="none")
            yield self.field_error("repair_kind")
            yield Label(
                Content("Billable: ERP service order number (empty: not billed)"),
                classes="field-label",
            )
            yield Input(id="xref", placeholder="e.g. SRO-123", max_length=80)
            yield self.field_error("xref")
            yield from self.buttons("Hand over")

    def action_save(self) -> None:
        action = self.query_one("#action", Select).value
        chosen = str(action) if isinstance(action, str) else ""
        repair = self.query_one("#repair_kind", Select).value
        repair_kind = repair if isinstance(repair, str) else None
        xref = self.query_one("#xref", Input).value.strip() or None
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.workorders.orders import hand_over

        self.run(
            hand_over,
            actor=connection.actor,
            ref=self.incident_id,
            choice=chosen,
            repair_kind=repair_kind,
            xref=xref,
        )


class CompleteOrderDialog(FormDialog[Any]):
    """Completing an order records what was found and done (and a resolution code)."""

    FIELDS = ("problem", "solution", "resolution")
    AUTO_FOCUS = "#problem"

    def __init__(self, *, number: str, version: int) -> None:
        super().__init__()
        self.number = number
        self.version = version

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            yield Static(Content(f"Complete {self.number}"), id="dialog-title")
            yield Static(
                Content("Its incidents whose orders are all done are solved and closed."),
                id="dialog-context",
            )
            yield Label(Content("Actual problem"), classes="field-label")
            yield TextArea(id="problem", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("problem")
            yield Label(Content("Solution"), classes="field-label")
            yield TextArea(id="solution", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("solution")
            yield Label(
                Content("Resolution code (GENERAL/SPECIFIC, optional)"), classes="field-label"
            )
            yield Input(id="resolution", placeholder="e.g. FIX/REPLACED")
            yield self.field_error("resolution")
            yield from self.buttons("Complete")

    def action_save(self) -> None:
        problem = self.query_one("#problem", TextArea).text.strip()
        solution = self.query_one("#solution", TextArea).text.strip()
        resolution = self.query_one("#resolution", Input).value.strip() or None
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.workorders.orders import set_status

        self.run(
            set_status,
            actor=connection.actor,
            wo=self.number,
            to="completed",
            problem=problem,
            solution=solution,
            resolution=resolution,
            expected_version=self.version,
        )
