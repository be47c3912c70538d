"""Getting a database ready for use: schema and first admin."""

from __future__ import annotations

from cc_tui.db.engine import Database
from cc_tui.db.migrate import SchemaStatus, ensure_schema, upgrade
from cc_tui.services.context import bootstrap_admin

_prepared: set[str] = set()


def prepare_database(db: Database, login: str) -> SchemaStatus | None:
    """Check the schema once per process; the embedded SQLite database upgrades itself."""
    key = str(db.url)
    if key in _prepared:
        return None
    status = ensure_schema(db, auto_upgrade=db.is_sqlite)
    if db.is_sqlite:
        with db.session() as session:
            bootstrap_admin(session, login)
    _prepared.add(key)
    return status


def upgrade_database(db: Database, login: str) -> tuple[SchemaStatus, str | None]:
    """`cc-tui db upgrade`: migrate, and make the invoking login admin of an empty database."""
    status = upgrade(db)
    with db.session() as session:
        admin = bootstrap_admin(session, login)
    _prepared.add(str(db.url))
    return status, admin.login if admin else None
