"""`cc-tui kb ...`: the knowledge base for scripts and administrators."""

from __future__ import annotations

import re
import sys
from datetime import date

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, local_time, note, state, table

app = typer.Typer(
    help="Knowledge base: add, edit, versions, import, export, search, show, suggest, answered.",
    no_args_is_help=True,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str | None) -> str:
    """Stored text for a terminal: no control characters (escape sequences) get through."""
    return _CONTROL.sub(" ", text or "")


def _hits_text(hits) -> str:
    if not hits:
        return "no articles found"
    return table(
        [[h.slug, h.kind, f"{h.score:g}", _safe(h.title), _safe(h.snippet)] for h in hits],
        ["slug", "kind", "score", "title", "snippet"],
    )


def _article_text(data: dict) -> str:
    lines = [
        f"{data['slug']}  {data['kind']}  {data['status']}  "
        f"v{data['version']} of {data['latest_version']}",
        f"title:   {_safe(data['title'])}",
    ]
    if data["tags"]:
        lines.append(f"tags:    {', '.join(data['tags'])}")
    codes = data["problem_codes"] + data["reason_codes"]
    if codes:
        lines.append(f"codes:   {', '.join(codes)}")
    for key in ("url", "phone", "link"):
        if data[key]:
            lines.append(f"{key + ':':<8} {_safe(data[key])}")
    if data["review_on"]:
        due = "  (review due)" if data["review_due"] else ""
        lines.append(f"review:  {data['review_on']}{due}")
    lines.append(f"edited:  {data['edited_at'][:16]} by {data['edited_by'] or '-'}")
    if data["body"]:
        lines += ["", _safe(data["body"])]
    return "\n".join(lines)


def _outcomes_text(outcomes) -> str:
    if not outcomes:
        return "no .md files found"
    return table(
        [
            [o.file, o.action, "" if o.version is None else o.version, _safe(o.error)]
            for o in outcomes
        ],
        ["file", "action", "version", "error"],
    )


def _search_record_text(record) -> str:
    state_ = "answered by" if record.answered else "opened"
    opened = f", {state_} {record.opened}" if record.opened else ""
    return f"{record.incident}: KB search {record.id} recorded{opened}"


def _read_body(path: str) -> str:
    from cc_tui.errors import UsageError

    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text", field="body") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}", field="body") from None


def _body_text(body_file: str | None, body: str | None) -> str | None:
    """The body from --body-file ('-': stdin) or --body; None when neither is given."""
    from cc_tui.errors import UsageError

    if body_file is not None and body is not None:
        raise UsageError("give --body-file or --body, not both", field="body")
    return _read_body(body_file) if body_file is not None else body


def _parse_date(value: str | None) -> date | None:
    from cc_tui.errors import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"review date is YYYY-MM-DD, not {value!r}", field="review") from None


def _show_data(session, slug: str, version: int | None = None) -> dict:
    from cc_tui.services.kb.articles import get_article, list_versions
    from cc_tui.services.serialize import jsonable

    data = jsonable(get_article(session, slug=slug, version=version))
    data["versions"] = jsonable(list_versions(session, slug=slug))
    return data


