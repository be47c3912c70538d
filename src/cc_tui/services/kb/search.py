"""Knowledge-base search (M11): full text with ranking, suggestions for an incident, and
the record of every search made for an incident.

One function, `search`, serves both databases: FTS5 (bm25) on SQLite, the weighted
`search_vector` with a GIN index on PostgreSQL (migration 0005). Whatever the agent typed
is cut into words first (`kb_text.query_terms`); the full-text query is then built from
those words alone, each quoted, and passed as a bound parameter, so operators, quotes or
SQL in the input are plain words and never syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy import text as sql
from sqlmodel import Session, col

from cc_tui.db.changes import record_change
from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Code, Incident, KbArticle, KbSearch
from cc_tui.models.enums import OPEN_STATUSES, ArticleStatus, CodeKind, Status, SystemEvent
from cc_tui.services.context import Actor
from cc_tui.services.directory.codes import resolve_code, resolve_pair
from cc_tui.services.incidents.base import get_incident, number
from cc_tui.services.incidents.event_log import system_event
from cc_tui.services.kb.articles import article_row, normalize_tags, parse_kind, parse_status
from cc_tui.services.kb.text import STOPWORDS, QueryTerms, clean_line, query_terms, snippet

if TYPE_CHECKING:
    from sqlalchemy import Row

MAX_LIMIT = 100
# bm25 weights per FTS5 column (title, body, tags): a word in the title counts most.
SQLITE_WEIGHTS = "10.0, 1.0, 4.0"
# ts_rank weights for D (body), C, B (tags), A (title).
PG_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"
# Suggestions from an incident's own words: at most this many, of at least 3 letters.
SUGGEST_TERMS = 12


@dataclass(frozen=True)
class KbHit:
    slug: str
    title: str
    kind: str
    snippet: str
    score: float


@dataclass(frozen=True)
class Suggestion:
    slug: str
    title: str
    kind: str
    snippet: str
    score: float
    # Why it is suggested: "problem code ...", "reason code ..." or "words".
    source: str


@dataclass(frozen=True)
class SearchRecord:
    id: int
    incident: str
    at: datetime
    agent: str
    query: str
    results: list[str]
    opened: str | None
    answered: bool


@dataclass(frozen=True)
class SearchRun:
    search: SearchRecord
    hits: list[KbHit]


@dataclass(frozen=True)
class _Filters:
    status: str | None
    kind: str | None
    tag: str | None
    code_id: int | None

    @property
    def narrowing(self) -> bool:
        return self.kind is not None or self.tag is not None or self.code_id is not None

    def sql(self) -> tuple[str, dict[str, object]]:
        parts: list[str] = []
        params: dict[str, object] = {}
        if self.status is not None:
            parts.append("a.status = :f_status")
            params["f_status"] = self.status
        if self.kind is not None:
            parts.append("a.kind = :f_kind")
            params["f_kind"] = self.kind
        if self.tag is not None:
            parts.append("(' ' || a.tags || ' ') LIKE :f_tag ESCAPE '\\'")
            escaped = self.tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["f_tag"] = f"% {escaped} %"
        if self.code_id is not None:
            parts.append(
                "EXISTS (SELECT 1 FROM kb_article_code c "
                "WHERE c.article_id = a.id AND c.code_id = :f_code)"
            )
            params["f_code"] = self.code_id
        return "".join(f" AND {p}" for p in parts), params


def _filters(
    session: Session,
    *,
    kind: str | None,
    problem_code: str | None,
    tag: str | None,
    status: str | None,
) -> _Filters:
    tags = normalize_tags([tag]) if tag else ()
    code_id = None
    if problem_code:
        code_id = resolve_code(session, CodeKind.PROBLEM, problem_code).id
    return _Filters(
        status=parse_status(status).value if status is not None else None,
        kind=parse_kind(kind).value if kind else None,
        tag=tags[0] if tags else None,
        code_id=code_id,
    )


def search(
    session: Session,
    *,
    query: str,
    kind: str | None = None,
    problem_code: str | None = None,
    tag: str | None = None,
    limit: int = 20,
    prefix_last: bool = True,
    status: str | None = ArticleStatus.PUBLISHED,
) -> list[KbHit]:
    """Articles matching every word of `query`, best first (title words count most).

    The last word matches as a prefix while it is being typed (see `query_terms`). With no
    words to search for, the filters alone list articles by title; with neither, nothing.
    `status=None` searches drafts and retired articles too.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    filters = _filters(session, kind=kind, problem_code=problem_code, tag=tag, status=status)
    terms = query_terms(query, prefix_last=prefix_last)
    if terms.empty:
        if not filters.narrowing:
            return []
        ranked = _listed(session, filters, limit)
    else:
        ranked = _ranked(session, terms, filters, limit, any_word=False)
    return [KbHit(*row) for row in _hits(session, ranked, terms)]


