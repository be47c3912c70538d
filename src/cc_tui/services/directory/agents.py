"""Departments (queues) and agents: the people who work incidents (admin master data)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Calendar, Department
from cc_tui.models.enums import Role
from cc_tui.normalize import validate_email
from cc_tui.services.context import Actor

if TYPE_CHECKING:
    from cc_tui.db.roles import LoginRole

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,39}$")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,79}$")
_SKILL = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
# Distinguishes "leave the department as it is" from "no department" in update_agent.
UNCHANGED = object()


@dataclass(frozen=True)
class DepartmentInfo:
    id: int
    code: str
    name: str
    calendar: str | None
    on_site: bool
    active: bool


@dataclass(frozen=True)
class AgentInfo:
    id: int
    login: str
    name: str
    role: str
    department: str | None
    skills: list[str]
    region: str | None
    email: str | None
    active: bool
    created_at: datetime
    extension: str | None = None


def resolve_calendar(session: Session, name: str) -> Calendar:
    found = session.scalars(
        select(Calendar).where(func.lower(Calendar.name) == name.strip().lower())
    ).first()
    if found is None:
        names = session.scalars(select(col(Calendar.name)).order_by(col(Calendar.name))).all()
        listing = ", ".join(names) if names else "none defined yet"
        raise NotFound(f"no calendar {name.strip()!r}; known: {listing}", field="calendar")
    return found


def department_info(session: Session, dept: Department) -> DepartmentInfo:
    calendar = session.get(Calendar, dept.calendar_id) if dept.calendar_id else None
    return DepartmentInfo(
        id=dept.id or 0,
        code=dept.code,
        name=dept.name,
        calendar=calendar.name if calendar else None,
        on_site=dept.on_site,
        active=dept.active,
    )


def add_department(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    calendar: str | None = None,
    on_site: bool = False,
) -> DepartmentInfo:
    actor.require_admin("add departments")
    text = code.strip().upper()
    if not _CODE.match(text):
        raise UsageError(
            f"department code {code!r} may hold only letters, digits, '_', '-', '.' (max 40)",
            field="code",
        )
    if not name or not name.strip():
        raise UsageError("a department needs a name", field="name")
    if _find_department(session, text) is not None:
        raise RuleViolation(f"department {text} exists already", field="code")
    calendar_id = resolve_calendar(session, calendar).id if calendar else None
    dept = Department(code=text, name=name.strip(), calendar_id=calendar_id, on_site=on_site)
    session.add(dept)
    session.flush()
    record_change(
        session,
        entity="department",
        action="added",
        entity_id=dept.id,
        department_id=dept.id,
        agent_id=actor.id,
    )
    return department_info(session, dept)


def list_departments(session: Session, *, include_inactive: bool = False) -> list[DepartmentInfo]:
    query = select(Department).order_by(Department.code)
    if not include_inactive:
        query = query.where(col(Department.active).is_(True))
    return [department_info(session, d) for d in session.scalars(query).all()]


def _find_department(session: Session, code: str) -> Department | None:
    return session.scalars(
        select(Department).where(func.upper(Department.code) == code.strip().upper())
    ).first()


def resolve_department(session: Session, code: str) -> Department:
    """A department by its code (any case); NotFound lists the known ones."""
    if not code or not code.strip():
        raise UsageError("empty department code", field="department")
    found = _find_department(session, code)
    if found is None:
        codes = session.scalars(select(col(Department.code)).order_by(col(Department.code))).all()
        listing = ", ".join(codes) if codes else "none defined yet"
        raise NotFound(f"no department {code.strip()!r}; known: {listing}", field="department")
    return found


def parse_skills(skills: Iterable[str] | str) -> list[str]:
    """'Printers, network' or ['printers', 'Network'] -> ['network', 'printers']."""
    items = skills.split(",") if isinstance(skills, str) else list(skills)
    result: set[str] = set()
    for item in items:
        text = item.strip().lower()
        if not text:
            continue
        if not _SKILL.match(text):
            raise UsageError(
                f"skill {item.strip()!r} may hold only letters, digits, '_', '-', '.'",
                field="skills",
            )
        result.add(text)
    return sorted(result)


def _role(role: str) -> str:
    text = role.strip().lower()
    if text not in {r.value for r in Role}:
        raise UsageError(
            f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", field="role"
        )
    return text


def agent_info(session: Session, agent: Agent) -> AgentInfo:
    dept = session.get(Department, agent.department_id) if agent.department_id else None
    return AgentInfo(
        id=agent.id or 0,
        login=agent.login,
        name=agent.name,
        role=agent.role,
        department=dept.code if dept else None,
        skills=[s for s in agent.skills.split(",") if s],
        region=agent.region,
        email=agent.email,
        active=agent.active,
        created_at=agent.created_at,
        extension=agent.extension,
    )


def add_agent(
    session: Session,
    *,
    actor: Actor,
    login: str,
    name: str,
    role: str = "agent",
    department: str | None = None,
    skills: Iterable[str] | str = (),
    region: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> AgentInfo:
    """Add an agent; on a PostgreSQL database with roles, also its login role (with a
    password if given; none for peer or certificate authentication)."""
    actor.require_admin("add agents")
    text = login.strip()
    if not _LOGIN.match(text):
        raise UsageError(
            f"login {login!r} may hold only letters, digits, '_', '.', '@', '-' (max 80)",
            field="login",
        )
    if not name or not name.strip():
        raise UsageError("an agent needs a name", field="name")
    if session.scalars(select(Agent).where(col(Agent.login) == text)).first() is not None:
        raise RuleViolation(f"agent {text} exists already", field="login")
    agent = Agent(
        login=text,
        name=name.strip(),
        role=_role(role),
        department_id=resolve_department(session, department).id if department else None,
        skills=",".join(parse_skills(skills)),
        region=region.strip() or None if region else None,
        email=validate_email(email) if email else None,
    )
    session.add(agent)
    session.flush()
    _login_role(session, agent, password)
    record_change(
        session,
        entity="agent",
        action="added",
        entity_id=agent.id,
        department_id=agent.department_id,
        agent_id=actor.id,
    )
    return agent_info(session, agent)


def list_agents(
    session: Session, *, department: str | None = None, include_inactive: bool = False
) -> list[AgentInfo]:
    query = select(Agent).order_by(Agent.login)
    if department:
        query = query.where(col(Agent.department_id) == resolve_department(session, department).id)
    if not include_inactive:
        query = query.where(col(Agent.active).is_(True))
    return [agent_info(session, a) for a in session.scalars(query).all()]


def resolve_agent(session: Session, login: str) -> Agent:
    """An agent by login (exact first, then ignoring case)."""
    text = login.strip()
    if not text:
        raise UsageError("empty agent login", field="agent")
    found = session.scalars(select(Agent).where(col(Agent.login) == text)).first()
    if found is None:
        found = session.scalars(
            select(Agent).where(func.lower(Agent.login) == text.lower())
        ).first()
    if found is None:
        raise NotFound(f"no agent {text!r}", field="agent")
    return found


def update_agent(
    session: Session,
    *,
    actor: Actor,
    login: str,
    name: str | None = None,
    role: str | None = None,
    department: object = UNCHANGED,
    skills: Iterable[str] | str | None = None,
    region: object = UNCHANGED,
    email: object = UNCHANGED,
    active: bool | None = None,
    password: str | None = None,
    extension: object = UNCHANGED,
) -> AgentInfo:
    """Change an agent; `department=None` takes the agent out of any department. On a
    PostgreSQL database with roles the login role follows: another group for another role,
    no LOGIN while deactivated, a new password if given."""
    actor.require_admin("change agents")
    agent = resolve_agent(session, login)
    changed: list[str] = []
    if name is not None:
        if not name.strip():
            raise UsageError("an agent needs a name", field="name")
        agent.name = name.strip()
        changed.append("name")
    if role is not None:
        new_role = _role(role)
        if agent.id == actor.id and new_role != Role.ADMIN:
            raise RuleViolation("you cannot take the admin role from yourself", field="role")
        agent.role = new_role
        changed.append("role")
    if department is not UNCHANGED:
        agent.department_id = (
            resolve_department(session, str(department)).id if department else None
        )
        changed.append("department")
    if skills is not None:
        agent.skills = ",".join(parse_skills(skills))
        changed.append("skills")
    if region is not UNCHANGED:
        agent.region = str(region).strip() or None if region else None
        changed.append("region")
    if email is not UNCHANGED:
        agent.email = validate_email(str(email)) if email else None
        changed.append("email")
    if active is not None:
        if agent.id == actor.id and not active:
            raise RuleViolation("you cannot deactivate yourself", field="active")
        agent.active = active
        changed.append("active")
    if extension is not UNCHANGED:
        agent.extension = _extension(session, agent, extension)
        changed.append("extension")
    if password is not None:
        changed.append("password")
    if not changed:
        raise UsageError("nothing to change")
    session.add(agent)
    session.flush()
    if {"role", "active", "password"} & set(changed):
        _login_role(session, agent, password)
    record_change(
        session,
        entity="agent",
        action="changed",
        entity_id=agent.id,
        department_id=agent.department_id,
        agent_id=actor.id,
    )
    return agent_info(session, agent)


def _extension(session: Session, agent: Agent, value: object) -> str | None:
    """A telephone extension: digits (and * #), one agent each; '' or None clears it."""
    text = str(value).strip() if value else ""
    if not text:
        return None
    if len(text) > 40 or not all(c.isdigit() or c in "*#" for c in text):
        raise UsageError(f"not a telephone extension: {text!r}", field="extension")
    other = session.scalars(
        select(Agent).where(col(Agent.extension) == text, col(Agent.id) != agent.id)
    ).first()
    if other is not None:
        raise RuleViolation(f"extension {text} belongs to {other.login}", field="extension")
    return text


def _login_role(session: Session, agent: Agent, password: str | None) -> None:
    from cc_tui.db import roles

    if not roles.roles_enabled(session):
        if password is not None:
            raise UsageError(
                "this database has no login roles to set a password on (SQLite, or a "
                "PostgreSQL database before `cc-tui db upgrade` created its roles)",
                field="password",
            )
        return
    roles.provision_login(
        session, login=agent.login, role=agent.role, active=agent.active, password=password
    )


def sync_login_roles(session: Session, *, actor: Actor) -> list[LoginRole]:
    """`cc-tui db roles sync`: a login role for every agent (created before roles existed,
    or changed by hand), in its role's group, LOGIN only while active."""
    from cc_tui.db import roles

    actor.require_admin("create the agents' database roles")
    if session.get_bind().dialect.name != "postgresql":
        raise UsageError("an embedded SQLite database has no roles")
    if not roles.roles_enabled(session):
        raise RuleViolation(
            "this database has no group roles yet: run `cc-tui db upgrade` as its owner "
            "(or `cc-tui db roles sql` for a superuser)"
        )
    agents = session.scalars(select(Agent).order_by(Agent.login)).all()
    return [
        roles.provision_login(session, login=a.login, role=a.role, active=a.active) for a in agents
    ]