@app.command()
@command
def add(
    ctx: typer.Context,
    kind: str = typer.Option(..., help="script, phone, url or link"),
    title: str = typer.Option(..., help="The article's title."),
    body_file: str | None = typer.Option(
        None, "--body-file", help="Markdown file with the body ('-' reads stdin)."
    ),
    body: str | None = typer.Option(None, help="The body as text (instead of --body-file)."),
    url: str | None = typer.Option(None, help="url articles: the http(s) address."),
    phone: str | None = typer.Option(None, help="phone articles: the number to call."),
    link: str | None = typer.Option(None, help="link articles: the slug it points to."),
    tags: str | None = typer.Option(None, help="Comma-separated tags: a,b"),
    problem_code: list[str] = typer.Option(
        [], "--problem-code", help="Related service problem code (repeatable)."
    ),
    reason_code: list[str] = typer.Option(
        [], "--reason-code", help="Related reason code GENERAL[/SPECIFIC] (repeatable)."
    ),
    slug: str | None = typer.Option(None, help="Slug (default: made from the title)."),
    status: str = typer.Option("published", help="draft, published or retired"),
    review: str | None = typer.Option(None, help="Review date YYYY-MM-DD."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an article (version 1)."""
    from cc_tui.services.kb.articles import add_article

    text = _body_text(body_file, body) or ""
    review_on = _parse_date(review)
    with state(ctx).work() as (session, actor):
        article = add_article(
            session,
            actor=actor,
            kind=kind,
            title=title,
            body=text,
            url=url,
            phone=phone,
            link=link,
            tags=tags,
            problem_codes=problem_code,
            reason_codes=reason_code,
            slug=slug,
            status=status,
            review_on=review_on,
        )
        data = _show_data(session, article.slug)
    note(f"article {article.slug} added")
    emit(data, as_json=as_json, human=_article_text)


def _codes_option(values: list[str]) -> list[str] | None:
    """A repeatable code option for an edit: absent keeps the article's codes, given values
    replace them, and only empty values (`--problem-code ''`) clear them."""
    if not values:
        return None
    return [v for v in values if v.strip()]


@app.command()
@command
def edit(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The article's slug."),
    title: str | None = typer.Option(None, help="A new title."),
    body_file: str | None = typer.Option(
        None, "--body-file", help="Markdown file with the new body ('-' reads stdin)."
    ),
    body: str | None = typer.Option(None, help="The new body as text (instead of --body-file)."),
    url: str | None = typer.Option(None, help="url articles: the http(s) address."),
    phone: str | None = typer.Option(None, help="phone articles: the number to call."),
    link: str | None = typer.Option(None, help="link articles: the slug it points to."),
    kind: str | None = typer.Option(None, help="script, phone, url or link"),
    tags: str | None = typer.Option(None, help="Comma-separated tags a,b (replace; '' clears)."),
    problem_code: list[str] = typer.Option(
        [],
        "--problem-code",
        help="Related service problem code (repeatable; replaces the list, '' clears it).",
    ),
    reason_code: list[str] = typer.Option(
        [],
        "--reason-code",
        help="Related reason code GENERAL[/SPECIFIC] (repeatable; replaces the list, '' clears).",
    ),
    status: str | None = typer.Option(None, help="draft, published or retired"),
    review: str | None = typer.Option(None, help="Review date YYYY-MM-DD ('none' clears it)."),
    version: int | None = typer.Option(
        None, min=1, help="The version you edited: refused if someone saved a newer one."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Edit an article: a new version when something changed, else "unchanged"."""
    from cc_tui.errors import UsageError
    from cc_tui.services.kb.articles import update_article

    changes = (title, body_file, body, url, phone, link, kind, tags, status, review)
    if all(v is None for v in changes) and not problem_code and not reason_code:
        raise UsageError(
            "nothing to change: give at least one of --title, --body-file, --body, --url, "
            "--phone, --link, --kind, --tags, --problem-code, --reason-code, --status, --review"
        )
    text = _body_text(body_file, body)
    clear_review = review is not None and review.strip().lower() == "none"
    review_on = None if clear_review else _parse_date(review)
    with state(ctx).work() as (session, actor):
        result = update_article(
            session,
            actor=actor,
            slug=slug,
            expected_version=version,
            kind=kind,
            title=title,
            body=text,
            url=url,
            phone=phone,
            link=link,
            tags=tags,
            problem_codes=_codes_option(problem_code),
            reason_codes=_codes_option(reason_code),
            status=status,
            review_on=review_on,
            clear_review=clear_review,
        )
        data = _show_data(session, result.article.slug)
    data["action"] = result.action
    note(f"article {data['slug']} {result.action} (version {data['version']})")
    emit(data, as_json=as_json, human=_article_text)


def _versions_text(rows, zone) -> str:
    return table(
        [
            [
                v.version,
                local_time(v.edited_at, zone),
                v.edited_by or "-",
                v.status,
                _safe(v.title),
            ]
            for v in rows
        ],
        ["version", "edited_at", "edited_by", "status", "title"],
    )


@app.command()
@command
def versions(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The article's slug."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List an article's versions, newest first (read one with `kb show --version N`)."""
    from cc_tui.services.kb.articles import list_versions

    st = state(ctx)
    with st.work(write=False) as (session, _actor):
        rows = list_versions(session, slug=slug)
    zone = st.settings.display_zone
    emit(rows, as_json=as_json, human=lambda r: _versions_text(r, zone))


@app.command("import")
@command
def import_(
    ctx: typer.Context,
    folder: str = typer.Argument(..., help="Folder of SLUG.md files with YAML front matter."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a folder of Markdown articles; unchanged articles get no new version.

    Exits 1 (after the report) when a file could not be imported.
    """
    from cc_tui.services.kb.files import import_folder

    with state(ctx).work() as (session, actor):
        outcomes = import_folder(session, actor=actor, folder=folder)
    emit(outcomes, as_json=as_json, human=_outcomes_text)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    note(", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing imported")
    if counts.get("error"):
        raise typer.Exit(1)


@app.command()
@command
def export(
    ctx: typer.Context,
    folder: str = typer.Argument(..., help="Folder to write SLUG.md files into."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export every article as a Markdown file with front matter (the import format)."""
    from cc_tui.services.kb.files import export_folder

    with state(ctx).work(write=False) as (session, _actor):
        result = export_folder(session, folder=folder)
    emit(
        result,
        as_json=as_json,
        human=lambda r: f"exported {len(r.files)} articles to {r.folder}",
    )


@app.command()
@command
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="Words to find; the last may be a prefix."),
    kind: str | None = typer.Option(None, help="Only this kind: script, phone, url, link."),
    tag: str | None = typer.Option(None, help="Only articles with this tag."),
    problem_code: str | None = typer.Option(None, help="Only articles tied to this code."),
    limit: int = typer.Option(20, min=1, max=100, help="At most this many results."),
    incident: str | None = typer.Option(
        None, help="Record the search on this incident (INC-1042 or 1042)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the published articles, best match first."""
    from cc_tui.services.kb.search import search as run_search
    from cc_tui.services.kb.search import search_on_incident

    record = None
    with state(ctx).work(write=incident is not None) as (session, actor):
        if incident is not None:
            run = search_on_incident(
                session,
                actor=actor,
                incident_ref=incident,
                query=query,
                kind=kind,
                problem_code=problem_code,
                tag=tag,
                limit=limit,
            )
            hits, record = run.hits, run.search
        else:
            hits = run_search(
                session, query=query, kind=kind, problem_code=problem_code, tag=tag, limit=limit
            )
    if record is not None:
        note(f"recorded on {record.incident} as KB search {record.id}")
    emit(hits, as_json=as_json, human=_hits_text)


@app.command()
@command
def show(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The article's slug."),
    version: int | None = typer.Option(None, min=1, help="An earlier version by its number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an article (the current version unless --version), with its version list."""
    with state(ctx).work(write=False) as (session, _actor):
        data = _show_data(session, slug, version)
    emit(data, as_json=as_json, human=_article_text)


@app.command()
@command
def suggest(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    limit: int = typer.Option(10, min=1, max=100),
    as_json: bool = JSON_OPTION,
) -> None:
    """Articles for an incident: tied to its codes first, then matching its words."""
    from cc_tui.services.kb.search import suggest as run_suggest

    with state(ctx).work(write=False) as (session, _actor):
        found = run_suggest(session, incident_ref=ref, limit=limit)
    emit(
        found,
        as_json=as_json,
        human=lambda rows: (
            table(
                [[s.slug, s.kind, s.source, _safe(s.title)] for s in rows],
                ["slug", "kind", "why", "title"],
            )
            if rows
            else "no suggestions"
        ),
    )


@app.command()
@command
def answered(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="INC-1042 or 1042"),
    slug: str = typer.Argument(..., help="The article that answered the caller."),
    search_id: int | None = typer.Option(
        None, "--search", help="The recorded search it came from."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record on the incident that this article answered the caller."""
    from cc_tui.services.kb.search import mark_answered

    with state(ctx).work() as (session, actor):
        record = mark_answered(
            session, actor=actor, incident_ref=ref, slug=slug, search_id=search_id
        )
    emit(record, as_json=as_json, human=_search_record_text)


@app.command()
@command
def reindex(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Rebuild the search index from the articles (admin; a repair, rarely needed)."""
    from cc_tui.services.kb.articles import reindex_kb

    with state(ctx).work() as (session, actor):
        actor.require_admin("rebuild the knowledge-base index")
        count = reindex_kb(session)
    emit({"articles": count}, as_json=as_json, human=lambda d: f"{d['articles']} articles indexed")
