"""Plain-text rules of the knowledge base: query words, snippets, script steps, article links.

Pure functions (no database, no UI), shared by the search service and the console.

- A query is cut into words (letters and digits; everything else separates words), so
  quotes, operators, brackets or SQL in it are never passed on as syntax.
- A call script's steps are its top-level numbered items (`1.`, `2.`, ...); a script
  without numbered items has its `##` sections as steps; otherwise it is one step.
- An article links to another with a Markdown link to `kb:SLUG` (or `SLUG.md`, as written
  in a folder of Markdown files).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cc_tui.normalize import fold

# Long input is cut before any work is done on it; a search uses its first words.
MAX_QUERY_CHARS = 2000
MAX_TERMS = 8
MAX_TERM_CHARS = 60
# A one-letter word as a prefix would match nearly everything: it is matched whole.
MIN_PREFIX_CHARS = 2

_WORD = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,119}$")
_LINK = re.compile(r"\[([^\]\n]{0,300})\]\(\s*<?([^)\s>]{1,200})>?(?:\s+\"[^\"]*\")?\s*\)")
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+?\d[\d \t()/.\-]{4,}\d(?!\w)")
_NUMBERED = re.compile(r"^(\d{1,3})[.)]\s+\S")
_SECTION = re.compile(r"^##\s+\S")


@dataclass(frozen=True)
class QueryTerms:
    """The words of a query, lower-case, in order; the last one may be a prefix."""

    words: tuple[str, ...]
    prefix_last: bool

    @property
    def empty(self) -> bool:
        return not self.words


def query_terms(text: str, *, prefix_last: bool = True, max_terms: int = MAX_TERMS) -> QueryTerms:
    """Cut what the agent typed into search words.

    The last word counts as a prefix while it is still being typed: `prefix_last` is set
    and nothing but letters/digits follows it.
    """
    # NFKC: full-width letters typed with an input method are the plain ones.
    text = unicodedata.normalize("NFKC", (text or "")[:MAX_QUERY_CHARS]).casefold()
    matches = list(_WORD.finditer(text))
    words: list[str] = []
    for match in matches:
        word = match.group()[:MAX_TERM_CHARS]
        if word not in words:
            words.append(word)
        if len(words) == max_terms:
            break
    if not words:
        return QueryTerms((), False)
    last = matches[-1]
    still_typing = (
        prefix_last
        and words[-1] == last.group()[:MAX_TERM_CHARS]
        and last.end() == len(text)
        and len(words[-1]) >= MIN_PREFIX_CHARS
    )
    return QueryTerms(tuple(words), still_typing)


def find_phone(text: str) -> str | None:
    """The first phone number written in a text (international `+...` ones preferred)."""
    found = [m.group() for m in _PHONE_IN_TEXT.finditer(text or "")]
    found = [n for n in found if 6 <= sum(c.isdigit() for c in n) <= 15]
    international = [n for n in found if n.startswith("+")]
    return " ".join((international or found or [""])[0].split()) or None


def clean_line(text: str, limit: int = 1000) -> str:
    """One line of untrusted text for a log or a timeline: no control characters."""
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit]


def has_control_chars(text: str) -> bool:
    """Control characters other than tab and newline (a body is Markdown text, not bytes)."""
    return _CONTROL.search(text.replace("\r\n", "\n")) is not None


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, for snippets: link targets and markup dropped."""
    text = _LINK.sub(lambda m: m.group(1), markdown)
    text = re.sub(r"[`*_~]+", "", text)
    text = re.sub(r"[>#|]+", " ", text)
    text = re.sub(r"^\s*[-+]\s+", " ", text, flags=re.MULTILINE)
    return clean_line(text, limit=len(text) + 1)