def _listed(session: Session, filters: _Filters, limit: int) -> list[tuple[int, float]]:
    where, params = filters.sql()
    rows = session.execute(
        sql(f"SELECT a.id FROM kb_article a WHERE 1 = 1{where} ORDER BY a.title, a.id LIMIT :n"),
        {**params, "n": limit},
    ).all()
    return [(row[0], 0.0) for row in rows]


def _ranked(
    session: Session, terms: QueryTerms, filters: _Filters, limit: int, *, any_word: bool
) -> list[tuple[int, float]]:
    """(article id, score) of the best matches; `any_word` matches any instead of all.

    Two tiers: articles whose title and tags hold the words come first, then those that
    hold them anywhere. Within a tier at most `CANDIDATES` matches are ranked (all of them,
    unless the words are in a large part of the knowledge base): that keeps a search as you
    type within a few milliseconds whatever was typed.
    """
    if session.get_bind().dialect.name == "sqlite":
        return _ranked_sqlite(session, terms, filters, limit, any_word)
    return _ranked_pg(session, terms, filters, limit, any_word)


# Matches ranked per tier at most (see `_ranked`).
CANDIDATES = 2000


def _ranked_sqlite(
    session: Session, terms: QueryTerms, filters: _Filters, limit: int, any_word: bool
) -> list[tuple[int, float]]:
    match = _fts5_query(terms, any_word=any_word)
    where, params = filters.sql()
    found: list[tuple[int, float]] = []
    seen: set[int] = set()
    for expression in (f"{{title tags}} : ({match})", match):
        # Ranked inside FTS5 alone; the article rows (large: the body) are read only for
        # the best candidates, to apply the filters.
        rows = session.execute(
            sql(
                f"SELECT rowid, bm25(kb_article_fts, {SQLITE_WEIGHTS}) FROM kb_article_fts "
                "WHERE kb_article_fts MATCH :q LIMIT :cap"
            ),
            {"q": expression, "cap": CANDIDATES},
        ).all()
        ranked = sorted((float(r), rowid) for rowid, r in rows if rowid not in seen)
        seen.update(rowid for _r, rowid in ranked)
        # Most candidates pass the filters: look up a few more than needed, then more.
        start, size = 0, limit - len(found) + 10
        while start < len(ranked):
            chunk = ranked[start : start + size]
            start, size = start + size, 200
            ids = ",".join(str(int(rowid)) for _r, rowid in chunk)
            kept = set(
                session.execute(
                    sql(f"SELECT a.id FROM kb_article a WHERE a.id IN ({ids}){where}"), params
                ).scalars()
            )
            found += [(rowid, round(-r, 4)) for r, rowid in chunk if rowid in kept]
            if len(found) >= limit:
                return found[:limit]
    return found


def _ranked_pg(
    session: Session, terms: QueryTerms, filters: _Filters, limit: int, any_word: bool
) -> list[tuple[int, float]]:
    tsquery = _pg_query(session, terms, any_word=any_word)
    if tsquery is None:
        return []
    where, params = filters.sql()
    found: list[tuple[int, float]] = []
    # Title tier on the small title vector; the body tier leaves out what the first found.
    for vector, extra in (
        ("a.title_vector", ""),
        ("a.search_vector", " AND NOT (a.title_vector @@ q)"),
    ):
        rows = session.execute(
            sql(
                "SELECT id, r FROM ("
                f"SELECT a.id, ts_rank('{PG_WEIGHTS}'::float4[], {vector}, q) AS r "
                "FROM kb_article a, to_tsquery('simple', :q) q "
                f"WHERE {vector} @@ q{extra}{where} LIMIT :cap"
                ") ranked ORDER BY r DESC, id LIMIT :n"
            ),
            {**params, "q": tsquery, "cap": CANDIDATES, "n": limit - len(found)},
        ).all()
        found += [(row[0], round(float(row[1]), 4)) for row in rows]
        if len(found) >= limit:
            break
    return found


def _fts5_query(terms: QueryTerms, *, any_word: bool) -> str:
    """An FTS5 query of quoted words (a word holds only letters and digits: no quotes)."""
    last = len(terms.words) - 1
    parts = [
        f'"{word}"' + ("*" if terms.prefix_last and i == last else "")
        for i, word in enumerate(terms.words)
    ]
    return (" OR " if any_word else " AND ").join(parts)


