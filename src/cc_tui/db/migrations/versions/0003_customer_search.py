"""customer search: name-word table, code-point prefix indexes, customer.updated_by_id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TERM = sa.String(60).with_variant(sa.String(60, collation="C"), "postgresql")
# Expression indexes that make prefix ranges index scans on PostgreSQL whatever the
# database collation is; SQLite compares code points already and uses the plain indexes.
PG_PREFIX_INDEXES = [
    ("ix_customer_search_name_c", "customer", 'search_name COLLATE "C"'),
    ("ix_customer_email_key_c", "customer", 'email_key COLLATE "C"'),
    ("ix_contact_email_key_c", "contact", 'email_key COLLATE "C"'),
]


def upgrade() -> None:
    # A plain ALTER on both databases (no table copy): the agent who wrote the version.
    op.add_column("customer", sa.Column("updated_by_id", sa.Integer(), nullable=True))
    op.create_table(
        "customer_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", TERM, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_token", schema=None) as batch_op:
        batch_op.create_index("ix_customer_token_term", ["term", "customer_id"], unique=False)
        batch_op.create_index("ix_customer_token_customer", ["customer_id", "term"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_customer_token_contact_id"), ["contact_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for name, table, expression in PG_PREFIX_INDEXES:
            op.create_index(name, table, [sa.text(expression)], unique=False)
    _fill_tokens()


def _fill_tokens() -> None:
    """Index the names already stored (a database upgraded with customers in it)."""
    import re
    import unicodedata

    extra = str.maketrans({"ø": "o", "æ": "ae", "ł": "l", "đ": "d", "œ": "oe", "ı": "i", "þ": "th"})
    umlauts = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})

    def fold(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value.casefold())
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        return stripped.translate(extra)

    def terms(name: str) -> set[str]:
        name = unicodedata.normalize("NFC", name)
        words = set(re.findall(r"[^\W_]+", fold(name)))
        words |= set(re.findall(r"[^\W_]+", fold(name.casefold().translate(umlauts))))
        return {w[:60] for w in words}

    bind = op.get_bind()
    token = sa.table(
        "customer_token",
        sa.column("term", sa.String),
        sa.column("customer_id", sa.Integer),
        sa.column("contact_id", sa.Integer),
    )
    rows = [
        {"term": t, "customer_id": cid, "contact_id": None}
        for cid, name in bind.execute(sa.text("SELECT id, name FROM customer"))
        for t in terms(name)
    ]
    rows += [
        {"term": t, "customer_id": cust, "contact_id": cid}
        for cid, cust, name in bind.execute(sa.text("SELECT id, customer_id, name FROM contact"))
        for t in terms(name)
    ]
    for start in range(0, len(rows), 5000):
        bind.execute(token.insert(), rows[start : start + 5000])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _expression in PG_PREFIX_INDEXES:
            op.drop_index(name, table_name=table)
    with op.batch_alter_table("customer_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_token_contact_id"))
        batch_op.drop_index("ix_customer_token_customer")
        batch_op.drop_index("ix_customer_token_term")
    op.drop_table("customer_token")
    # Native DROP COLUMN (SQLite >= 3.35): no table copy under enforced foreign keys.
    op.drop_column("customer", "updated_by_id")
