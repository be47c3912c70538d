"""The incident lifecycle (M7): the one owner of an incident's status.

registered -> assigned -> in_process -> solved -> closed, plus pending (clocks paused),
transferred (handed to work orders) and reopen (solved -> in_process when the customer does
not accept). A coordinator (supervisor or admin) may close at any time.

Every status change goes through here: `move` for one incident (intake, routing, the
queues, `change_status` for people), `move_set` for many (work orders). Nothing else assigns
an incident's status (tests/test_architecture.py checks it). The demo loader writes bulk
rows whose status is data, not a transition; it reads the status sets of `cc_tui.statuses`.
So does the history import (`services/importing`): solved or closed incidents of another
desk, whose status steps it checks with `check_step` before it writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import Code, Incident, IncidentPause
from cc_tui.models.base import stored_id
from cc_tui.models.enums import CodeKind, Status, SystemEvent
from cc_tui.services.context import Actor
from cc_tui.services.directory.codes import resolve_pair
from cc_tui.services.incidents.base import incident_changed, lock_incident, number
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.notify import outbox
from cc_tui.services.sla.deadlines import apply_deadlines

S = Status
# What an agent (or a coordinator) may do with `change_status`.
LEGAL: dict[str, tuple[str, ...]] = {
    S.DRAFT: (),  # drafts become incidents through intake (save or abandon)
    S.REGISTERED: (S.ASSIGNED, S.IN_PROCESS, S.PENDING, S.TRANSFERRED, S.SOLVED, S.CLOSED),
    S.ASSIGNED: (S.IN_PROCESS, S.REGISTERED, S.PENDING, S.TRANSFERRED, S.SOLVED, S.CLOSED),
    S.IN_PROCESS: (S.SOLVED, S.PENDING, S.TRANSFERRED, S.ASSIGNED, S.CLOSED),
    S.PENDING: (S.IN_PROCESS, S.ASSIGNED, S.SOLVED, S.CLOSED),
    S.TRANSFERRED: (S.IN_PROCESS, S.SOLVED, S.CLOSED),
    S.SOLVED: (S.CLOSED, S.IN_PROCESS),
    S.CLOSED: (),
    S.ABANDONED: (),
}
# Moves only the services make, on top of LEGAL: intake saves, closes (a comment, an answered
# question, a call added to another incident) or abandons a contact; a queue move takes an
# incident in process back to its department's queue; reopening a work order takes the
# incidents its completion closed back to transferred (M10). Routing's registered ->
# assigned and the auto-close of a transferred incident are in LEGAL already.
SYSTEM_ONLY: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.REGISTERED, S.CLOSED, S.ABANDONED),
    S.IN_PROCESS: (S.REGISTERED,),
    S.CLOSED: (S.TRANSFERRED,),
}


def legal_targets(status: str) -> tuple[str, ...]:
    return LEGAL.get(status, ())


def system_targets(status: str) -> tuple[str, ...]:
    return legal_targets(status) + SYSTEM_ONLY.get(status, ())


@dataclass(frozen=True)
class TransitionResult:
    number: str
    previous: str
    status: str
    version: int
    legal_next: tuple[str, ...]


def check_move(incident: Incident, to: Status | str, *, system: bool = False) -> Status:
    """Refuse a move the table does not allow (system moves may also take SYSTEM_ONLY)."""
    return check_step(number(incident.id or 0), incident.status, to, system=system)


def check_step(label: str, previous: str, to: Status | str, *, system: bool = False) -> Status:
    """`check_move` for an incident known by its number and status only."""
    target = Status(to)
    if target.value == previous:
        raise RuleViolation(f"{label} is {previous} already")
    legal = system_targets(previous) if system else legal_targets(previous)
    if target not in legal:
        allowed = ", ".join(legal) if legal else "none: it is final"
        raise RuleViolation(
            f"{label} cannot go from {previous} to {target.value}; allowed: {allowed}",
            field="status",
        )
    return target


def status_text(previous: str, to: str, note: str | None = None) -> str:
    """The words of a status event on the timeline."""
    return f"{previous} -> {to}" + (f": {note}" if note else "")


def move(
    session: Session,
    incident: Incident,
    to: Status | str,
    *,
    actor: Actor,
    system: bool = False,
    note: str | None = None,
    now: datetime | None = None,
    change: str | None = "status",
    kind: SystemEvent = SystemEvent.STATUS,
    text: str | None = None,
) -> str:
    """The one place an incident's status changes; returns the status it had.

    Checks the move against LEGAL (and SYSTEM_ONLY for `system` moves), stamps when it was
    solved or closed, pauses or resumes the clocks, writes the status event and, unless
    `change` is None, marks the incident changed (a new version and the change-feed row
    named `change`). A service that changes more in the same operation passes None and marks
    the incident changed once itself: one operation, one version. `kind` and `text` tell the
    move as another event (an abandoned contact is a Contact event).
    """
    target = check_move(incident, to, system=system)
    previous = incident.status
    now = now or clock.now()
    _set_status(session, incident, target, now)
    system_event(
        session,
        incident=incident,
        kind=kind,
        author_id=actor.id,
        text=text if text is not None else status_text(previous, target.value, note),
        data={"field": "status", "from": previous, "to": target.value},
    )
    event = outbox.status_event(previous, target.value)
    # A contact closed as the duplicate of another incident (a call added to it) tells the
    # customer nothing: their request goes on in that incident.
    if event is not None and incident.duplicate_of_id is None:
        detail = outbox.closing_detail(now) if event == outbox.CLOSED else None
        outbox.queue(session, incident, event, detail=detail)
    if change is not None:
        incident_changed(session, incident, actor, change, now=now)
    return previous


def _set_status(session: Session, incident: Incident, target: Status, now: datetime) -> None:
    """Stamp when the incident was solved or closed (or clear it when it comes back), pause
    or resume its clocks, and set the status: the one assignment of an incident's status."""
    previous = incident.status
    if target == S.SOLVED:
        incident.solved_at = now
    elif target == S.CLOSED:
        incident.closed_at = now
    elif previous == S.CLOSED:
        incident.closed_at = None  # a work order reopened
        incident.solved_at = None
    elif previous == S.SOLVED:
        incident.solved_at = None  # reopened
    _pause_clock(session, incident, previous, target, now)
    incident.status = target


