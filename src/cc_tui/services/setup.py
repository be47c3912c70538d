"""Getting a database ready for use: schema, first admin, and (PostgreSQL) its roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from cc_tui.db.engine import Database
from cc_tui.db.migrate import UPGRADE_LOCK_KEY, SchemaStatus, ensure_schema, upgrade
from cc_tui.services.context import bootstrap_admin, database_login

if TYPE_CHECKING:
    from sqlmodel import Session

_prepared: set[str] = set()


def prepare_database(db: Database, login: str) -> SchemaStatus | None:
    """Check the schema once per process; the embedded SQLite database upgrades itself."""
    key = str(db.url)
    if key in _prepared:
        return None
    status = ensure_schema(db, auto_upgrade=db.is_sqlite)
    if db.is_sqlite and not _has_agents(db):
        # A write transaction only when there is something to write: a read-only
        # database (a copy, a backup, a file others own) must stay readable.
        with db.session() as session:
            bootstrap_admin(session, login)
    _prepared.add(key)
    return status


@dataclass(frozen=True)
class Upgraded:
    status: SchemaStatus
    admin: str | None  # the first admin, made of the invoking login on an empty database
    # PostgreSQL: what to tell the person about the roles (None: all set, or SQLite).
    roles_note: str | None = None
    roles_script: str | None = None


def upgrade_database(db: Database, login: str) -> Upgraded:
    """`cc-tui db upgrade`: migrate, make the invoking login admin of an empty database, and
    on PostgreSQL create the group roles and grant their privileges again."""
    status = upgrade(db)
    with db.session() as session:
        if not db.is_sqlite:
            # Upgrades run at once: one of them makes the first admin and sets up the
            # roles, the other waits here and then finds them done.
            session.execute(text(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK_KEY})"))
        agent = bootstrap_admin(session, login)
        admin = agent.login if agent else None
        note, script = _set_up_roles(session, admin)
    _prepared.add(str(db.url))
    return Upgraded(status, admin, note, script)


def _set_up_roles(session: Session, admin: str | None) -> tuple[str | None, str | None]:
    from cc_tui.db import roles

    connected = database_login(session)
    if connected is None:
        return None, None
    if not connected.operator:
        return (
            f"the roles' privileges were not granted again: run `cc-tui db upgrade` as the "
            f"database's owner (you are {connected.role})",
            None,
        )
    done = roles.set_up(session.connection())
    if not done.granted:
        return (
            f"{connected.role} may not create roles: a superuser runs `cc-tui db roles sql` "
            f"(or the script below) with psql on {done.database}, then `cc-tui db roles sync`",
            done.script,
        )
    if admin is not None:
        roles.provision_login(session, login=admin, role="admin", active=True)
    return None, None


def _has_agents(db: Database) -> bool:
    from sqlmodel import select

    from cc_tui.models import Agent

    with db.session(write=False) as session:
        return session.exec(select(Agent.id).limit(1)).first() is not None
