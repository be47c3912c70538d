"""What the intake form reads while a call is taken: the codes its fields complete from,
and the picked caller with their contacts, units and open incidents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cc_tui.services.directory.agents import AgentInfo, list_agents
from cc_tui.services.directory.codes import CodeInfo, list_codes
from cc_tui.services.directory.customers import CustomerInfo, get_customer
from cc_tui.services.directory.units import UnitInfo, unit_info, units_of_customer
from cc_tui.services.incidents.intake import existing_incidents
from cc_tui.services.incidents.records import IncidentRow
from cc_tui.services.sla.priorities import PriorityInfo, list_priorities


@dataclass(frozen=True)
class Catalog:
    """Everything the code fields complete from, loaded once (and again when changed)."""

    reasons: list[CodeInfo]
    request_kinds: list[CodeInfo]
    problems: list[CodeInfo]
    priorities: list[PriorityInfo]
    agents: list[AgentInfo]

    @property
    def system_priority(self) -> str | None:
        return next((p.code for p in self.priorities if p.is_default), None)

    def specifics(self, general: str) -> list[tuple[str, str]]:
        """(specific code, name) of the reasons under a general one."""
        prefix = general.strip().upper() + "/"
        return [
            (code.path[len(prefix) :], code.name)
            for code in self.reasons
            if code.path.startswith(prefix)
        ]


def code_catalog(session: Session) -> Catalog:
    return Catalog(
        reasons=list_codes(session, kind="reason"),
        request_kinds=list_codes(session, kind="request-type"),
        problems=list_codes(session, kind="problem"),
        priorities=list_priorities(session),
        agents=list_agents(session),
    )


@dataclass(frozen=True)
class CallerContext:
    """The picked caller: the customer with contacts, units and open incidents."""

    customer: CustomerInfo
    units: list[UnitInfo]
    incidents: list[IncidentRow]
    unit: UnitInfo | None = None


def caller_context(
    session: Session, *, customer_id: int, unit_id: int | None = None
) -> CallerContext:
    customer = get_customer(session, customer_id)
    unit = unit_info(session, unit_id) if unit_id is not None else None
    return CallerContext(
        customer=customer,
        units=units_of_customer(session, customer_id),
        incidents=existing_incidents(session, customer_id=customer_id, unit_id=unit_id),
        unit=unit,
    )