def change_status(
    session: Session,
    *,
    actor: Actor,
    ref: str | int,
    to: str,
    expected_version: int | None = None,
    problem: str | None = None,
    solution: str | None = None,
    resolution: str | None = None,
    accepted: bool | None = None,
    coordinator: bool = False,
    note: str | None = None,
) -> TransitionResult:
    """Move an incident to `to` for a person, enforcing what each state requires."""
    try:
        target = Status(to)
    except ValueError:
        raise UsageError(
            f"unknown status {to!r}; one of: {', '.join(s.value for s in Status)}", field="status"
        ) from None
    incident = lock_incident(session, ref, expected_version)
    previous = incident.status
    label = number(incident.id or 0)
    check_move(incident, target)

    now = clock.now()
    if target == S.SOLVED:
        _require_resolution(session, incident, actor, problem, solution, resolution)
    elif target == S.CLOSED:
        _close(incident, actor, previous, accepted, coordinator)
    elif target == S.IN_PROCESS and previous == S.SOLVED:
        # Reopened: the customer did not accept the solution.
        incident.customer_accepted = False
    if target in (S.ASSIGNED, S.IN_PROCESS) and incident.owner_id is None:
        incident.owner_id = actor.id
        incident.assigned_at = incident.assigned_at or now
    if target == S.REGISTERED:
        incident.owner_id = None  # handed back to the department queue

    move(session, incident, target, actor=actor, note=note, now=now)
    return TransitionResult(label, previous, target.value, incident.version, legal_targets(target))


