"""Schema migrations (Alembic) and the checks run before the program uses a database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exc, inspect

from cc_tui.db.engine import Database
from cc_tui.errors import Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection=None):
    # Alembic is imported here, not at module level: the console's start-up does not need it.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None

    @property
    def newer(self) -> bool:
        """The database was migrated by a newer cc-tui than this one."""
        return self.current is not None and not self.known


def schema_status(db: Database) -> SchemaStatus:
    head = head_revision()
    try:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return SchemaStatus(None, head, True)
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except exc.DBAPIError as error:
        raise db.unavailable(error) from error
    current = rows[0][0] if rows else None
    return SchemaStatus(current, head, current is None or current in known_revisions())


def upgrade(db: Database) -> SchemaStatus:
    """Migrate to the newest schema; refuse a database that is ahead of this program."""
    from alembic import command

    status = schema_status(db)
    if status.newer:
        raise newer_schema_error(db, status)
    if status.up_to_date:
        return status
    if db.sqlite_path is not None:
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with db.engine.begin() as conn:
            command.upgrade(_config(conn), "head")
    except exc.DBAPIError as error:
        raise db.unavailable(error) from error
    return schema_status(db)


def newer_schema_error(db: Database, status: SchemaStatus) -> Unavailable:
    return Unavailable(
        f"database {db.describe()} has schema {status.current}, newer than this cc-tui "
        f"(which knows up to {status.head}): upgrade cc-tui"
    )


def ensure_schema(db: Database, *, auto_upgrade: bool) -> SchemaStatus:
    """Make sure the schema is usable: upgrade (embedded database) or tell how to."""
    status = schema_status(db)
    if status.newer:
        raise newer_schema_error(db, status)
    if status.up_to_date:
        return status
    if auto_upgrade:
        return upgrade(db)
    raise Unavailable(
        f"database {db.describe()} is at schema {status.current or 'none'}, "
        f"this cc-tui needs {status.head}: run `cc-tui db upgrade`"
    )
