"""Knowledge base (M11): articles with versions, their codes, and search runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from cc_tui import clock
from cc_tui.models.base import UtcDateTime


class KbArticle(SQLModel, table=True):
    """The current version of an article; earlier versions live in kb_article_version."""

    __tablename__ = "kb_article"
    __table_args__ = (
        CheckConstraint("kind IN ('script','phone','url','link')", name="kind"),
        CheckConstraint("status IN ('draft','published','retired')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=10, index=True)
    title: str = Field(max_length=300)
    body: str = ""
    url: str | None = Field(default=None, max_length=2000)
    link_slug: str | None = Field(default=None, max_length=120)
    # Space-separated lower-case tags.
    tags: str = Field(default="", max_length=500)
    status: str = Field(default="published", max_length=10)
    review_on: date | None = None
    author_id: int | None = Field(default=None, foreign_key="agent.id")
    version: int = 1
    created_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class KbArticleVersion(SQLModel, table=True):
    __tablename__ = "kb_article_version"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_version"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="kb_article.id", ondelete="CASCADE")
    version: int
    kind: str = Field(max_length=10)
    title: str = Field(max_length=300)
    body: str = ""
    url: str | None = Field(default=None, max_length=2000)
    link_slug: str | None = Field(default=None, max_length=120)
    tags: str = Field(default="", max_length=500)
    status: str = Field(default="published", max_length=10)
    edited_by_id: int | None = Field(default=None, foreign_key="agent.id")
    edited_at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)


class KbArticleCode(SQLModel, table=True):
    """An article tied to a problem or reason code (suggestions come from these first)."""

    __tablename__ = "kb_article_code"

    article_id: int = Field(foreign_key="kb_article.id", primary_key=True, ondelete="CASCADE")
    code_id: int = Field(foreign_key="code.id", primary_key=True, index=True)


class KbSearch(SQLModel, table=True):
    """One search run, recorded on the incident it was made for."""

    __tablename__ = "kb_search"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    at: datetime = Field(default_factory=clock.now, sa_type=UtcDateTime)
    query: str = ""
    results: list[Any] | None = Field(default=None, sa_type=JSON)
    opened_article_id: int | None = Field(default=None, foreign_key="kb_article.id")
    answered: bool = False
