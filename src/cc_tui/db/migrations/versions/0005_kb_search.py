"""knowledge-base search: FTS5 on SQLite, weighted tsvectors + GIN indexes on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Both follow `kb_article` by themselves (triggers on SQLite, generated columns on
PostgreSQL), so rows inserted by any path, also bulk Core inserts, are searchable at once.
Accents are folded on both sides: FTS5's unicode61 tokenizer with remove_diacritics 2, and
on PostgreSQL `kb_fold()`, which uses the unaccent extension when it can be installed and
a built-in translate() of the common Latin letters when it cannot.
Note for later migrations: a SQLite batch operation that copies `kb_article` drops the
triggers below; such a migration must create them again (or call `reindex_kb`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Title counts most, then tags, then the body (bm25 weights in the search service).
SQLITE_UP = [
    """CREATE VIRTUAL TABLE kb_article_fts USING fts5(
        title, body, tags,
        content='kb_article', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2',
        prefix='2 3'
    )""",
    """CREATE TRIGGER kb_article_fts_insert AFTER INSERT ON kb_article BEGIN
        INSERT INTO kb_article_fts(rowid, title, body, tags)
        VALUES (new.id, new.title, new.body, new.tags);
    END""",
    """CREATE TRIGGER kb_article_fts_delete AFTER DELETE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body, old.tags);
    END""",
    """CREATE TRIGGER kb_article_fts_update AFTER UPDATE OF title, body, tags ON kb_article
    BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body, old.tags);
        INSERT INTO kb_article_fts(rowid, title, body, tags)
        VALUES (new.id, new.title, new.body, new.tags);
    END""",
    # Articles stored before this revision.
    "INSERT INTO kb_article_fts(kb_article_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS kb_article_fts_update",
    "DROP TRIGGER IF EXISTS kb_article_fts_delete",
    "DROP TRIGGER IF EXISTS kb_article_fts_insert",
    "DROP TABLE IF EXISTS kb_article_fts",
]

# ASCII punctuation becomes a space before the parser sees the text, so URLs, e-mail
# addresses and hyphenated words are indexed word by word, as FTS5 does.
_PUNCT = r"'[!-/:-@\[-`{-~]+'"
_LATIN_FROM = "ÀÁÂÃÄÅàáâãäåÇçĆćČčÈÉÊËèéêëĚěÌÍÎÏìíîïÑñŃńŇňÒÓÔÕÖØòóôõöøŘřŚśŠšÙÚÛÜùúûüŮůÝýÿŽžŹźŻżŁłĐđ"
_LATIN_TO = "AAAAAAaaaaaaCcCcCcEEEEeeeeEeIIIIiiiiNnNnNnOOOOOOooooooRrSsSsUUUUuuuuUuYyyZzZzZzLlDd"
PG_TITLE_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, kb_fold(title)), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, kb_fold(tags)), 'B')"
)
PG_VECTOR = f"{PG_TITLE_VECTOR} || setweight(to_tsvector('simple'::regconfig, kb_fold(body)), 'D')"


def _pg_unaccent_schema(bind: sa.Connection) -> str | None:
    """The schema of the unaccent extension, installing it when allowed; None if not."""
    found: str | None = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
    ).scalar()
    if found:
        return found
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    ).scalar()
    if not available:
        return None
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS unaccent"))
    except sa.exc.DBAPIError:
        # Not allowed for this user: fall back to translate() (a plain Latin fold).
        savepoint.rollback()
        return None
    savepoint.commit()
    return _pg_unaccent_schema(bind)


def _pg_fold_function(schema: str | None) -> str:
    if schema is not None:
        quoted = '"' + schema.replace('"', '""') + '"'
        unaccented = f"{quoted}.unaccent('{quoted}.unaccent'::regdictionary, $1)"
    else:
        unaccented = f"translate($1, '{_LATIN_FROM}', '{_LATIN_TO}')"
    return (
        "CREATE OR REPLACE FUNCTION kb_fold(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        f"$$ SELECT lower(regexp_replace({unaccented}, {_PUNCT}, ' ', 'g')) $$"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    op.execute(_pg_fold_function(_pg_unaccent_schema(bind)))
    # Two vectors: title + tags (small, ranked first and fast) and everything. The GIN
    # indexes write through (fastupdate off): articles change rarely, and a pending list
    # would be scanned by every search until the next vacuum.
    for column, expression, index in (
        ("title_vector", PG_TITLE_VECTOR, "ix_kb_article_title"),
        ("search_vector", PG_VECTOR, "ix_kb_article_search"),
    ):
        op.execute(
            f"ALTER TABLE kb_article ADD COLUMN {column} tsvector "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        op.execute(
            f"CREATE INDEX {index} ON kb_article USING gin ({column}) WITH (fastupdate = off)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
        return
    for column, index in (
        ("search_vector", "ix_kb_article_search"),
        ("title_vector", "ix_kb_article_title"),
    ):
        op.execute(f"DROP INDEX IF EXISTS {index}")
        op.execute(f"ALTER TABLE kb_article DROP COLUMN IF EXISTS {column}")
    op.execute("DROP FUNCTION IF EXISTS kb_fold(text)")
