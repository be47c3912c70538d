"""PostgreSQL roles: a group role per cc-tui role, a login role per agent, least privilege.

Each database has its own three group roles, named after it (`<database>_agent`,
`<database>_supervisor`, `<database>_admin`), so two cc-tui databases on one server
(production and training, say) never share privileges. An agent's login role has the
agent's login as its name and is a member of one group. The groups hold exactly the table
privileges their services need; a supervisor's group is a member of the agent group and
the admin group a member of the supervisor group. Nobody may UPDATE or DELETE timeline
events or change-feed rows (the events' append-only trigger says so as well).

SQLite has no roles: nothing here applies to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlmodel import Session

from cc_tui.errors import RuleViolation, UsageError

GROUPS = ("agent", "supervisor", "admin")
# Each group is a member of the one before it, so it has that one's privileges too.
PARENT = {"supervisor": "agent", "admin": "supervisor"}

# Beyond SELECT on every table: what each group's services write. A new table must be
# named here (a test holds this to the models), so it never becomes writable by accident.
AGENT_WRITES = {
    "change": "INSERT",
    "event": "INSERT",
    "incident": "INSERT, UPDATE",
    "incident_pause": "INSERT, UPDATE",
    "time_entry": "INSERT, UPDATE",
    "customer": "INSERT, UPDATE",
    "contact": "INSERT, UPDATE",
    "customer_token": "INSERT, DELETE",
    "unit": "INSERT, UPDATE",
    "work_order": "INSERT, UPDATE",
    "incident_work_order": "INSERT, UPDATE",
    "work_order_event": "INSERT",
    "kb_search": "INSERT, UPDATE",
    "notification": "INSERT, UPDATE",
    "notify_suppression": "INSERT, UPDATE",
    "mail_message": "INSERT, UPDATE",
    "mail_attachment": "INSERT",
    "mail_cursor": "INSERT, UPDATE",
    "phone_call": "INSERT, UPDATE",
}
SUPERVISOR_WRITES = {
    "kb_article": "INSERT, UPDATE",
    "kb_article_version": "INSERT",
    "kb_article_code": "INSERT, DELETE",
}
ADMIN_WRITES = {
    table: "INSERT, UPDATE, DELETE"
    for table in (
        "agent",
        "department",
        "priority",
        "escalation_action",
        "calendar",
        "calendar_hours",
        "calendar_day",
        "routing_rule",
        "event_type",
        "work_order_template",
        "code",
        "service_contract",
        "subcontract_agreement",
        "mailbox",
        "notify_policy",
    )
}
WRITES = {"agent": AGENT_WRITES, "supervisor": SUPERVISOR_WRITES, "admin": ADMIN_WRITES}
# Read by every group: the schema check reads the revision.
EXTRA_READS = ("alembic_version",)


def quote(name: str) -> str:
    """A role or table name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def group_name(database: str, role: str) -> str:
    name = f"{database}_{role}"
    if len(name.encode()) > 63:
        raise UsageError(f"database name {database!r} is too long for its role names")
    return name


def groups(database: str) -> dict[str, str]:
    """cc-tui role -> group role name, for one database."""
    return {role: group_name(database, role) for role in GROUPS}


def create_group_statements(database: str) -> list[str]:
    """CREATE ROLE for the groups that do not exist yet (NOLOGIN: nobody logs in as one)."""
    names = groups(database)
    statements = []
    for role in GROUPS:
        name = names[role]
        literal = name.replace("'", "''")
        statements.append(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{literal}') THEN CREATE ROLE {quote(name)} NOLOGIN; END IF; END $$"
        )
    for role, parent in PARENT.items():
        statements.append(f"GRANT {quote(names[parent])} TO {quote(names[role])}")
    return statements


def grant_statements(database: str, tables: list[str], sequences: dict[str, str]) -> list[str]:
    """Revoke and grant again every table privilege of the groups (run on each upgrade)."""
    names = groups(database)
    every = ", ".join(quote(n) for n in names.values())
    unknown = set(tables) - set(EXTRA_READS) - {t for w in WRITES.values() for t in w}
    if unknown:
        raise RuntimeError(f"tables without a privilege rule: {sorted(unknown)}")
    statements = [
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {every}",
        f"GRANT USAGE ON SCHEMA public TO {every}",
    ]
    for table in tables:
        statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {every}")
        statements.append(f"GRANT SELECT ON TABLE {quote(table)} TO {quote(names['agent'])}")
    for role in GROUPS:
        for table, privileges in WRITES[role].items():
            if table not in tables:
                continue
            statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {quote(names[role])}")
            if "INSERT" in privileges and table in sequences:
                statements.append(
                    f"GRANT USAGE ON SEQUENCE {sequences[table]} TO {quote(names[role])}"
                )
    return statements


