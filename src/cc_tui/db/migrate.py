"""Schema migrations (Alembic) and the checks run before the program uses a database."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc, inspect

from cc_tui.db.engine import Database
from cc_tui.errors import Unavailable

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

MIGRATIONS = Path(__file__).parent / "migrations"
# The PostgreSQL advisory lock that serialises schema upgrades ("cctui-up" in hex-ish).
UPGRADE_LOCK_KEY = 0x6363747569_7570


def _config(connection: Connection | None = None) -> Config:
    # Alembic is imported here, not at module level: the console's start-up does not need it.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


# `revision: str = "0008"` / `down_revision: str | None = "0007"` in each version file.
_REVISION = re.compile(r'^revision(?::[^=]*)?=\s*["\']([^"\']+)["\']', re.M)
_DOWN = re.compile(r"^down_revision(?::[^=]*)?=\s*(?:None|[\"']([^\"']+)[\"'])", re.M)


@functools.cache
def _revision_graph() -> dict[str, str | None]:
    """Each revision and the one it follows, read from the version files' headers.

    Every start of the console and every command checks the schema; reading the headers
    takes a millisecond where Alembic's ScriptDirectory takes 0.6 s to import and load.
    A test holds this to Alembic's own answer.
    """
    graph: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            continue
        graph[revision.group(1)] = down.group(1)
    return graph


def head_revision() -> str:
    graph = _revision_graph()
    heads = set(graph) - {down for down in graph.values() if down}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def known_revisions() -> set[str]:
    return set(_revision_graph())


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
        db.sqlite_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with db.engine.begin() as conn:
            if not db.is_sqlite:
                # Two upgrades at once: the second waits here, then finds the schema done
                # (Alembic reads the revision after the lock) instead of creating it twice.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK_KEY})")
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
