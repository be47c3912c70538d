"""Customers and their contact persons (M2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from cc_tui.models.base import UtcDateTime, utcnow


class Customer(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("block_level IN ('none','warn','block')", name="block_level"),
        Index("ix_customer_search_name", "search_name"),
        Index("ix_customer_phone_e164", "phone_e164"),
        Index("ix_customer_fax_e164", "fax_e164"),
        Index("ix_customer_email_key", "email_key"),
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    version: int = 1


class Contact(SQLModel, table=True):
    __table_args__ = (
        Index("ix_contact_search_name", "search_name"),
        Index("ix_contact_phone_e164", "phone_e164"),
        Index("ix_contact_mobile_e164", "mobile_e164"),
        Index("ix_contact_email_key", "email_key"),
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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