def _tables(conn: Connection) -> tuple[list[str], dict[str, str]]:
    """The schema's tables, and the sequence behind each one's `id` (if any)."""
    tables = [
        row[0]
        for row in conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        )
    ]
    sequences = {}
    for table in tables:
        sequence = conn.execute(
            text(
                "SELECT pg_get_serial_sequence(quote_ident(:t), a.attname) FROM pg_attribute a "
                "WHERE a.attrelid = quote_ident(:t)::regclass AND a.attname = 'id'"
            ),
            {"t": table},
        ).scalar()
        if sequence:
            sequences[table] = sequence
    return tables, sequences


@dataclass(frozen=True)
class RoleSetup:
    """What `db upgrade` did about roles."""

    database: str
    groups_created: bool  # the groups exist now (created or already there)
    granted: bool
    script: str | None  # the SQL a role-creating role must run, when we may not


def current_database(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_database()")).scalar())


def may_create_roles(conn: Connection) -> bool:
    return bool(
        conn.execute(
            text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )


def missing_groups(conn: Connection, database: str) -> list[str]:
    names = list(groups(database).values())
    found = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": names}
        ).scalars()
    )
    return [n for n in names if n not in found]


def script(conn: Connection) -> str:
    """The whole set-up as SQL, for a role that may create roles (`psql -f`)."""
    database = current_database(conn)
    tables, sequences = _tables(conn)
    statements = create_group_statements(database) + grant_statements(database, tables, sequences)
    return "".join(f"{s};\n" for s in statements)


def set_up(conn: Connection) -> RoleSetup:
    """Create the groups (when this role may) and grant their privileges again."""
    database = current_database(conn)
    if missing_groups(conn, database):
        if not may_create_roles(conn):
            return RoleSetup(database, False, False, script(conn))
        for statement in create_group_statements(database):
            conn.exec_driver_sql(statement)
    tables, sequences = _tables(conn)
    for statement in grant_statements(database, tables, sequences):
        conn.exec_driver_sql(statement)
    return RoleSetup(database, True, True, None)


def roles_enabled(session: Session) -> bool:
    """Whether this database has its group roles (PostgreSQL after `db upgrade`)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    conn = session.connection()
    return not missing_groups(conn, current_database(conn))


def scram_verifier(password: str, *, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier, so the password itself never reaches the server's logs."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


@dataclass(frozen=True)
class LoginRole:
    login: str
    action: str  # "created", "updated", "unchanged", "skipped (superuser)"


def provision_login(
    session: Session,
    *,
    login: str,
    role: str,
    active: bool,
    password: str | None = None,
) -> LoginRole:
    """Create or update the login role of one agent: LOGIN while active, in its role's
    group only; an admin's role may create roles (to add agents). Never touches a
    superuser. A password is set only when given (none: peer or certificate login)."""
    conn = session.connection()
    names = groups(current_database(conn))
    row = conn.execute(
        text("SELECT rolsuper, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = :n"),
        {"n": login},
    ).first()
    if row is not None and row[0]:
        return LoginRole(login, "skipped (superuser)")
    if password is not None and not password:
        raise UsageError("an empty password; leave --password-stdin out for none")
    options = [
        "LOGIN" if active else "NOLOGIN",
        "CREATEROLE" if role == "admin" else "NOCREATEROLE",
    ]
    if password is not None:
        options.append(f"PASSWORD '{scram_verifier(password)}'")
    member_of: dict[str, bool] = {
        str(group): bool(admin_option)
        for group, admin_option in conn.execute(
            text(
                "SELECT g.rolname, m.admin_option FROM pg_auth_members m "
                "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
                "WHERE u.rolname = :n AND g.rolname = ANY(:groups)"
            ),
            {"n": login, "groups": list(names.values())},
        ).all()
    }
    # An admin's login is in every group WITH ADMIN OPTION: PostgreSQL 16 and later let a
    # CREATEROLE role grant only the roles it administers (15 lets it grant any).
    admin = role == "admin"
    wanted = set(names.values()) if admin else {names[role]}
    statements = []
    if row is None:
        statements.append(f"CREATE ROLE {quote(login)} {' '.join(options)}")
    elif (row[1], row[2]) != (active, admin) or password is not None:
        statements.append(f"ALTER ROLE {quote(login)} {' '.join(options)}")
    for group in sorted(set(member_of) - wanted):
        statements.append(f"REVOKE {quote(group)} FROM {quote(login)}")
    for group in sorted(wanted):
        if group not in member_of or member_of[group] != admin:
            if group in member_of and not admin:
                statements.append(f"REVOKE ADMIN OPTION FOR {quote(group)} FROM {quote(login)}")
            else:
                option = " WITH ADMIN OPTION" if admin else ""
                statements.append(f"GRANT {quote(group)} TO {quote(login)}{option}")
    try:
        for statement in statements:
            # DDL takes no bind parameters, and the verifier holds ':' (text() would bind it).
            conn.exec_driver_sql(statement)
    except Exception as error:
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "42501":
            raise RuleViolation(
                f"your database role may not create or change the role {login}: a role with "
                f"CREATEROLE (an admin's, or the database server's superuser) runs this"
            ) from error
        raise
    if row is None:
        return LoginRole(login, "created")
    return LoginRole(login, "updated" if statements else "unchanged")