def _pg_query(session: Session, terms: QueryTerms, *, any_word: bool) -> str | None:
    """A tsquery of quoted words, folded by the same `kb_fold` the index uses."""
    folded = session.execute(sql("SELECT kb_fold(:t)"), {"t": " ".join(terms.words)}).scalar()
    # kb_fold turned every ASCII punctuation mark into a space; drop what is left of quotes.
    words = [w.replace("'", "").replace("\\", "") for w in (folded or "").split()]
    words = [w for w in words if w]
    if not words:
        return None
    parts = [f"'{w}'" for w in words]
    if terms.prefix_last:
        parts[-1] += ":*"
    return (" | " if any_word else " & ").join(parts)


def _hits(
    session: Session, ranked: list[tuple[int, float]], terms: QueryTerms
) -> list[tuple[str, str, str, str, float]]:
    if not ranked:
        return []
    ids = [article_id for article_id, _score in ranked]
    rows = {
        row.id: row
        for row in session.execute(
            select(
                col(KbArticle.id),
                col(KbArticle.slug),
                col(KbArticle.title),
                col(KbArticle.kind),
                col(KbArticle.body),
            ).where(col(KbArticle.id).in_(ids))
        ).all()
    }
    result = []
    for article_id, score in ranked:
        row = rows.get(article_id)
        if row is not None:
            result.append((row.slug, row.title, row.kind, snippet(row.body, terms), score))
    return result


# -- suggestions -----------------------------------------------------------------------------


