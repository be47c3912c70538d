"""A knowledge-base article on screen: its facts, its body (Markdown, one call-script step
at a time), and the articles it links to; plus a picker for those links.

Article text is untrusted: titles, tags and links are shown as `Content` (never markup),
and the body goes to Textual's Markdown widget with `open_links=False`, so a link in it
only posts `Markdown.LinkClicked` for the screen to judge; nothing in it names an action.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from cc_tui.statuses import status_name

if TYPE_CHECKING:
    from cc_tui.services.kb.articles import ArticleDetail

KIND_LABELS = {
    "script": "call script",
    "phone": "phone number",
    "url": "web page",
    "link": "see other article",
}


def article_links(article: ArticleDetail) -> list[tuple[str, str]]:
    """(label, slug) of every article this one leads to; a link article's target first."""
    links: list[tuple[str, str]] = []
    if article.link:
        links.append((article.link_title or article.link, article.link))
    links += [(link.label, link.slug) for link in article.links if link.slug != article.link]
    return links


def meta_content(article: ArticleDetail, keys: dict[str, str]) -> Content:
    """The facts above the body: title, kind, status, what to call or open, tags."""
    parts: list[str | tuple[str, str]] = [
        (article.title, "bold $accent"),
        "\n",
        (KIND_LABELS.get(article.kind, article.kind), "$text-muted"),
        (f"  ·  v{article.version}", "$text-muted"),
    ]
    if not article.is_latest:
        parts.append((f" (of {article.latest_version})", "$warning"))
    if article.status != "published":
        parts.append((f"  ·  {status_name(article.status)}", "bold $warning"))
    if article.review_due:
        parts.append(("  ·  review due", "$warning"))
    if article.call_number:
        parts += ["\n", ("☎ ", "$success"), (article.call_number, "bold"), "  "]
        parts.append((f"{keys.get('copy', '')} copies it", "$text-muted"))
    if article.url:
        parts += ["\n", ("↗ ", "$success"), (article.url, "underline"), "  "]
        parts.append((f"{keys.get('open', '')} opens it", "$text-muted"))
    if article.tags:
        parts += ["\n", ("tags: ", "$text-muted"), ", ".join(article.tags)]
    codes = article.problem_codes + article.reason_codes
    if codes:
        parts += ["\n", ("codes: ", "$text-muted"), ", ".join(codes)]
    return Content.assemble(*parts)


def links_content(links: list[tuple[str, str]], follow_key: str) -> Content:
    if not links:
        return Content("")
    parts: list[str | tuple[str, str]] = [(f"Links ({follow_key} or the number follows)", "bold")]
    for number, (label, slug) in enumerate(links[:9], start=1):
        parts += ["\n", (f" {number} ", "reverse"), " ", label, (f"  → {slug}", "$text-muted")]
    return Content.assemble(*parts)


class ArticleView(VerticalScroll, can_focus=True):
    """The preview pane: facts, the body or the current script step, the links."""

    DEFAULT_CSS = """
    ArticleView { padding: 0 1; }
    ArticleView > #kb-article-meta { margin-bottom: 1; }
    ArticleView > #kb-article-step { color: $accent; text-style: bold; }
    ArticleView > #kb-article-links { margin-top: 1; }
    ArticleView > Markdown { margin: 0; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="kb-article-meta")
        yield Static(Content(""), id="kb-article-step")
        yield Markdown(id="kb-article-body", open_links=False)
        yield Static(Content(""), id="kb-article-links")

    async def show(
        self,
        article: ArticleDetail | None,
        *,
        step: int = 0,
        keys: dict[str, str] | None = None,
        empty: str = "",
    ) -> None:
        keys = keys or {}
        meta = self.query_one("#kb-article-meta", Static)
        step_line = self.query_one("#kb-article-step", Static)
        body = self.query_one("#kb-article-body", Markdown)
        links = self.query_one("#kb-article-links", Static)
        if article is None:
            meta.update(Content.styled(empty, "$text-muted"))
            step_line.display = False
            links.display = False
            await body.update("")
            return
        meta.update(meta_content(article, keys))
        text = article.body
        if article.steps:
            step = max(0, min(step, len(article.steps) - 1))
            text = article.steps[step]
            step_line.update(
                Content(
                    f"Step {step + 1} of {len(article.steps)}"
                    f"   {keys.get('next', '')} next · {keys.get('previous', '')} previous"
                )
            )
        step_line.display = bool(article.steps)
        targets = article_links(article)
        links.update(links_content(targets, keys.get("follow", "")))
        links.display = bool(targets)
        await body.update(text)
        self.scroll_home(animate=False)


class LinkPicker(ModalScreen[str | None]):
    """Choose which of an article's links to follow."""

    DEFAULT_CSS = """
    LinkPicker { align: center middle; }
    LinkPicker > Vertical {
        width: 70; max-width: 90%; height: auto; max-height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    LinkPicker OptionList { height: auto; max-height: 20; border: none; }
    """
    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, links: list[tuple[str, str]]) -> None:
        super().__init__()
        self.links = links

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Follow which link?", "bold"))
            yield OptionList(
                *(
                    Option(Content.assemble(f"{n}  ", label, (f"  → {slug}", "$text-muted")), slug)
                    for n, (label, slug) in enumerate(self.links, start=1)
                ),
                id="kb-link-options",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
