"""Knowledge-base articles as a folder of Markdown files, one article per file.

The slug is the file name without `.md`. The file starts with YAML front matter between
two `---` lines:

    ---
    title: Reset a jammed printer
    kind: script            # script, phone, url or link
    tags: [printer, paper]
    problem_codes: [FIELD/PRINTERS/LASER/PICKUP]
    reason_codes: [HW/PRINT]
    url: https://...        # url articles
    phone: +49 30 1234567   # phone articles (also accepted: url: tel:...)
    link: other-slug        # link articles
    status: draft           # draft, published (the default) or retired
    review: 2026-06-30      # when the article is due for review
    ---
    The body, in Markdown.

Import is idempotent: an article whose content is unchanged gets no new version. Each file
is imported on its own (a savepoint each): a bad file is reported and skipped, the others
still import. Export writes the same format, so export -> import changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import exc
from sqlmodel import Session

from cc_tui.errors import CcError, UsageError
from cc_tui.models.enums import ArticleKind, ArticleStatus
from cc_tui.services.context import Actor
from cc_tui.services.files import write_file_atomically
from cc_tui.services.kb.articles import (
    ArticleContent,
    ArticleDetail,
    get_article,
    list_articles,
    normalize_body,
    save_article,
)
from cc_tui.services.kb.text import valid_slug

MAX_FILE_BYTES = 1_000_000
KEYS = (
    "title",
    "kind",
    "tags",
    "problem_codes",
    "reason_codes",
    "url",
    "phone",
    "link",
    "status",
    "review",
)


@dataclass(frozen=True)
class ImportOutcome:
    """What import did with one file: created, updated, unchanged or error (with why)."""

    file: str
    slug: str | None
    action: str
    version: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class ExportResult:
    folder: str
    files: list[str]


# -- reading a file --------------------------------------------------------------------------


def parse_article(text: str) -> ArticleContent:
    """The content of one article file's text, or UsageError saying what is wrong."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise UsageError("no front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise UsageError("the front matter is not closed by a '---' line")
    front = _load_yaml("\n".join(lines[1:end]))
    unknown = sorted(str(k) for k in front if k not in KEYS)
    if unknown:
        raise UsageError(f"unknown front-matter key {', '.join(unknown)}; known: {', '.join(KEYS)}")
    body = normalize_body("\n".join(lines[end + 1 :]))
    title = _text(front, "title")
    kind = _text(front, "kind")
    if not title:
        raise UsageError("the front matter has no title")
    if not kind:
        raise UsageError(
            f"the front matter has no kind ({', '.join(k.value for k in ArticleKind)})"
        )
    if isinstance(front.get("phone"), int | float):
        # YAML reads 030123 as a number (dropping the 0): a number must be quoted.
        raise UsageError('write the phone number in quotes, e.g. phone: "030 1234567"')
    return ArticleContent(
        kind=kind,
        title=title,
        body=body,
        url=_text(front, "url"),
        phone=_text(front, "phone"),
        link=_text(front, "link"),
        tags=tuple(_list(front, "tags")),
        problem_codes=tuple(_list(front, "problem_codes")),
        reason_codes=tuple(_list(front, "reason_codes")),
        status=_text(front, "status") or ArticleStatus.PUBLISHED,
        review_on=_date(front, "review"),
    )


def _load_yaml(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise UsageError(f"the front matter is not valid YAML: {problem}{where}") from None
    except (ValueError, OverflowError) as error:
        # A value YAML reads as a date that is no date (`review: 2026-02-30`).
        raise UsageError(f"the front matter holds an impossible value: {error}") from None
    if not isinstance(data, dict):
        raise UsageError("the front matter must be 'key: value' lines")
    return data


def _text(front: dict[str, Any], key: str) -> str | None:
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UsageError(f"{key} must be text, not {value!r}")
    return str(value)


def _list(front: dict[str, Any], key: str) -> list[str]:
    value = front.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        raise UsageError(f"{key} must be a list of text, like [a, b]")
    return [str(v) for v in value]


def _date(front: dict[str, Any], key: str) -> date | None:
    value = front.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{key} must be a date YYYY-MM-DD, not {value!r}") from None


def _read(path: Path) -> tuple[str, ArticleContent]:
    slug = path.stem
    if not valid_slug(slug):
        raise UsageError(
            "the file name is not a slug (lower-case a-z, 0-9, '-', '_'; max 120, then .md)"
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"the file is larger than {MAX_FILE_BYTES // 1000} kB")
        raw = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the file: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"the file is not UTF-8 text (byte {error.start})") from None
    return slug, parse_article(text)