def suggest(
    session: Session,
    *,
    incident_ref: str | int | None = None,
    text: str | None = None,
    problem_code: str | None = None,
    reason: str | None = None,
    limit: int = 10,
) -> list[Suggestion]:
    """Articles for an incident: those linked to its problem code, then to its specific and
    general reason code, then full-text matches on its title and description.

    `text`, `problem_code` and `reason` add what the intake form holds before it is saved;
    codes that do not resolve (a half-typed field) are left out, not refused.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    code_ids: list[tuple[int, str]] = []
    words: list[str] = []
    if incident_ref is not None:
        incident = get_incident(session, incident_ref)
        for code_id in (
            incident.problem_code_id,
            incident.reason_specific_id,
            incident.reason_general_id,
        ):
            if code_id is not None:
                code = session.get(Code, code_id)
                if code is not None:
                    code_ids.append((code_id, f"{_code_label(code.kind)} {code.path}"))
        words += [incident.title or "", incident.description or "", incident.question or ""]
    code_ids = _form_codes(session, problem_code, reason) + code_ids
    words.append(text or "")

    seen: set[int] = set()
    found: list[Suggestion] = []
    for code_id, label in dict.fromkeys(code_ids):
        for row in _linked(session, code_id):
            if row.id not in seen and len(found) < limit:
                seen.add(row.id)
                found.append(
                    Suggestion(
                        row.slug, row.title, row.kind, snippet(row.body, _NO_TERMS), 1.0, label
                    )
                )
    if len(found) >= limit:
        return found
    terms = _incident_terms(" ".join(words))
    if terms.empty:
        return found
    filters = _Filters(ArticleStatus.PUBLISHED.value, None, None, None)
    ranked = _ranked(session, terms, filters, limit + len(seen), any_word=True)
    for slug, title, kind, snip, score in _hits(
        session, [r for r in ranked if r[0] not in seen], terms
    ):
        if len(found) < limit:
            found.append(Suggestion(slug, title, kind, snip, score, "words"))
    return found


_NO_TERMS = QueryTerms((), False)


@dataclass(frozen=True)
class Answers:
    """What the knowledge base offers for a query: search hits, or (no words typed yet,
    for an incident) suggestions."""

    query: str
    hits: list[KbHit] | list[Suggestion]
    suggestions: bool


def search_or_suggest(
    session: Session,
    *,
    query: str,
    incident_ref: str | int | None = None,
    text: str | None = None,
    problem_code: str | None = None,
    reason: str | None = None,
    limit: int = 20,
) -> Answers:
    """`search` for the query; with no words in it and an incident to suggest for,
    `suggest` (from the incident and what its form holds: `text`, `problem_code`, `reason`)."""
    if query_terms(query).empty and incident_ref is not None:
        found = suggest(
            session,
            incident_ref=incident_ref,
            text=text,
            problem_code=problem_code,
            reason=reason,
            limit=limit,
        )
        return Answers(query, found, True)
    return Answers(query, search(session, query=query, limit=limit), False)


def _code_label(kind: str) -> str:
    return "problem code" if kind == CodeKind.PROBLEM else "reason code"


def _form_codes(
    session: Session, problem_code: str | None, reason: str | None
) -> list[tuple[int, str]]:
    codes: list[tuple[int, str]] = []
    try:
        if problem_code:
            code = resolve_code(session, CodeKind.PROBLEM, problem_code)
            codes.append((code.id or 0, f"problem code {code.path}"))
    except (NotFound, UsageError):
        pass
    try:
        if reason:
            general, specific = resolve_pair(session, CodeKind.REASON, reason)
            for found in (specific, general):
                if found is not None:
                    codes.append((found.id or 0, f"reason code {found.path}"))
    except (NotFound, UsageError):
        pass
    return codes


def _linked(session: Session, code_id: int) -> Sequence[Row[Any]]:
    return session.execute(
        sql(
            "SELECT a.id, a.slug, a.title, a.kind, a.body FROM kb_article a "
            "JOIN kb_article_code c ON c.article_id = a.id "
            "WHERE c.code_id = :code AND a.status = :status ORDER BY a.title, a.id LIMIT :n"
        ),
        {"code": code_id, "status": ArticleStatus.PUBLISHED.value, "n": MAX_LIMIT},
    ).all()


def _incident_terms(words: str) -> QueryTerms:
    """The distinct telling words (three letters or more, no stop words) of an incident."""
    every = query_terms(words, prefix_last=False, max_terms=10_000).words
    telling = tuple(w for w in every if len(w) >= 3 and w not in STOPWORDS)
    return QueryTerms(telling[:SUGGEST_TERMS], False)


# -- searches recorded on an incident -------------------------------------------------------


@dataclass(frozen=True)
class SearchContext:
    """The incident searches are recorded on, as the knowledge-base screen shows it."""

    id: int
    number: str
    status: str
    title: str | None
    searches: int
    # Searches are recorded while the contact is in progress or the incident is open.
    active: bool


def search_context(session: Session, *, incident_ref: str | int) -> SearchContext:
    incident = get_incident(session, incident_ref)
    active = incident.status == Status.DRAFT or incident.status in OPEN_STATUSES
    return SearchContext(
        incident.id or 0,
        number(incident.id or 0),
        incident.status,
        incident.title,
        incident.kb_searches,
        active,
    )


def _searchable_incident(session: Session, incident_ref: str | int) -> Incident:
    incident = get_incident(session, incident_ref)
    if incident.status == Status.ABANDONED:
        raise RuleViolation(f"{incident.number} was abandoned; searches are not recorded on it")
    return incident


def _record(session: Session, search: KbSearch) -> SearchRecord:
    agent = session.get(Agent, search.agent_id)
    opened = session.get(KbArticle, search.opened_article_id) if search.opened_article_id else None
    return SearchRecord(
        id=search.id or 0,
        incident=number(search.incident_id or 0),
        at=search.at,
        agent=agent.login if agent else "?",
        query=search.query,
        results=list(search.results or []),
        opened=opened.slug if opened else None,
        answered=search.answered,
    )


def record_search(
    session: Session,
    *,
    actor: Actor,
    incident_ref: str | int,
    query: str,
    results: Sequence[str],
) -> SearchRecord:
    """Record a search made for an incident (a draft contact counts too): the query, the
    articles shown, a KbSearch timeline event, and one more search on the incident."""
    incident = _searchable_incident(session, incident_ref)
    shown = [clean_line(str(slug), 120) for slug in list(results)[:50]]
    search_row = KbSearch(
        incident_id=incident.id,
        agent_id=actor.id,
        query=clean_line(query, 500),
        results=shown,
    )
    session.add(search_row)
    # Not an edit of the incident: no new version, so nobody's open form goes stale.
    session.execute(
        update(Incident)
        .where(col(Incident.id) == incident.id)
        .values(kb_searches=Incident.kb_searches + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(incident, ["kb_searches"])
    count = len(shown)
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.KB_SEARCH,
        author_id=actor.id,
        text=f'KB search "{clean_line(query, 120)}": {count} result{"" if count == 1 else "s"}',
        data={"search_id": search_row.id, "query": search_row.query, "results": shown},
    )
    record_change(
        session,
        entity="kb_search",
        action="searched",
        entity_id=search_row.id,
        incident_id=incident.id,
        agent_id=actor.id,
    )
    return _record(session, search_row)


def search_on_incident(
    session: Session,
    *,
    actor: Actor,
    incident_ref: str | int,
    query: str,
    kind: str | None = None,
    problem_code: str | None = None,
    tag: str | None = None,
    limit: int = 20,
    prefix_last: bool = True,
) -> SearchRun:
    """`search`, recorded on the incident it was made for."""
    _searchable_incident(session, incident_ref)
    hits = search(
        session,
        query=query,
        kind=kind,
        problem_code=problem_code,
        tag=tag,
        limit=limit,
        prefix_last=prefix_last,
    )
    record = record_search(
        session,
        actor=actor,
        incident_ref=incident_ref,
        query=query,
        results=[h.slug for h in hits],
    )
    return SearchRun(record, hits)


def record_shown(
    session: Session,
    *,
    actor: Actor,
    incident_ref: str | int,
    query: str,
    results: Sequence[str],
    search_id: int | None = None,
    opened: str | None = None,
) -> int:
    """The search an agent saw for an incident, recorded once (`search_id` when it already
    is), and the article opened from it; returns the search's id."""
    if search_id is None:
        search_id = record_search(
            session, actor=actor, incident_ref=incident_ref, query=query, results=results
        ).id
    if opened is not None:
        record_opened(session, actor=actor, search_id=search_id, slug=opened)
    return search_id


