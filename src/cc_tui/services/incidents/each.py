"""One change applied to many incidents, each on its own: every incident gets a savepoint,
so a refusal (someone changed it since it was read, a rule, the actor's role) undoes only
that incident's change and the others stay done, in the one transaction of the call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlmodel import Session

from cc_tui.errors import Conflict, NotFound, RuleViolation
from cc_tui.services.incidents.base import number

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """An incident the change was refused for, and why (the service's own words)."""

    id: int
    number: str
    reason: str
    # Someone changed it since it was read: read it again, then repeat.
    conflict: bool = False


@dataclass(frozen=True)
class EachOutcome(Generic[T]):
    """What became of each incident: changed, already so, or refused."""

    done: list[T] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def one_by_one(
    session: Session,
    chosen: Sequence[tuple[int, int | None]],
    apply: Callable[[int, int | None], T | None],
) -> EachOutcome[T]:
    """Call `apply(id, version seen)` for each incident in id order (one lock order, so two
    callers never deadlock), each in a savepoint. `apply` returns None when the incident
    is so already. A refusal of one (`RuleViolation`, `Conflict`, `NotFound`) is recorded
    and the next goes on; any other error ends the call and nothing is kept."""
    versions: dict[int, int | None] = {}
    for incident_id, version in chosen:
        versions[incident_id] = version
    outcome: EachOutcome[T] = EachOutcome()
    for incident_id in sorted(versions):
        try:
            with session.begin_nested():
                result = apply(incident_id, versions[incident_id])
        except (RuleViolation, Conflict, NotFound) as error:
            outcome.refused.append(
                Refusal(
                    id=incident_id,
                    number=number(incident_id),
                    reason=error.message,
                    conflict=isinstance(error, Conflict),
                )
            )
            continue
        if result is None:
            outcome.unchanged.append(number(incident_id))
        else:
            outcome.done.append(result)
    return outcome
