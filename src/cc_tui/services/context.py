"""Who is acting: every write records the agent at the console or behind the script.

On PostgreSQL the agent is the database role the connection logged in as (`session_user`):
the server authenticated it, so no option or variable can change it. Only an admin (or the
role that owns the database, or a superuser) may act for another agent with `--as`; the
change feed and the timeline record who really did it (`acted_by`). The embedded SQLite
file is one person's: `--as` picks any agent there (to try the roles).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import text
from sqlmodel import Session, select

from cc_tui.errors import NotFound, RuleViolation
from cc_tui.models import Agent
from cc_tui.models.enums import Role


@dataclass(frozen=True)
class Actor:
    id: int
    login: str
    name: str
    role: str
    department_id: int | None
    # The agent really at the console when an admin acts for this one (`--as`), else None.
    acted_by: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def require_admin(self, what: str) -> None:
        if not self.is_admin:
            raise RuleViolation(f"only an admin may {what} (you are {self.login}, {self.role})")

    def require_supervisor(self, what: str) -> None:
        if not self.is_supervisor:
            raise RuleViolation(
                f"only a supervisor or admin may {what} (you are {self.login}, {self.role})"
            )


def actor_of(agent: Agent) -> Actor:
    assert agent.id is not None
    return Actor(agent.id, agent.login, agent.name, agent.role, agent.department_id)


def resolve_actor(session: Session, login: str) -> Actor:
    """The agent for a login; an unknown or inactive login is refused with what to do."""
    agent = session.exec(select(Agent).where(Agent.login == login)).first()
    if agent is None:
        raise NotFound(
            f"agent {login!r} is not known to this database; an admin adds it with "
            f"`cc-tui agent add {login} --name 'Full Name' --role agent`"
        )
    if not agent.active:
        raise RuleViolation(f"agent {login!r} is deactivated; ask an admin")
    return actor_of(agent)


@dataclass(frozen=True)
class DatabaseLogin:
    """The role a PostgreSQL connection logged in as, and whether it runs the database."""

    role: str
    operator: bool  # superuser or (member of) the database's owner: may act for anyone


def database_login(session: Session) -> DatabaseLogin | None:
    """The connection's login role on PostgreSQL; None on SQLite (no roles there)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    role, operator = session.execute(
        text(
            "SELECT session_user, r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER') "
            "FROM pg_roles r, pg_database d "
            "WHERE r.rolname = session_user AND d.datname = current_database()"
        )
    ).one()
    return DatabaseLogin(str(role), bool(operator))


def sign_in(session: Session, requested: str | None, default: str) -> Actor:
    """The agent at the console or behind the script.

    `requested` is an explicit `--as` / CC_TUI_AGENT / config `agent`, `default` the OS
    login. On PostgreSQL the connection's role decides, and `requested` is honoured only for
    a role that may act for others; refusals say what an admin runs.
    """
    login = database_login(session)
    if login is None:
        return resolve_actor(session, requested or default)
    own = session.exec(select(Agent).where(Agent.login == login.role)).first()
    if own is None:
        if login.operator:
            return resolve_actor(session, requested or default)
        raise RuleViolation(
            f"database role {login.role!r} is not an agent of this database; an admin adds "
            f"it with `cc-tui agent add {login.role} --name 'Full Name' --role agent`"
        )
    if not own.active:
        raise RuleViolation(
            f"agent {login.role!r} is deactivated; an admin reactivates it with "
            f"`cc-tui agent update {login.role} --active`"
        )
    if requested is None or requested == own.login:
        return actor_of(own)
    if own.role != Role.ADMIN and not login.operator:
        raise RuleViolation(
            f"you are signed in to the database as {own.login} ({own.role}); only an admin "
            f"may act as another agent (--as / CC_TUI_AGENT {requested})"
        )
    actor = resolve_actor(session, requested)
    return replace(actor, acted_by=own.login)


def bootstrap_admin(session: Session, login: str) -> Agent | None:
    """On a database with no agents, make the invoking login its first admin."""
    if session.exec(select(Agent.id).limit(1)).first() is not None:
        return None
    agent = Agent(login=login, name=login, role=Role.ADMIN)
    session.add(agent)
    session.flush()
    return agent