def _require_resolution(
    session: Session,
    incident: Incident,
    actor: Actor,
    problem: str | None,
    solution: str | None,
    resolution: str | None,
) -> None:
    """Solved needs the actual problem, the actual solution and both resolution codes."""
    if resolution:
        general, specific = resolve_pair(session, CodeKind.RESOLUTION, resolution)
        _set_field(session, incident, actor, "resolution_general_id", general.id)
        _set_field(session, incident, actor, "resolution_specific_id", specific and specific.id)
    if problem is not None and problem.strip():
        _set_field(session, incident, actor, "actual_problem", problem.strip())
    if solution is not None and solution.strip():
        _set_field(session, incident, actor, "actual_solution", solution.strip())
    missing = []
    if not incident.actual_problem:
        missing.append(("problem", "the actual problem"))
    if not incident.actual_solution:
        missing.append(("solution", "the actual solution"))
    if incident.resolution_general_id is None:
        missing.append(("resolution", "a general resolution code"))
    if incident.resolution_specific_id is None:
        missing.append(("resolution", "a specific resolution code (GENERAL/SPECIFIC)"))
    if missing:
        needs = ", ".join(what for _, what in missing)
        raise RuleViolation(f"solved needs {needs}", field=missing[0][0])


def _set_field(session: Session, incident: Incident, actor: Actor, field: str, value: Any) -> None:
    old = getattr(incident, field)
    if old == value:
        return
    setattr(incident, field, value)
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.FIELD,
        author_id=actor.id,
        text=f"{field.removesuffix('_id')} set",
        data={
            "field": field,
            "from": _show(session, field, old),
            "to": _show(session, field, value),
        },
    )


def _show(session: Session, field: str, value: Any) -> Any:
    """Codes are shown by path in the timeline, not by id."""
    if value is not None and field.startswith("resolution_"):
        code = session.get(Code, value)
        return code.path if code else value
    return value


def _close(
    incident: Incident, actor: Actor, previous: str, accepted: bool | None, coordinator: bool
) -> None:
    if accepted and coordinator:
        raise UsageError("close either as accepted by the customer or by a coordinator, not both")
    if coordinator:
        actor.require_supervisor("close an incident as coordinator")
        incident.closed_by_coordinator = True
        incident.customer_accepted = None if previous != S.SOLVED else incident.customer_accepted
        return
    if previous != S.SOLVED:
        raise RuleViolation(
            f"only a solved incident can be closed as accepted; {number(incident.id or 0)} is "
            f"{previous} (a coordinator can close it: --coordinator)",
            field="status",
        )
    if not accepted:
        raise RuleViolation(
            "closing needs the customer's acceptance (--accepted) or a coordinator "
            "(--coordinator); if the customer does not accept, reopen it (in_process)"
        )
    incident.customer_accepted = True
    incident.closed_by_coordinator = False


