"""Classification codes (M4): reason and resolution trees, request types, the service tree.

Paths name codes within their kind: `GENERAL` or `GENERAL/SPECIFIC` for reason and
resolution codes, `CODE` for request types, `DEPT/PROVIDER/CATEGORY/CODE` for problem codes
(and `DEPT/PROVIDER`, `DEPT/PROVIDER/CATEGORY` for the levels above). Codes are upper-case;
look-ups ignore case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Code, Department, WorkOrderTemplate
from cc_tui.models.enums import CodeKind
from cc_tui.services.context import Actor

_SEGMENT = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")
# How many path segments each kind has; two-level trees accept one or two.
_DEPTH = {
    CodeKind.REASON: (1, 2),
    CodeKind.RESOLUTION: (1, 2),
    CodeKind.REQUEST_TYPE: (1,),
    CodeKind.PROVIDER: (2,),
    CodeKind.CATEGORY: (3,),
    CodeKind.PROBLEM: (4,),
}
# The service tree: the kind of the parent of each level (providers hang under a department).
_SERVICE_PARENT = {CodeKind.CATEGORY: CodeKind.PROVIDER, CodeKind.PROBLEM: CodeKind.CATEGORY}


@dataclass(frozen=True)
class CodeInfo:
    id: int
    kind: str
    path: str
    code: str
    name: str
    parent: str | None
    department: str | None
    work_order_template: str | None
    active: bool


def parse_kind(kind: str) -> CodeKind:
    aliases = {"problem-code": CodeKind.PROBLEM, "request_type": CodeKind.REQUEST_TYPE}
    try:
        return aliases.get(kind) or CodeKind(kind)
    except ValueError:
        raise UsageError(
            f"unknown code kind {kind!r}; one of: {', '.join(k.value for k in CodeKind)}"
        ) from None


def split_path(kind: CodeKind, path: str) -> list[str]:
    parts = [p.strip().upper() for p in path.strip().strip("/").split("/")]
    if len(parts) not in _DEPTH[kind] or not all(parts):
        shapes = {
            CodeKind.REASON: "GENERAL or GENERAL/SPECIFIC",
            CodeKind.RESOLUTION: "GENERAL or GENERAL/SPECIFIC",
            CodeKind.REQUEST_TYPE: "CODE",
            CodeKind.PROVIDER: "DEPT/PROVIDER",
            CodeKind.CATEGORY: "DEPT/PROVIDER/CATEGORY",
            CodeKind.PROBLEM: "DEPT/PROVIDER/CATEGORY/CODE",
        }
        raise UsageError(f"a {kind.value} code path is {shapes[kind]}, not {path!r}", field=kind)
    for part in parts:
        if not _SEGMENT.match(part):
            raise UsageError(
                f"code {part!r} may hold only letters, digits, '_', '-', '.' (max 40)", field=kind
            )
    return parts


def _find(session: Session, kind: CodeKind, path: str) -> Code | None:
    return session.scalars(
        select(Code).where(col(Code.kind) == kind, col(Code.path) == path)
    ).first()


def _department(session: Session, code: str) -> Department:
    dept = session.scalars(
        select(Department).where(func.upper(Department.code) == code.upper())
    ).first()
    if dept is None:
        raise NotFound(f"no department {code!r}; add it with `cc-tui department add {code}`")
    return dept


def add_code(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    path: str,
    name: str | None = None,
    work_order_template: str | None = None,
    position: int = 0,
) -> CodeInfo:
    """Add a code. The parent of a specific code must exist; service-tree levels between the
    department and the problem code are created on the way when missing."""
    actor.require_admin("add codes")
    code_kind = parse_kind(kind)
    parts = split_path(code_kind, path)
    full = "/".join(parts)
    if _find(session, code_kind, full) is not None:
        raise RuleViolation(f"{code_kind.value} code {full} exists already")

    parent: Code | None = None
    department_id: int | None = None
    if code_kind in (CodeKind.REASON, CodeKind.RESOLUTION) and len(parts) == 2:
        parent = _find(session, code_kind, parts[0])
        if parent is None:
            raise NotFound(
                f"general {code_kind.value} code {parts[0]} does not exist; add it first"
            )
    elif code_kind in (CodeKind.PROVIDER, CodeKind.CATEGORY, CodeKind.PROBLEM):
        department_id = _department(session, parts[0]).id
        parent = _ensure_service_parent(session, code_kind, parts, department_id)

    template_id = None
    if work_order_template:
        if code_kind != CodeKind.PROBLEM:
            raise UsageError("only problem codes carry a work-order template")
        template = session.scalars(
            select(WorkOrderTemplate).where(col(WorkOrderTemplate.code) == work_order_template)
        ).first()
        if template is None:
            raise NotFound(f"no work-order template {work_order_template!r}")
        template_id = template.id

    code = Code(
        kind=code_kind,
        code=parts[-1],
        path=full,
        name=(name or parts[-1]).strip(),
        parent_id=parent.id if parent else None,
        department_id=department_id,
        work_order_template_id=template_id,
        position=position,
    )
    session.add(code)
    session.flush()
    record_change(session, entity="code", action="added", entity_id=code.id, agent_id=actor.id)
    return code_info(session, code)


def _ensure_service_parent(
    session: Session, kind: CodeKind, parts: list[str], department_id: int | None
) -> Code | None:
    """The provider/category above a service-tree code, created when missing."""
    parent_kind = _SERVICE_PARENT.get(kind)
    if parent_kind is None:
        return None  # providers hang directly under the department
    parent_parts = parts[:-1]
    parent_path = "/".join(parent_parts)
    parent = _find(session, parent_kind, parent_path)
    if parent is None:
        grand = _ensure_service_parent(session, parent_kind, parent_parts, department_id)
        parent = Code(
            kind=parent_kind,
            code=parent_parts[-1],
            path=parent_path,
            name=parent_parts[-1],
            parent_id=grand.id if grand else None,
            department_id=department_id,
        )
        session.add(parent)
        session.flush()
    return parent


def code_info(session: Session, code: Code) -> CodeInfo:
    parent = session.get(Code, code.parent_id) if code.parent_id else None
    dept = session.get(Department, code.department_id) if code.department_id else None
    template = (
        session.get(WorkOrderTemplate, code.work_order_template_id)
        if code.work_order_template_id
        else None
    )
    return CodeInfo(
        id=code.id or 0,
        kind=code.kind,
        path=code.path,
        code=code.code,
        name=code.name,
        parent=parent.path if parent else None,
        department=dept.code if dept else None,
        work_order_template=template.code if template else None,
        active=code.active,
    )


def list_codes(
    session: Session,
    *,
    kind: str,
    parent: str | None = None,
    prefix: str | None = None,
    limit: int = 1000,
) -> list[CodeInfo]:
    """Codes of a kind in path order; `parent` limits to the children of a path, `prefix`
    to codes whose path or name starts with it (completion as you type)."""
    code_kind = parse_kind(kind)
    query = select(Code).where(col(Code.kind) == code_kind, col(Code.active).is_(True))
    depth = None
    if parent is not None:
        base = parent.strip().strip("/").upper()
        # autoescape: '_' and '%' are legal in codes and must not act as LIKE wildcards.
        query = query.where(col(Code.path).startswith(base + "/", autoescape=True))
        depth = base.count("/") + 1
    if prefix:
        text = prefix.strip().upper()
        query = query.where(
            (col(Code.path).startswith(text, autoescape=True))
            | (col(Code.code).startswith(text, autoescape=True))
            | (func.upper(Code.name).startswith(text, autoescape=True))
        )
    rows = session.scalars(query.order_by(Code.path).limit(limit)).all()
    # Direct children only: one more path segment than the parent.
    return [code_info(session, r) for r in rows if depth is None or r.path.count("/") == depth]


def resolve_code(session: Session, kind: str | CodeKind, ref: str) -> Code:
    """A code by its path (any case); problem codes also by their own code when unique."""
    code_kind = parse_kind(kind) if isinstance(kind, str) else kind
    text = ref.strip().strip("/").upper()
    if not text:
        raise UsageError(f"empty {code_kind.value} code", field=code_kind)
    found = _find(session, code_kind, text)
    if found is not None:
        return found
    if "/" not in text:
        matches = session.scalars(
            select(Code).where(col(Code.kind) == code_kind, col(Code.code) == text).limit(3)
        ).all()
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            paths = ", ".join(m.path for m in matches)
            raise UsageError(
                f"{code_kind.value} code {text} is ambiguous ({paths}); give the full path",
                field=code_kind,
            )
    raise NotFound(f"no {code_kind.value} code {text}", field=code_kind)


def resolve_pair(session: Session, kind: CodeKind, path: str) -> tuple[Code, Code | None]:
    """`GENERAL/SPECIFIC` (or `GENERAL`) -> (general, specific); the specific belongs to it."""
    parts = split_path(kind, path)
    general = _find(session, kind, parts[0])
    if general is None or general.parent_id is not None:
        raise NotFound(f"no general {kind.value} code {parts[0]}", field=kind)
    if len(parts) == 1:
        return general, None
    specific = _find(session, kind, "/".join(parts))
    if specific is None:
        raise NotFound(
            f"{parts[1]} is not a specific {kind.value} code under {parts[0]}", field=kind
        )
    return general, specific
