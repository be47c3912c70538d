"""Who is acting: every write records the agent at the console or behind the script."""

from __future__ import annotations

from dataclasses import dataclass

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


def bootstrap_admin(session: Session, login: str) -> Agent | None:
    """On a database with no agents, make the invoking login its first admin."""
    if session.exec(select(Agent.id).limit(1)).first() is not None:
        return None
    agent = Agent(login=login, name=login, role=Role.ADMIN)
    session.add(agent)
    session.flush()
    return agent
