"""Units (a serial number of an item a customer owns), contracts and subcontracts (M3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class ServiceContract(SQLModel, table=True):
    __tablename__ = "service_contract"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    description: str | None = Field(default=None, max_length=500)
    # What is covered, in words the agent reads out ("parts and labour, next business day").
    coverage: str = Field(default="", max_length=500)
    starts_on: date
    ends_on: date | None = None
    # Coverage hours (contract basis) and priority override for incidents under it.
    calendar_id: int | None = Field(default=None, foreign_key="calendar.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    response_minutes: int | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class SubcontractAgreement(SQLModel, table=True):
    """A third party that services certain items or unit types (shown at intake)."""

    __tablename__ = "subcontract_agreement"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    subcontractor: str = Field(max_length=200)
    contact: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    # Scope: a customer, an item, a unit type, or a combination; NULL matches any.
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    item: str | None = Field(default=None, max_length=80, index=True)
    unit_type: str | None = Field(default=None, max_length=80, index=True)
    starts_on: date
    ends_on: date | None = None
    # Whether calls under it may be transferred to the subcontractor.
    transfer_allowed: bool = True
    active: bool = True


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=80, unique=True)
    item: str = Field(max_length=80, index=True)
    item_description: str | None = Field(default=None, max_length=200)
    unit_type: str | None = Field(default=None, max_length=80, index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    installed_on: date | None = None
    warranty_until: date | None = None
    contract_id: int | None = Field(default=None, foreign_key="service_contract.id", index=True)
    location: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