def snippet(body: str, terms: QueryTerms, *, width: int = 160) -> str:
    """About `width` characters of the body around the first word that matched."""
    text = plain_text(body[:50_000])
    if not text:
        return ""
    wanted = [fold(w) for w in terms.words]
    last_prefix = fold(terms.words[-1]) if terms.prefix_last and terms.words else None
    start = 0
    # Most hits matched in the title: one pass over the folded text says whether the body
    # holds a word at all before it is looked for word by word.
    folded = fold(text)
    if any(w in folded for w in wanted):
        for match in _WORD.finditer(text):
            word = _fold_word(match.group())
            if word in wanted or (last_prefix and word.startswith(last_prefix)):
                start = match.start()
                break
    if start <= width // 2:
        begin = 0
    else:
        begin = start - width // 4
        space = text.rfind(" ", 0, begin + 1)
        begin = space + 1 if space > begin - 20 else begin
    end = begin + width
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin + width // 2 else end
    piece = text[begin:end].strip()
    return ("…" if begin > 0 else "") + piece + ("…" if end < len(text) else "")


@lru_cache(maxsize=8192)
def _fold_word(word: str) -> str:
    # Snippets fold the same words again and again.
    return word.casefold() if word.isascii() else fold(word)


@dataclass(frozen=True)
class ArticleLink:
    label: str
    slug: str


def link_target(href: str) -> str | None:
    """The slug a Markdown link points to (`kb:SLUG` or `SLUG.md`), else None."""
    href = href.strip()
    if href.lower().startswith("kb:"):
        candidate = href[3:].strip().strip("/")
    elif href.lower().endswith(".md") and "/" not in href and ":" not in href:
        candidate = href[:-3]
    else:
        return None
    candidate = candidate.lower()
    return candidate if _SLUG.match(candidate) else None


def article_links(body: str) -> list[ArticleLink]:
    """The other articles a body links to, in order, each once."""
    seen: set[str] = set()
    links: list[ArticleLink] = []
    for match in _LINK.finditer(body):
        slug = link_target(match.group(2))
        if slug is None or slug in seen:
            continue
        seen.add(slug)
        label = clean_line(match.group(1), limit=120) or slug
        links.append(ArticleLink(label, slug))
    return links


def script_steps(body: str) -> list[str]:
    """A call script cut into the steps the agent reads one at a time (Markdown each)."""
    lines = body.replace("\r\n", "\n").split("\n")
    steps = _split(lines, lambda line: _NUMBERED.match(line) is not None)
    if len(steps) < 2:
        steps = _split(lines, lambda line: _SECTION.match(line) is not None)
    if len(steps) < 2:
        text = body.strip()
        return [text] if text else []
    return steps


def _split(lines: list[str], starts_step: Callable[[str], bool]) -> list[str]:
    """Steps start at lines that `starts_step`; text before the first joins the first."""
    intro: list[str] = []
    steps: list[list[str]] = []
    fenced = False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and starts_step(line):
            steps.append([line])
        elif steps:
            steps[-1].append(line)
        else:
            intro.append(line)
    if not steps:
        return []
    text = "\n".join(intro).strip()
    if text:
        steps[0] = [text, "", *steps[0]]
    return ["\n".join(step).strip() for step in steps]


# Words too common to tell articles apart, left out when an incident's own text is used to
# suggest articles (English, German, Swedish; words of one or two letters are left out anyway).
STOPWORDS = frozenset(
    """
    and are but can cannot could did does doing don for from had has have her here hers him his
    how its not now off our ours out she should than that the their them then there these they
    this those too very was were what when where which while who whom why will with would you
    your yours any all also been being both each few more most into just only other over same
    some such under until again about above after before below between during through new
    aber als auch auf aus bei bin bis bist das dass dein dem den der des die dir doch dort durch
    ein eine einem einen einer eines für habe haben hat hatte ich ihr ihre ist kann kein keine
    man mein mich mir mit nach nicht noch nur oder ohne sehr sein seine sich sie sind über und
    uns unter vom von vor war waren was weil wenn wer wie wir wird wo zum zur zwischen geht
    att den det detta dig din ditt där efter eller ett för från har hon honom hur här icke inte
    jag kan man med mig min mitt mot och oss på sig sin sitt ska skulle som till under upp vad
    var vara vi vid våra än är
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def slugify(title: str) -> str:
    """A slug made from a title: folded, words joined by '-', at most 80 characters."""
    words = _WORD.findall(fold(title))
    slug = "-".join(words)[:80].strip("-")
    return slug or "article"


def valid_slug(slug: str) -> bool:
    return _SLUG.match(slug) is not None
