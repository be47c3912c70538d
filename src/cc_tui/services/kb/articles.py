"""Knowledge base (M11): articles of four kinds, kept in versions.

An article is a call script (steps the agent reads or follows, possibly linking to other
articles), a phone number (who to call, when), an external URL, or a link to another
article. Every edit makes a new version; earlier versions stay readable. Supervisors and
admins write articles; every agent reads and searches them (`services/kb_search.py`).
Import and export of Markdown folders live in `services/kb_io.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from cc_tui import clock
from cc_tui.db.changes import record_change
from cc_tui.errors import Conflict, NotFound, UsageError, stale_version
from cc_tui.models import Agent, Code, KbArticle, KbArticleCode, KbArticleVersion
from cc_tui.models.enums import ArticleKind, ArticleStatus, CodeKind
from cc_tui.services.context import Actor
from cc_tui.services.directory.codes import resolve_code
from cc_tui.services.kb.text import (
    ArticleLink,
    article_links,
    find_phone,
    has_control_chars,
    script_steps,
    slugify,
    valid_slug,
)

MAX_TITLE = 300
MAX_BODY = 200_000
MAX_URL = 2000
MAX_TAG = 40
MAX_TAGS_TEXT = 500
_TAG = re.compile(r"^[^\W_][\w.+#-]*$")
_PHONE = re.compile(r"^\+?[\d\s()/.\-]+$")
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)
TEL = "tel:"


@dataclass(frozen=True)
class ArticleContent:
    """Everything an author writes; two articles with equal content need no new version."""

    kind: str
    title: str
    body: str = ""
    url: str | None = None
    phone: str | None = None
    link: str | None = None
    tags: tuple[str, ...] = ()
    problem_codes: tuple[str, ...] = ()
    reason_codes: tuple[str, ...] = ()
    status: str = ArticleStatus.PUBLISHED
    review_on: date | None = None


@dataclass(frozen=True)
class ArticleDetail:
    slug: str
    title: str
    kind: str
    status: str
    version: int
    latest_version: int
    body: str
    url: str | None
    phone: str | None
    link: str | None
    tags: list[str]
    problem_codes: list[str]
    reason_codes: list[str]
    author: str | None
    edited_by: str | None
    edited_at: datetime
    review_on: date | None
    review_due: bool
    # The number to call: a phone article's own, else the first one its body gives.
    call_number: str | None = None
    # A link article's target, by its title.
    link_title: str | None = None
    links: list[ArticleLink] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    @property
    def is_latest(self) -> bool:
        return self.version == self.latest_version


@dataclass(frozen=True)
class VersionInfo:
    version: int
    title: str
    status: str
    edited_by: str | None
    edited_at: datetime


@dataclass(frozen=True)
class ArticleSummary:
    slug: str
    title: str
    kind: str
    status: str
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class SaveResult:
    """What a save did: `created`, `updated` (a new version) or `unchanged`."""

    action: str
    article: ArticleDetail


# -- validation ------------------------------------------------------------------------------


def parse_kind(value: str) -> ArticleKind:
    try:
        return ArticleKind(str(value).strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in ArticleKind)
        raise UsageError(f"unknown article kind {value!r}; one of: {kinds}", field="kind") from None


def parse_status(value: str) -> ArticleStatus:
    try:
        return ArticleStatus(str(value).strip().lower())
    except ValueError:
        statuses = ", ".join(s.value for s in ArticleStatus)
        raise UsageError(
            f"unknown article status {value!r}; one of: {statuses}", field="status"
        ) from None


def normalize_tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    """Tags as typed (a list, or `a, b` text) -> lower-case, unique, in order."""
    if tags is None:
        return ()
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"a tag is text, not {item!r}", field="tags")
        tag = "-".join(item.strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG or not _TAG.match(tag):
            raise UsageError(
                f"tag {item!r} may hold letters, digits and . + # - (max {MAX_TAG})", field="tags"
            )
        if tag not in result:
            result.append(tag)
    if len(" ".join(result)) > MAX_TAGS_TEXT:
        raise UsageError(f"too many tags (at most {MAX_TAGS_TEXT} characters)", field="tags")
    return tuple(result)


def normalize_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _check_content(session: Session, content: ArticleContent, slug: str | None) -> ArticleContent:
    """The content validated and in its stored form, or a UsageError naming the field."""
    kind = parse_kind(content.kind)
    status = parse_status(content.status)
    title = " ".join((content.title or "").split())
    if not title:
        raise UsageError("an article needs a title", field="title")
    if len(title) > MAX_TITLE or has_control_chars(title):
        raise UsageError(f"a title is one line of at most {MAX_TITLE} characters", field="title")
    body = normalize_body(content.body)
    if len(body) > MAX_BODY:
        raise UsageError(f"the body is longer than {MAX_BODY} characters", field="body")
    if has_control_chars(body):
        raise UsageError("the body holds control characters; save it as plain text", field="body")

    url = (content.url or "").strip() or None
    phone = (content.phone or "").strip() or None
    link = (content.link or "").strip().lower() or None
    if kind == ArticleKind.PHONE and url and url.lower().startswith(TEL) and not phone:
        phone, url = url[len(TEL) :].strip(), None
    if kind == ArticleKind.SCRIPT and not body:
        raise UsageError("a call script needs its text (the body)", field="body")
    if kind == ArticleKind.URL:
        if not url:
            raise UsageError("a url article needs its URL", field="url")
        if len(url) > MAX_URL or not _URL.match(url):
            raise UsageError(f"not an http(s) URL: {url!r}", field="url")
    elif url:
        raise UsageError(f"only url articles carry a URL (this one is {kind.value})", field="url")
    if kind == ArticleKind.PHONE and phone:
        digits = sum(c.isdigit() for c in phone)
        if len(phone) > 40 or not _PHONE.match(phone) or digits < 3:
            raise UsageError(f"not a phone number: {phone!r}", field="phone")
        phone = " ".join(phone.split())
    elif kind == ArticleKind.PHONE and find_phone(body) is None:
        raise UsageError(
            "a phone article needs its phone number (the phone field, or a number in the body)",
            field="phone",
        )
    elif phone:
        raise UsageError(
            f"only phone articles carry a number (this one is {kind.value})", field="phone"
        )
    if kind == ArticleKind.LINK:
        if not link:
            raise UsageError("a link article needs the slug it points to", field="link")
        if link == slug:
            raise UsageError("an article cannot link to itself", field="link")
        if _article(session, link) is None:
            raise NotFound(f"no article {link!r} to link to", field="link")
    elif link:
        raise UsageError(
            f"only link articles point to another (this one is {kind.value})", field="link"
        )

    problem = tuple(
        dict.fromkeys(_code_path(session, CodeKind.PROBLEM, c) for c in content.problem_codes)
    )
    reason = tuple(
        dict.fromkeys(_code_path(session, CodeKind.REASON, c) for c in content.reason_codes)
    )
    return ArticleContent(
        kind=kind.value,
        title=title,
        body=body,
        url=url,
        phone=phone,
        link=link,
        tags=normalize_tags(content.tags),
        problem_codes=problem,
        reason_codes=reason,
        status=status.value,
        review_on=content.review_on,
    )


def _code_path(session: Session, kind: CodeKind, ref: str) -> str:
    if not isinstance(ref, str):
        raise UsageError(f"a {kind.value} code is text, not {ref!r}", field=f"{kind.value}_codes")
    return resolve_code(session, kind, ref).path


def _check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not valid_slug(slug):
        raise UsageError(
            f"slug {slug!r} may hold a-z, 0-9, '-' and '_' (max 120), starting with a letter "
            "or digit",
            field="slug",
        )
    return slug


# -- reading ---------------------------------------------------------------------------------


def _article(session: Session, slug: str) -> KbArticle | None:
    return session.scalars(select(KbArticle).where(col(KbArticle.slug) == slug)).first()


def article_row(session: Session, slug: str) -> KbArticle:
    found = _article(session, (slug or "").strip().lower())
    if found is None:
        raise NotFound(f"no knowledge-base article {slug!r}", field="slug")
    return found


def _codes_of(session: Session, article_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = session.execute(
        select(col(Code.kind), col(Code.path))
        .join(KbArticleCode, col(KbArticleCode.code_id) == col(Code.id))
        .where(col(KbArticleCode.article_id) == article_id)
        .order_by(Code.path)
    ).all()
    problem = tuple(path for kind, path in rows if kind == CodeKind.PROBLEM)
    reason = tuple(path for kind, path in rows if kind == CodeKind.REASON)
    return problem, reason


def _login(session: Session, agent_id: int | None) -> str | None:
    if agent_id is None:
        return None
    agent = session.get(Agent, agent_id)
    return agent.login if agent else None


def content_of(session: Session, article: KbArticle) -> ArticleContent:
    """The current content of an article, in the form `_check_content` returns."""
    problem, reason = _codes_of(session, article.id or 0)
    phone = None
    url = article.url
    if article.kind == ArticleKind.PHONE and url and url.startswith(TEL):
        phone, url = url[len(TEL) :], None
    return ArticleContent(
        kind=article.kind,
        title=article.title,
        body=article.body,
        url=url,
        phone=phone,
        link=article.link_slug,
        tags=tuple(article.tags.split()),
        problem_codes=problem,
        reason_codes=reason,
        status=article.status,
        review_on=article.review_on,
    )


def get_article(session: Session, *, slug: str, version: int | None = None) -> ArticleDetail:
    """The current version of an article, or an earlier one by its number."""
    article = article_row(session, slug)
    content = content_of(session, article)
    edited_by, edited_at = article.author_id, article.updated_at
    latest = article.version
    if version is not None and version != article.version:
        row = session.scalars(
            select(KbArticleVersion).where(
                col(KbArticleVersion.article_id) == article.id,
                col(KbArticleVersion.version) == version,
            )
        ).first()
        if row is None:
            raise NotFound(
                f"article {article.slug} has no version {version} (versions 1 to {latest})",
                field="version",
            )
        content = ArticleContent(
            kind=row.kind,
            title=row.title,
            body=row.body,
            url=None if row.kind == ArticleKind.PHONE else row.url,
            phone=row.url[len(TEL) :] if row.kind == ArticleKind.PHONE and row.url else None,
            link=row.link_slug,
            tags=tuple(row.tags.split()),
            problem_codes=content.problem_codes,
            reason_codes=content.reason_codes,
            status=row.status,
            review_on=None,
        )
        edited_by, edited_at = row.edited_by_id, row.edited_at
    else:
        last = _version_row(session, article.id or 0, article.version)
        if last is not None:
            edited_by, edited_at = last.edited_by_id, last.edited_at
        version = article.version
    return _detail(session, article, content, version, latest, edited_by, edited_at)


def _detail(
    session: Session,
    article: KbArticle,
    content: ArticleContent,
    version: int,
    latest: int,
    edited_by: int | None,
    edited_at: datetime,
) -> ArticleDetail:
    return ArticleDetail(
        slug=article.slug,
        title=content.title,
        kind=content.kind,
        status=content.status,
        version=version,
        latest_version=latest,
        body=content.body,
        url=content.url,
        phone=content.phone,
        link=content.link,
        tags=list(content.tags),
        problem_codes=list(content.problem_codes),
        reason_codes=list(content.reason_codes),
        author=_login(session, article.author_id),
        edited_by=_login(session, edited_by),
        edited_at=edited_at,
        review_on=content.review_on,
        review_due=content.review_on is not None and content.review_on <= clock.now().date(),
        call_number=(content.phone or find_phone(content.body))
        if content.kind == ArticleKind.PHONE
        else None,
        link_title=_title_of(session, content.link),
        links=article_links(content.body),
        steps=script_steps(content.body) if content.kind == ArticleKind.SCRIPT else [],
    )


def _title_of(session: Session, slug: str | None) -> str | None:
    if not slug:
        return None
    return session.scalars(select(col(KbArticle.title)).where(col(KbArticle.slug) == slug)).first()


def _version_row(session: Session, article_id: int, version: int) -> KbArticleVersion | None:
    return session.scalars(
        select(KbArticleVersion).where(
            col(KbArticleVersion.article_id) == article_id, col(KbArticleVersion.version) == version
        )
    ).first()


def list_versions(session: Session, *, slug: str) -> list[VersionInfo]:
    """Every version of an article, newest first."""
    article = article_row(session, slug)
    rows = session.scalars(
        select(KbArticleVersion)
        .where(col(KbArticleVersion.article_id) == article.id)
        .order_by(col(KbArticleVersion.version).desc())
    ).all()
    return [
        VersionInfo(r.version, r.title, r.status, _login(session, r.edited_by_id), r.edited_at)
        for r in rows
    ]


def list_articles(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    after_slug: str | None = None,
    limit: int = 100,
) -> list[ArticleSummary]:
    """Articles in slug order, one page; pass the last slug as `after_slug` for the next."""
    query = select(KbArticle).order_by(KbArticle.slug).limit(max(1, min(limit, 1000)))
    if kind is not None:
        query = query.where(col(KbArticle.kind) == parse_kind(kind).value)
    if status is not None:
        query = query.where(col(KbArticle.status) == parse_status(status).value)
    if after_slug is not None:
        query = query.where(col(KbArticle.slug) > after_slug)
    return [
        ArticleSummary(a.slug, a.title, a.kind, a.status, a.version, a.updated_at)
        for a in session.scalars(query).all()
    ]


# -- writing ---------------------------------------------------------------------------------


def add_article(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    title: str,
    body: str = "",
    url: str | None = None,
    phone: str | None = None,
    link: str | None = None,
    tags: Iterable[str] | str | None = None,
    problem_codes: Sequence[str] = (),
    reason_codes: Sequence[str] = (),
    slug: str | None = None,
    status: str = ArticleStatus.PUBLISHED,
    review_on: date | None = None,
) -> ArticleDetail:
    """A new article (version 1). Without a slug, one is made from the title."""
    actor.require_supervisor("write knowledge-base articles")
    content = ArticleContent(
        kind=kind,
        title=title,
        body=body,
        url=url,
        phone=phone,
        link=link,
        tags=normalize_tags(tags),
        problem_codes=tuple(problem_codes),
        reason_codes=tuple(reason_codes),
        status=status,
        review_on=review_on,
    )
    if slug is not None:
        slug = _check_slug(slug)
        if _article(session, slug) is not None:
            raise Conflict(f"an article {slug!r} exists already", field="slug")
    else:
        slug = _free_slug(session, slugify(title or ""))
    return save_article(session, actor=actor, slug=slug, content=content, create=True).article


def _free_slug(session: Session, base: str) -> str:
    candidate, n = base, 1
    while _article(session, candidate) is not None:
        n += 1
        suffix = f"-{n}"
        candidate = base[: 120 - len(suffix)] + suffix
    return candidate


def update_article(
    session: Session,
    *,
    actor: Actor,
    slug: str,
    expected_version: int | None = None,
    kind: str | None = None,
    title: str | None = None,
    body: str | None = None,
    url: str | None = None,
    phone: str | None = None,
    link: str | None = None,
    tags: Iterable[str] | str | None = None,
    problem_codes: Sequence[str] | None = None,
    reason_codes: Sequence[str] | None = None,
    status: str | None = None,
    review_on: date | None = None,
    clear_review: bool = False,
) -> SaveResult:
    """Edit an article: a new version when anything changed. `None` keeps a field
    (`clear_review` removes the review date); an `expected_version` that is no longer
    current is refused (someone else edited it)."""
    # Who may edit comes before whether the edit is current: an agent is told the rule.
    actor.require_supervisor("write knowledge-base articles")
    article = article_row(session, slug)
    current = content_of(session, article)
    if expected_version is not None and expected_version != article.version:
        who = _login(session, article.author_id) or "someone"
        last = _version_row(session, article.id or 0, article.version)
        if last is not None:
            who = _login(session, last.edited_by_id) or who
        raise stale_version(
            f"article {article.slug}",
            by=who,
            at=article.updated_at,
            version=article.version,
            expected=expected_version,
        )
    new_kind = kind if kind is not None else current.kind
    kind_changed = new_kind != current.kind
    content = ArticleContent(
        kind=new_kind,
        title=title if title is not None else current.title,
        body=body if body is not None else current.body,
        # The kind-specific fields do not carry over to another kind.
        url=url if url is not None else (None if kind_changed else current.url),
        phone=phone if phone is not None else (None if kind_changed else current.phone),
        link=link if link is not None else (None if kind_changed else current.link),
        tags=normalize_tags(tags) if tags is not None else current.tags,
        problem_codes=tuple(problem_codes) if problem_codes is not None else current.problem_codes,
        reason_codes=tuple(reason_codes) if reason_codes is not None else current.reason_codes,
        status=status if status is not None else current.status,
        review_on=None if clear_review else (review_on or current.review_on),
    )
    return save_article(session, actor=actor, slug=article.slug, content=content, create=False)


def save_article(
    session: Session, *, actor: Actor, slug: str, content: ArticleContent, create: bool | None
) -> SaveResult:
    """Create the article or store a new version of it, unless nothing changed.

    `create=True` requires a new slug, `False` an existing one, `None` takes either (import).
    """
    actor.require_supervisor("write knowledge-base articles")
    slug = _check_slug(slug)
    article = _article(session, slug)
    if article is None and create is False:
        raise NotFound(f"no knowledge-base article {slug!r}", field="slug")
    if article is not None and create is True:
        raise Conflict(f"an article {slug!r} exists already", field="slug")
    checked = _check_content(session, content, slug)
    now = clock.now()
    if article is None:
        article = KbArticle(slug=slug, kind=checked.kind, title=checked.title, author_id=actor.id)
        article.created_at = now
        action = "created"
    else:
        if content_of(session, article) == checked:
            return SaveResult("unchanged", get_article(session, slug=slug))
        article.version += 1
        action = "updated"
    article.kind = checked.kind
    article.title = checked.title
    article.body = checked.body
    article.url = TEL + checked.phone if checked.phone else checked.url
    article.link_slug = checked.link
    article.tags = " ".join(checked.tags)
    article.status = checked.status
    article.review_on = checked.review_on
    article.updated_at = now
    session.add(article)
    session.flush()
    _set_codes(session, article.id or 0, checked)
    session.add(
        KbArticleVersion(
            article_id=article.id or 0,
            version=article.version,
            kind=article.kind,
            title=article.title,
            body=article.body,
            url=article.url,
            link_slug=article.link_slug,
            tags=article.tags,
            status=article.status,
            edited_by_id=actor.id,
            edited_at=now,
        )
    )
    session.flush()
    record_change(
        session, entity="kb_article", action=action, entity_id=article.id, agent_id=actor.id
    )
    return SaveResult(action, get_article(session, slug=slug))


def _set_codes(session: Session, article_id: int, content: ArticleContent) -> None:
    wanted = {resolve_code(session, CodeKind.PROBLEM, p).id for p in content.problem_codes} | {
        resolve_code(session, CodeKind.REASON, r).id for r in content.reason_codes
    }
    existing = {
        row.code_id: row
        for row in session.scalars(
            select(KbArticleCode).where(col(KbArticleCode.article_id) == article_id)
        ).all()
    }
    for code_id, row in existing.items():
        if code_id not in wanted:
            session.delete(row)
    for new_id in wanted - set(existing):
        session.add(KbArticleCode(article_id=article_id, code_id=new_id or 0))
    session.flush()


def reindex_kb(session: Session) -> int:
    """Rebuild the search index from the articles; returns how many articles it holds.

    The index follows every insert, update and delete by itself (triggers on SQLite, a
    generated columns on PostgreSQL); this repairs it after anything that bypassed them,
    such as a SQLite table copy that dropped the triggers.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('rebuild')"))
    else:
        session.execute(text("REINDEX INDEX ix_kb_article_title"))
        session.execute(text("REINDEX INDEX ix_kb_article_search"))
    count: int = session.execute(text("SELECT count(*) FROM kb_article")).scalar_one()
    return count
