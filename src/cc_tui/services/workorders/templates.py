"""Work-order templates: what an order of a kind starts with (checklist, hours, department).

A problem code names its default template (`code add problem ... --template CODE`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Department, WorkOrderTemplate
from cc_tui.models.enums import RepairKind, WorkOrderKind
from cc_tui.services.context import Actor
from cc_tui.services.directory.agents import resolve_department

# The words the command line and the forms use for the repair kinds, and what is stored.
REPAIR_WORDS: dict[str, str] = {
    "depot": RepairKind.DEPOT_REPAIR,
    "delivery": RepairKind.ITEM_DELIVERY,
    "receipt": RepairKind.ITEM_RECEIPT,
    "loan": RepairKind.ITEM_LOAN,
}
_WORD_OF = {stored: word for word, stored in REPAIR_WORDS.items()}
MAX_TASKS = 50


def parse_kind(kind: str) -> WorkOrderKind:
    try:
        return WorkOrderKind(kind.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in WorkOrderKind)
        message = f"unknown work-order kind {kind!r}; one of: {kinds}"
        raise UsageError(message, field="kind") from None


def parse_repair_kind(word: str) -> str:
    """`depot` (or the stored `depot_repair`) -> the stored repair kind."""
    text = word.strip().lower()
    if text in REPAIR_WORDS:
        return REPAIR_WORDS[text]
    if text in _WORD_OF:
        return text
    words = "|".join(REPAIR_WORDS)
    raise UsageError(f"unknown repair kind {word!r}; one of: {words}", field="repair_kind")


def repair_word(stored: str | None) -> str | None:
    return _WORD_OF.get(stored, stored) if stored else None


def check_kinds(kind: WorkOrderKind, repair_kind: str | None) -> None:
    """A repair order says which repair; other kinds have none."""
    if kind == WorkOrderKind.REPAIR and not repair_kind:
        raise UsageError(
            f"a repair order needs its repair kind ({'|'.join(REPAIR_WORDS)})", field="repair_kind"
        )
    if kind != WorkOrderKind.REPAIR and repair_kind:
        raise UsageError(f"a {kind.value} order has no repair kind", field="repair_kind")


@dataclass(frozen=True)
class TemplateInfo:
    code: str
    title: str
    kind: str
    repair_kind: str | None
    description: str | None
    tasks: list[str]
    hours: float | None
    department: str | None
    billable: bool


def template_info(session: Session, row: WorkOrderTemplate) -> TemplateInfo:
    dept = session.get(Department, row.department_id) if row.department_id else None
    return TemplateInfo(
        code=row.code,
        title=row.name,
        kind=row.kind,
        repair_kind=repair_word(row.repair_kind),
        description=row.description,
        tasks=list(row.tasks or []),
        hours=round(row.estimated_minutes / 60, 2) if row.estimated_minutes is not None else None,
        department=dept.code if dept else None,
        billable=row.billable,
    )


def resolve_template(session: Session, code: str) -> WorkOrderTemplate:
    text = code.strip().upper()
    query = select(WorkOrderTemplate).where(col(WorkOrderTemplate.code) == text)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"no work-order template {text}", field="template")
    return row


def add_template(
    session: Session,
    *,
    actor: Actor,
    code: str,
    kind: str,
    title: str,
    repair_kind: str | None = None,
    description: str | None = None,
    tasks: list[str] | tuple[str, ...] = (),
    hours: float | None = None,
    department: str | None = None,
    billable: bool = False,
) -> TemplateInfo:
    actor.require_admin("add work-order templates")
    text = code.strip().upper()
    if not text or len(text) > 40 or any(c.isspace() for c in text):
        raise UsageError("a template code is 1-40 characters without spaces", field="code")
    if not title or not title.strip():
        raise UsageError("a template needs its title", field="title")
    order_kind = parse_kind(kind)
    stored_repair = parse_repair_kind(repair_kind) if repair_kind else None
    check_kinds(order_kind, stored_repair)
    if hours is not None and not 0 < hours <= 1000:
        raise UsageError("estimated hours must be more than 0 and at most 1000", field="hours")
    checklist = [t.strip() for t in tasks if t and t.strip()]
    if len(checklist) > MAX_TASKS:
        raise UsageError(f"at most {MAX_TASKS} tasks", field="task")
    taken = select(col(WorkOrderTemplate.id)).where(col(WorkOrderTemplate.code) == text)
    if session.scalars(taken).first():
        raise RuleViolation(f"work-order template {text} exists already", field="code")
    row = WorkOrderTemplate(
        code=text,
        name=title.strip()[:200],
        kind=order_kind,
        repair_kind=stored_repair,
        description=(description or "").strip() or None,
        tasks=checklist or None,
        estimated_minutes=round(hours * 60) if hours is not None else None,
        department_id=resolve_department(session, department).id if department else None,
        billable=billable,
    )
    session.add(row)
    session.flush()
    record_change(
        session, entity="work_order_template", action="added", entity_id=row.id, agent_id=actor.id
    )
    return template_info(session, row)


def list_templates(session: Session) -> list[TemplateInfo]:
    rows = session.scalars(select(WorkOrderTemplate).order_by(col(WorkOrderTemplate.code)))
    return [template_info(session, row) for row in rows]