def _search_row(session: Session, search_id: int) -> KbSearch:
    row = session.get(KbSearch, search_id)
    if row is None:
        raise NotFound(f"no KB search {search_id}")
    return row


def record_opened(session: Session, *, actor: Actor, search_id: int, slug: str) -> SearchRecord:
    """The agent opened an article from a recorded search's results."""
    search_row = _search_row(session, search_id)
    article = article_row(session, slug)
    if search_row.opened_article_id == article.id:
        return _record(session, search_row)
    search_row.opened_article_id = article.id
    session.add(search_row)
    incident = session.get(Incident, search_row.incident_id)
    if incident is not None:
        system_event(
            session,
            incident=incident,
            kind=SystemEvent.KB_SEARCH,
            author_id=actor.id,
            text=f"opened KB article {article.slug}: {article.title}",
            data={"search_id": search_row.id, "opened": article.slug},
        )
    record_change(
        session,
        entity="kb_search",
        action="opened",
        entity_id=search_row.id,
        incident_id=search_row.incident_id,
        agent_id=actor.id,
    )
    return _record(session, search_row)


def mark_answered(
    session: Session,
    *,
    actor: Actor,
    incident_ref: str | int,
    slug: str,
    search_id: int | None = None,
) -> SearchRecord:
    """Record that this article answered the caller's question.

    It is attached to the given search, else to the latest search on the incident that
    opened this article, else to the latest that opened none; without any, the look-up
    itself is recorded as a search.
    """
    incident = _searchable_incident(session, incident_ref)
    article = article_row(session, slug)
    row: KbSearch | None = None
    if search_id is not None:
        row = _search_row(session, search_id)
        if row.incident_id != incident.id:
            raise RuleViolation(f"KB search {search_id} was not made for {incident.number}")
    else:
        searches = session.scalars(
            select(KbSearch)
            .where(col(KbSearch.incident_id) == incident.id)
            .order_by(col(KbSearch.id).desc())
            .limit(50)
        ).all()
        row = next((s for s in searches if s.opened_article_id == article.id), None)
        if row is None:
            row = next((s for s in searches if s.opened_article_id is None), None)
    if row is None:
        created = record_search(
            session, actor=actor, incident_ref=incident.id or 0, query="", results=[article.slug]
        )
        row = _search_row(session, created.id)
    if row.answered and row.opened_article_id == article.id:
        return _record(session, row)
    row.opened_article_id = article.id
    row.answered = True
    session.add(row)
    system_event(
        session,
        incident=incident,
        kind=SystemEvent.KB_SEARCH,
        author_id=actor.id,
        text=f"answered from KB article {article.slug}: {article.title}",
        data={"search_id": row.id, "opened": article.slug, "answered": True},
    )
    record_change(
        session,
        entity="kb_search",
        action="answered",
        entity_id=row.id,
        incident_id=incident.id,
        agent_id=actor.id,
    )
    return _record(session, row)


def list_searches(session: Session, *, incident_ref: str | int) -> list[SearchRecord]:
    """The searches recorded on an incident, oldest first."""
    incident = get_incident(session, incident_ref)
    rows = session.scalars(
        select(KbSearch).where(col(KbSearch.incident_id) == incident.id).order_by(col(KbSearch.id))
    ).all()
    return [_record(session, row) for row in rows]
