"""Customers and their contact persons (M2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, text
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime
from cc_tui.normalize import TERM_LENGTH


class Customer(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("block_level IN ('none','warn','block')", name="block_level"),
        Index("ix_customer_search_name", "search_name"),
        Index("ix_customer_phone_e164", "phone_e164"),
        Index("ix_customer_fax_e164", "fax_e164"),
        Index("ix_customer_email_key", "email_key"),
        # Prefix look-ups compare code points; PostgreSQL needs the "C" collation for that
        # whatever the database's own collation is (SQLite compares code points already).
        Index("ix_customer_search_name_c", text('search_name COLLATE "C"')).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_customer_email_key_c", text('email_key COLLATE "C"')).ddl_if(
            dialect="postgresql"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The customer number people say on the phone ("K-10042").
    number: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    # Lower-case, accent-free form of the name, for look-up as you type.
    search_name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=500)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    # Phone numbers are kept as typed and normalised to E.164 for matching.
    phone: str | None = Field(default=None, max_length=40)
    phone_e164: str | None = Field(default=None, max_length=20)
    fax: str | None = Field(default=None, max_length=40)
    fax_e164: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    email_key: str | None = Field(default=None, max_length=254)
    other_contact: str | None = Field(default=None, max_length=500)
    region: str | None = Field(default=None, max_length=40, index=True)
    block_level: str = Field(default="none", max_length=10)
    block_reason: str | None = Field(default=None, max_length=500)
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    notes: str | None = None
    # How the customer hears from us: email, sms or none (services.notify.outbox).
    notify: str = Field(default="email", max_length=5, sa_column_kwargs={"server_default": "email"})
    # The language of their messages (a template suffix such as "de"); None: the default.
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    # The agent who wrote the current version (named when a stale update is refused).
    updated_by_id: int | None = None
    version: int = 1


class Contact(SQLModel, table=True):
    __table_args__ = (
        Index("ix_contact_search_name", "search_name"),
        Index("ix_contact_phone_e164", "phone_e164"),
        Index("ix_contact_mobile_e164", "mobile_e164"),
        Index("ix_contact_email_key", "email_key"),
        Index("ix_contact_email_key_c", text('email_key COLLATE "C"')).ddl_if(dialect="postgresql"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    search_name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    phone_e164: str | None = Field(default=None, max_length=20)
    mobile: str | None = Field(default=None, max_length=40)
    mobile_e164: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)
    email_key: str | None = Field(default=None, max_length=254)
    is_primary: bool = False
    active: bool = True
    # email, sms or none; None: as the customer.
    notify: str | None = Field(default=None, max_length=5)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


# Code-point order on PostgreSQL too, so a prefix is one range scan of the index.
_TERM = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")


class CustomerToken(SQLModel, table=True):
    """One word of a customer's or contact's folded name: look-up by the prefix of any word.

    Written by the customer service whenever it writes a name (contact rows carry
    `contact_id`; the customer's own name has it NULL): `services.directory.customers`
    `write_terms`, `index_names` for rows added elsewhere, `rebuild_search_index` after a
    bulk load that wrote no words of its own.
    """

    __tablename__ = "customer_token"
    __table_args__ = (
        Index("ix_customer_token_term", "term", "customer_id"),
        Index("ix_customer_token_customer", "customer_id", "term"),
    )

    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(sa_type=_TERM)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", ondelete="CASCADE", index=True
    )