# -- import ----------------------------------------------------------------------------------


def import_folder(session: Session, *, actor: Actor, folder: str | Path) -> list[ImportOutcome]:
    """Import every `*.md` file of a folder; one outcome per file, in file-name order."""
    actor.require_supervisor("import knowledge-base articles")
    root = Path(folder)
    try:
        if not root.is_dir():
            raise UsageError(f"not a folder: {_short(str(root))}")
        paths = sorted(p for p in root.iterdir() if p.suffix == ".md" and p.is_file())
    except OSError as error:
        # A name too long for the file system, a folder we may not read, ...
        raise UsageError(f"cannot read {_short(str(root))}: {error.strerror or error}") from None
    outcomes: dict[str, ImportOutcome] = {}
    parsed: list[tuple[str, str, ArticleContent]] = []
    for path in paths:
        try:
            slug, content = _read(path)
        except CcError as error:
            outcomes[path.name] = ImportOutcome(path.name, None, "error", error=error.message)
            continue
        parsed.append((path.name, slug, content))

    # Articles that link to another come after the others, so a target in the same folder
    # exists when its link is saved; links to links wait for another pass.
    pending = sorted(parsed, key=lambda item: item[2].kind == ArticleKind.LINK)
    while pending:
        failed: list[tuple[str, str, ArticleContent]] = []
        for name, slug, content in pending:
            outcome = _import_one(session, actor, name, slug, content)
            outcomes[name] = outcome
            if outcome.action == "error" and content.kind == ArticleKind.LINK:
                failed.append((name, slug, content))
        if len(failed) in (0, len(pending)):
            break
        pending = failed
    return [outcomes[name] for name in sorted(outcomes)]


def _short(name: str) -> str:
    return name if len(name) <= 200 else name[:200] + "..."


def _import_one(
    session: Session, actor: Actor, name: str, slug: str, content: ArticleContent
) -> ImportOutcome:
    try:
        with session.begin_nested():
            result = save_article(session, actor=actor, slug=slug, content=content, create=None)
    except CcError as error:
        return ImportOutcome(name, slug, "error", error=error.message)
    except exc.IntegrityError as error:
        detail = str(error.orig).strip().splitlines()[0] if error.orig else "integrity error"
        return ImportOutcome(name, slug, "error", error=f"refused by the database: {detail}")
    return ImportOutcome(name, slug, result.action, version=result.article.version)


# -- export ----------------------------------------------------------------------------------


def render_article(article: ArticleDetail) -> str:
    """One article as the text of its Markdown file (front matter, then the body)."""
    import yaml

    front: dict[str, Any] = {"title": article.title, "kind": article.kind}
    if article.tags:
        front["tags"] = list(article.tags)
    if article.problem_codes:
        front["problem_codes"] = list(article.problem_codes)
    if article.reason_codes:
        front["reason_codes"] = list(article.reason_codes)
    if article.url:
        front["url"] = article.url
    if article.phone:
        front["phone"] = article.phone
    if article.link:
        front["link"] = article.link
    if article.status != ArticleStatus.PUBLISHED:
        front["status"] = article.status
    if article.review_on is not None:
        front["review"] = article.review_on
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    body = article.body + "\n" if article.body else ""
    return f"---\n{header}---\n{body}"


def export_folder(session: Session, *, folder: str | Path) -> ExportResult:
    """Write every article (all statuses, current versions) as `SLUG.md` into a folder."""
    root = Path(folder)
    try:
        if root.exists() and not root.is_dir():
            raise UsageError(f"{_short(str(root))} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"cannot create the folder {_short(str(root))}: {error.strerror or error}"
        ) from None
    written: list[str] = []
    after: str | None = None
    while True:
        page = list_articles(session, after_slug=after, limit=500)
        if not page:
            break
        for summary in page:
            article = get_article(session, slug=summary.slug)
            name = f"{article.slug}.md"
            content = render_article(article).encode("utf-8")
            write_file_atomically(root / name, content, overwrite=True)
            written.append(name)
        after = page[-1].slug
    return ExportResult(str(root), written)
