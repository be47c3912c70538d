"""e-mail intake: raw messages, hashes, outcomes, attachments stored once

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

A message is stored raw before anything else happens, so a message that cannot be filed
stays (quarantined, with the reason) and can be processed again. The SHA-256 of the raw
bytes finds a message read twice even when its Message-ID is missing or reused; IMAP's
(mailbox, UIDVALIDITY, UID) is remembered for the fetcher. Identical attachments keep
their bytes once: later copies point at the first by hash and hold no content.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_message", schema=None) as batch:
        batch.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("direction", sa.String(length=3), nullable=False, server_default="in")
        )
        batch.add_column(sa.Column("outcome", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("uidvalidity", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("uid", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(length=1000), nullable=True))
        batch.create_index("ix_mail_message_sha256", ["sha256"], unique=True)
        batch.create_index("ix_mail_message_uid", ["mailbox", "uidvalidity", "uid"], unique=True)
    with op.batch_alter_table("mail_attachment", schema=None) as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
        batch.create_index("ix_mail_attachment_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_attachment", schema=None) as batch:
        batch.drop_index("ix_mail_attachment_sha256")
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("mail_message", schema=None) as batch:
        batch.drop_index("ix_mail_message_uid")
        batch.drop_index("ix_mail_message_sha256")
        for name in (
            "source",
            "uid",
            "uidvalidity",
            "kind",
            "outcome",
            "direction",
            "raw",
            "sha256",
        ):
            batch.drop_column(name)