def _pause_clock(
    session: Session, incident: Incident, previous: str, target: Status, now: datetime
) -> None:
    """Time in pending does not count: store each pause so deadlines can be recomputed."""
    if target == S.PENDING:
        incident.paused_since = now
        session.add(IncidentPause(incident_id=stored_id(incident), started_at=now))
    elif previous == S.PENDING:
        pause = session.scalars(
            select(IncidentPause)
            .where(
                col(IncidentPause.incident_id) == incident.id, col(IncidentPause.ended_at).is_(None)
            )
            .order_by(col(IncidentPause.id).desc())
        ).first()
        started = pause.started_at if pause else incident.paused_since or now
        if pause is not None:
            pause.ended_at = now
        incident.paused_minutes += int((now - started).total_seconds() // 60)
        incident.paused_since = None
        # The clocks resume: the deadlines move by the pause.
        apply_deadlines(session, incident, now=now, why="pending ended")


@dataclass(frozen=True)
class Locked:
    """An incident locked for a set-based move: what the move needs of it."""

    id: int
    status: str
    department_id: int | None


def lock_for_moves(session: Session, condition: ColumnElement[bool]) -> list[Locked]:
    """The incidents matching `condition`, locked in id order (two writers never deadlock),
    read afresh: a concurrent writer's committed change is seen once its lock is released."""
    rows = session.execute(
        select(col(Incident.id), col(Incident.status), col(Incident.department_id))
        .where(condition)
        .order_by(col(Incident.id))
        .with_for_update()
    ).all()
    return [Locked(i, status, dept) for i, status, dept in rows]


def move_set(
    session: Session,
    incidents: list[Locked],
    path: tuple[str, ...],
    *,
    actor: Actor,
    note: str | tuple[str, ...],
    data: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> None:
    """Move many incidents along `path` (transferred -> solved -> closed, say) in a few
    statements whatever their number: each step is checked against LEGAL and
    SYSTEM_ONLY, one UPDATE writes the statuses, stamps and `values` (the solution a
    work order hands back), one INSERT their status events (one per step, ending in `note`:
    one text for every step, or one per step) and one the change-feed rows. Pending is not
    entered or left this way (its clocks need each incident): those go through
    `change_status`. Lock them with `lock_for_moves`."""
    if not incidents or not path:
        return
    from cc_tui.db.changes import acted_by, record_changes
    from cc_tui.models import Event
    from cc_tui.models.enums import EventKind
    from cc_tui.services.incidents.event_log import event_type

    now = clock.now()
    steps = [Status(step) for step in path]
    if S.PENDING in steps:
        raise RuleViolation("a set-based move does not enter pending", field="status")
    for incident in incidents:
        previous = incident.status
        if previous == S.PENDING:
            raise RuleViolation(f"{number(incident.id)} is pending", field="status")
        for target in steps:
            check_step(number(incident.id), previous, target, system=True)
            previous = target
    notes = (note,) * len(steps) if isinstance(note, str) else note
    final = steps[-1]
    stamps: dict[str, Any] = {}
    if S.SOLVED in steps and final != S.IN_PROCESS:
        stamps["solved_at"] = now
    if final == S.CLOSED:
        stamps.update(closed_at=now, closed_by_coordinator=False)
    elif final in (S.TRANSFERRED, S.IN_PROCESS):
        stamps.update(closed_at=None, solved_at=None)
    ids = [i.id for i in incidents]
    session.flush()
    for first in range(0, len(ids), _CHUNK):
        session.execute(
            update(Incident)
            .where(col(Incident.id).in_(ids[first : first + _CHUNK]))
            .values(
                status=final.value,
                version=col(Incident.version) + len(steps),
                updated_at=now,
                updated_by_id=actor.id,
                **stamps,
                **(values or {}),
            )
            .execution_options(synchronize_session=False)
        )
    idset = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Incident) and obj.id in idset:
            session.expire(obj)
    type_id = event_type(session, SystemEvent.STATUS.value).id
    who = acted_by(session)
    events: list[dict[str, Any]] = []
    for incident in incidents:
        previous = incident.status
        for target, told in zip(steps, notes, strict=True):
            events.append(
                {
                    "incident_id": incident.id,
                    "event_type_id": type_id,
                    "kind": EventKind.SYSTEM.value,
                    "at": now,
                    "author_id": actor.id,
                    "text": status_text(previous, target.value, told),
                    "contact_id": None,
                    "duration_minutes": None,
                    "corrects_id": None,
                    "acted_by": who,
                    "data": {
                        "field": "status",
                        "from": previous,
                        "to": target.value,
                        **(data or {}),
                    },
                }
            )
            previous = target
    session.execute(insert(Event.__table__), events)  # type: ignore[attr-defined]
    if final == S.CLOSED:
        outbox.queue_many(
            session, [i.id for i in incidents], outbox.CLOSED, detail=outbox.closing_detail(now)
        )
    record_changes(
        session,
        [
            {
                "at": now,
                "entity": "incident",
                "action": "status",
                "entity_id": incident.id,
                "incident_id": incident.id,
                "department_id": incident.department_id,
                "agent_id": actor.id,
            }
            for incident in incidents
        ],
    )


_CHUNK = 5000  # ids per UPDATE: within every database's limit on bound parameters
