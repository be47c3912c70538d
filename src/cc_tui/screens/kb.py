"""The Knowledge base mode: answers while the caller is still talking.

A search box whose results follow what is typed (debounced, searched in a thread worker),
a preview of the highlighted article (Markdown; call scripts one step at a time), links
followed with a key and retraced with another, a phone number copied or a web page opened
with one key.

Opened from intake for an incident (`show_knowledge_base(app, KbContext(incident_id=...))`
or by posting `OpenKnowledgeBase`), the screen first shows the articles suggested for it,
records the searches made on the incident's timeline (a search counts once it is
submitted with Enter, an article is opened from it, or the screen is left with it shown),
and one key records the article that answered the caller. Escape then returns to intake.

Supervisors edit the article in the preview with one key (`ArticleDialog`): a save makes
a new version, shown at once; a draft or retired article leaves the results but stays in
the preview until another one is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from cc_tui.console.calls import Connection, error_message
from cc_tui.console.messages import ChangeBatch
from cc_tui.dialogs.article import ArticleDialog
from cc_tui.dialogs.form import MessageLine
from cc_tui.errors import RuleViolation
from cc_tui.screens.base import ConsoleScreen
from cc_tui.statuses import status_name
from cc_tui.widgets.kb_article import ArticleView, LinkPicker, article_links

if TYPE_CHECKING:
    from cc_tui.services.kb.articles import ArticleDetail, SaveResult
    from cc_tui.services.kb.search import Answers, KbHit, SearchContext, SearchRecord, Suggestion

T = TypeVar("T")

# Wait this long after the last keystroke before searching.
DEBOUNCE_SECONDS = 0.15
# ... and after the last move in the results before loading the highlighted article.
PREVIEW_DELAY_SECONDS = 0.08
RESULT_LIMIT = 30
SAFE_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class KbContext:
    """The incident a knowledge-base session is for, and what intake knows of it so far
    (the draft's words and codes, before they are saved)."""

    incident_id: int
    text: str = ""
    problem_code: str | None = None
    reason: str | None = None
    # The mode Escape returns to.
    return_mode: str | None = "intake"
    # Searched at once and recorded (intake's question or title); empty: suggestions.
    query: str = ""


@dataclass
class OpenKnowledgeBase(Message):
    """Ask the console to show the knowledge base (handled by the app:
    `show_knowledge_base`), for an incident when `context` is given."""

    context: KbContext | None = None


def show_knowledge_base(app: App, context: KbContext | None = None) -> None:
    """Switch to the Knowledge base mode; with a context, searches are for that incident."""

    async def switch() -> None:
        await app.switch_mode("kb")
        screen = app.screen
        if isinstance(screen, KnowledgeBaseScreen) and context is not None:
            screen.set_context(context)

    app.call_next(switch)


def answer_from(article: ArticleDetail) -> str:
    """What an article gives the caller, for intake's Answer: its title and first
    paragraph (Markdown marks dropped), at most a few lines."""
    paragraph = ""
    for block in article.body.split("\n\n"):
        text = " ".join(line.strip() for line in block.strip().splitlines())
        if text and not text.startswith("#"):
            paragraph = text
            break
    for mark in ("**", "__", "`"):
        paragraph = paragraph.replace(mark, "")
    answer = f"{article.title}: {paragraph}" if paragraph else article.title
    return answer if len(answer) <= 400 else answer[:399].rstrip() + "…"


def answer_in_intake(app: App, incident_id: int, answer: str) -> None:
    """Back to Intake with an article's answer for the call `incident_id`."""

    async def back() -> None:
        await app.switch_mode("intake")
        use = getattr(app.screen, "use_kb_answer", None)
        if callable(use):
            use(incident_id, answer)

    app.call_next(back)


def _result_prompt(hit: KbHit | Suggestion) -> Content:
    why = getattr(hit, "source", None)
    head: list[str | tuple[str, str]] = [(hit.title, "bold"), (f"  {hit.kind}", "$text-muted")]
    if why and why != "words":
        head.append((f"  · {why}", "$accent"))
    lines: list[str | tuple[str, str]] = [*head]
    if hit.snippet:
        lines += ["\n", (hit.snippet, "$text-muted")]
    return Content.assemble(*lines)


class KnowledgeBaseScreen(ConsoleScreen):
    MODE = "kb"
    AUTO_FOCUS = "#kb-query"
    BINDINGS: ClassVar = [
        Binding("escape", "leave", "Back", id="kb.leave"),
        Binding("ctrl+f", "focus_search", "Search", id="kb.search"),
        # Down from the search box goes to the results (lists and the preview use it).
        Binding("down", "to_results", "Results", show=False, id="kb.results"),
        Binding("ctrl+l", "follow", "Follow link", id="kb.follow"),
        Binding("ctrl+r", "back", "Link back", id="kb.back"),
        Binding("ctrl+y", "copy_number", "Copy number", id="kb.copy"),
        Binding("ctrl+g", "open_url", "Open URL", id="kb.open_url"),
        Binding("ctrl+n,ctrl+down", "step(1)", "Next step", id="kb.next_step"),
        Binding("ctrl+up", "step(-1)", "Previous step", show=False, id="kb.previous_step"),
        Binding("ctrl+s", "answered", "Answered", id="kb.answered"),
        # Not ctrl+e: the search box uses it (end of line).
        Binding("ctrl+o", "edit_article", "Edit", id="kb.edit"),
        *(
            Binding(str(n), f"follow_number({n})", f"Link {n}", show=False, id=f"kb.link{n}")
            for n in range(1, 10)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.context: KbContext | None = None
        self.context_info: SearchContext | None = None
        self.results: Answers | None = None
        self.article: ArticleDetail | None = None
        self.step = 0
        self.history: list[str] = []
        # The search recorded on the incident for the query shown (query -> search id).
        self.recorded: dict[str, int] = {}
        self._search_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._search_request = 0
        # A result highlighted again after a refresh, whose preview is not to be reloaded.
        self._quiet_highlight: str | None = None
        self._article_request = 0
        self._writes: list[Callable[[], Callable[[], object] | None]] = []
        self._writing = False
        # A query put in the search box by code (from the context): searched at once.
        self._query_by_code: str | None = None

    # -- layout ------------------------------------------------------------------------------

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="kb-main"):
            yield Static(Content(""), id="kb-context")
            yield Input(
                placeholder="Search titles, text and tags: the last word matches as you type",
                id="kb-query",
            )
            with Horizontal(id="kb-panes"):
                with Vertical(id="kb-left"):
                    yield Static(Content(""), id="kb-results-title")
                    yield OptionList(id="kb-results")
                yield ArticleView(id="kb-preview")
            yield MessageLine(id="kb-message")

    @property
    def query_input(self) -> Input:
        return self.query_one("#kb-query", Input)

    @property
    def result_list(self) -> OptionList:
        return self.query_one("#kb-results", OptionList)

    @property
    def preview(self) -> ArticleView:
        return self.query_one("#kb-preview", ArticleView)

    def key(self, binding_id: str, default: str) -> str:
        display = getattr(self.app, "key_display", None)
        return display(binding_id, default) if callable(display) else default

    def _keys(self) -> dict[str, str]:
        return {
            "copy": self.key("kb.copy", "ctrl+y"),
            "open": self.key("kb.open_url", "ctrl+g"),
            "follow": self.key("kb.follow", "ctrl+l"),
            "next": self.key("kb.next_step", "ctrl+n"),
            "previous": self.key("kb.previous_step", "ctrl+up"),
        }

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#kb-context", Static).display = False
        self._show_results_title()
        self.call_after_refresh(self._show_empty_preview)

    async def _show_empty_preview(self) -> None:
        await self.preview.show(
            None,
            empty="Type what the caller asks about. ↓ moves to the results, Enter opens one.",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do nothing here are hidden from the footer."""
        article = self.article
        if action == "answered":
            return self.context is not None and article is not None
        if action == "edit_article":
            # Shown to every agent: one who is not a supervisor is told why on the key.
            return article is not None
        if action == "copy_number":
            return article is not None and bool(article.call_number)
        if action == "open_url":
            return article is not None and bool(article.url)
        if action == "follow":
            return article is not None and bool(article_links(article))
        if action == "back":
            return bool(self.history)
        if action == "step":
            return article is not None and len(article.steps) > 1
        if action == "follow_number":
            # Plain digits are text while the search box has the focus.
            return not isinstance(self.focused, Input)
        return True

    def _refresh_keys(self) -> None:
        self.refresh_bindings()

    # -- the incident this session is for ----------------------------------------------------

    def set_context(self, context: KbContext | None) -> None:
        """Search for this incident from now on (None: searches are not recorded)."""
        if context != self.context:
            self.recorded.clear()
        self.context = context
        self.context_info = None
        self._show_context()
        if context is not None and self.connection is not None:
            self._load_context()
        self._refresh_keys()
        if context is not None and context.query.strip():
            # The question (or title) of the call: searched at once, and recorded.
            query = " ".join(context.query.split())[:200]
            if self.query_input.value != query:
                self._query_by_code = query
                self.query_input.value = query
            self._search_now(record=True)
        elif context is not None and self.query_input.value:
            self._query_by_code = ""
            self.query_input.value = ""
            self._search_now()
        elif not self.query_input.value.strip():
            self._search_now()

    def _load_context(self) -> None:
        context = self.context
        if context is None:
            return

        from cc_tui.services.kb.search import search_context

        def loaded(info: SearchContext) -> None:
            if self.context != context:
                return
            if not info.active:
                # A finished contact: later searches are not about it.
                self.say(
                    f"{info.number} has status {status_name(info.status)}: "
                    "searches are no longer recorded on it"
                )
                self.context = None
                self._show_context()
                self._refresh_keys()
                self._search_now()
                return
            self.context_info = info
            self._show_context()

        self.call(
            search_context,
            on_result=loaded,
            on_error=self.say,
            group="kb-context",
            incident_ref=context.incident_id,
        )

    def _show_context(self) -> None:
        line = self.query_one("#kb-context", Static)
        context = self.context
        line.display = context is not None
        if context is None:
            return
        info = self.context_info
        number = info.number if info else f"INC-{context.incident_id}"
        parts: list[str | tuple[str, str]] = [("For ", ""), (number, "bold")]
        if info is not None:
            parts.append((f" ({status_name(info.status)})", "$text-muted"))
            if info.title:
                parts += ["  ", info.title]
            count = info.searches
            parts.append((f"  ·  {count} search{'' if count == 1 else 'es'} recorded", "$accent"))
        back = context.return_mode
        if back:
            parts.append((f"  ·  {self.key('kb.leave', 'escape')} back to {back}", "$text-muted"))
        line.update(Content.assemble(*parts))

    def database_ready(self, connection: Connection) -> None:
        if self.context is not None:
            self._load_context()
        self._search_now()

    def on_screen_resume(self) -> None:
        if self.context is not None and self.connection is not None:
            self._load_context()

    def on_screen_suspend(self) -> None:
        # Leaving with a query's results on screen: that search was made for the incident.
        self._record_shown()

    def changes_arrived(self, batch: ChangeBatch) -> None:
        if batch.touches("kb_article"):
            self._search_now(keep_highlight=True)
            self._refresh_article()
        context = self.context
        if context is not None and context.incident_id in batch.incident_ids:
            self._load_context()

    # -- searching ---------------------------------------------------------------------------

    @on(Input.Changed, "#kb-query")
    def _typed(self, event: Input.Changed) -> None:
        if self._query_by_code is not None and event.value == self._query_by_code:
            self._query_by_code = None  # searched already
            return
        self._query_by_code = None
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(DEBOUNCE_SECONDS, self._search_now)

    def _search_now(self, *, keep_highlight: bool = False, record: bool = False) -> None:
        """Search for what the box holds; `record`: the search is recorded on the incident
        as soon as its results are shown (found or not)."""
        if self.connection is None:
            return
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None
        from cc_tui.services.kb.search import search_or_suggest

        context = self.context
        self._search_request += 1
        request = self._search_request
        self.call(
            search_or_suggest,
            on_result=lambda results: self._show_results(request, results, keep_highlight, record),
            on_error=self.say,
            group="kb-search",
            query=self.query_input.value,
            incident_ref=context.incident_id if context is not None else None,
            text=context.text if context is not None else None,
            problem_code=context.problem_code if context is not None else None,
            reason=context.reason if context is not None else None,
            limit=RESULT_LIMIT,
        )

    def _show_results(
        self, request: int, results: Answers, keep_highlight: bool, record: bool = False
    ) -> None:
        if request != self._search_request:
            return
        previous = self._highlighted_slug() if keep_highlight else None
        # Refreshed after a change: the article in the preview stays there.
        kept = self.article if keep_highlight else None
        self.results = results
        options = self.result_list
        options.clear_options()
        options.add_options(Option(_result_prompt(hit), hit.slug) for hit in results.hits)
        self._show_results_title()
        if results.hits:
            slugs = [hit.slug for hit in results.hits]
            if previous in slugs:
                # Highlighted again, not opened again: the preview may show a linked article.
                self._quiet_highlight = previous
                options.highlighted = slugs.index(previous)
            elif kept is None:
                options.highlighted = 0
            # Else the article shown left the results (now a draft, retired): it stays
            # in the preview, nothing is highlighted, ↓ goes to the first result.
        elif kept is None and not self.history:
            self.article = None
            self.call_after_refresh(self._show_empty_preview)
            self._refresh_keys()
        if record:
            self._record_shown()

    def _show_results_title(self) -> None:
        title = self.query_one("#kb-results-title", Static)
        results = self.results
        if results is None:
            title.update(Content(""))
        elif results.suggestions:
            count = len(results.hits)
            title.update(
                Content.styled(
                    f"Suggested for this incident ({count})" if count else "No suggestions yet",
                    "bold",
                )
            )
        elif not results.query.strip():
            title.update(Content.styled("Type to search", "$text-muted"))
        elif results.hits:
            more = "+" if len(results.hits) >= RESULT_LIMIT else ""
            title.update(Content.styled(f"{len(results.hits)}{more} found", "bold"))
        else:
            title.update(Content.styled("Nothing found: fewer or other words?", "$warning"))

    def _highlighted_slug(self) -> str | None:
        options = self.result_list
        if options.highlighted is None or options.option_count == 0:
            return None
        return options.get_option_at_index(options.highlighted).id

    @on(OptionList.OptionHighlighted, "#kb-results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        slug = event.option.id
        quiet, self._quiet_highlight = self._quiet_highlight, None
        if slug == quiet:
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if slug is not None and (self.article is None or self.article.slug != slug):
            self._preview_timer = self.set_timer(
                PREVIEW_DELAY_SECONDS, lambda: self.load_article(slug, reset_history=True)
            )

    @on(Input.Submitted, "#kb-query")
    def _submitted(self, _event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._record_shown()
        if self.result_list.option_count:
            self.result_list.focus()

    @on(OptionList.OptionSelected, "#kb-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        slug = event.option.id
        if slug is None:
            return
        self.load_article(slug, reset_history=True)
        self._record_shown(opened=slug)
        self.preview.focus()

    # -- recording on the incident -----------------------------------------------------------

    def _enqueue(self, make: Callable[[], Callable[[], object] | None]) -> None:
        """Writes to the incident run one after the other, in the order asked for: a later
        one (an article opened, the answer) builds on the search an earlier one recorded.
        `make` decides when its turn comes; it returns the write to start, or None."""
        self._writes.append(make)
        self._next_write()

    def _next_write(self) -> None:
        while not self._writing and self._writes:
            start = self._writes.pop(0)()
            if start is None:
                continue
            self._writing = True
            if start() is None:  # not started: the database is not open
                self._writing = False

    def _written(self, done: Callable[[T], None]) -> Callable[[T], None]:
        """`done`, then the next write in the queue."""

        def finished(value: T) -> None:
            self._writing = False
            done(value)
            self._next_write()

        return finished

    def _write_failed(self, error: BaseException) -> None:
        self._writing = False
        self.say(error)
        self._next_write()

    def _record_shown(self, *, opened: str | None = None) -> None:
        """Record the search on screen (once per query), and the article opened from it."""
        context, results = self.context, self.results
        if context is None or results is None:
            return
        query = "" if results.suggestions else results.query
        if not results.suggestions and not query.strip():
            return
        if results.suggestions and opened is None:
            return  # looking at the suggestions is not a search yet; opening one is
        shown = [hit.slug for hit in results.hits]

        def make() -> Callable[[], object] | None:
            if self.context != context:
                return None
            known = self.recorded.get(query)
            if known is not None and opened is None:
                return None
            connection = self.connected()
            if connection is None:
                return None
            from cc_tui.services.kb.search import record_shown

            def done(search_id: int) -> None:
                if self.context == context:
                    self.recorded[query] = search_id

            return lambda: self.call(
                record_shown,
                on_result=self._written(done),
                on_error=self._write_failed,
                write=True,
                group="kb-record",
                actor=connection.actor,
                incident_ref=context.incident_id,
                query=query,
                results=shown,
                search_id=known,
                opened=opened,
            )

        self._enqueue(make)

    def action_answered(self) -> None:
        context, article = self.context, self.article
        if context is None or article is None:
            return
        results = self.results
        query = "" if results is None or results.suggestions else results.query
        # The search on screen first, with its own words (found something or not); the
        # answer is attached to it.
        self._record_shown(opened=article.slug if results and results.suggestions else None)

        def make() -> Callable[[], object] | None:
            connection = self.connected()
            if connection is None:
                return None
            from cc_tui.services.kb.search import mark_answered

            search_id = self.recorded.get(query)

            def done(record: SearchRecord) -> None:
                if self.context == context:
                    self.recorded.setdefault(query, record.id)
                self.say(f"{record.incident}: answered by “{article.title}”, recorded", error=False)
                if context.return_mode == "intake" and self.context == context:
                    # Back to the call, the article in its Answer.
                    answer_in_intake(self.app, context.incident_id, answer_from(article))

            return lambda: self.call(
                mark_answered,
                on_result=self._written(done),
                on_error=self._write_failed,
                write=True,
                group="kb-record",
                actor=connection.actor,
                incident_ref=context.incident_id,
                slug=article.slug,
                search_id=search_id,
            )

        self._enqueue(make)

    # -- the article -------------------------------------------------------------------------

    def load_article(self, slug: str, *, reset_history: bool = False) -> None:
        self._article_request += 1
        request = self._article_request

        from cc_tui.services.kb.articles import get_article

        async def shown(article: ArticleDetail) -> None:
            if request != self._article_request:
                return
            if reset_history:
                self.history.clear()
            self.article = article
            self.step = 0
            await self._render_article()

        self.call(get_article, on_result=shown, on_error=self.say, group="kb-article", slug=slug)

    async def _render_article(self) -> None:
        await self.preview.show(self.article, step=self.step, keys=self._keys())
        self._refresh_keys()

    def action_step(self, delta: int) -> None:
        article = self.article
        if article is None or len(article.steps) < 2:
            return
        step = max(0, min(self.step + delta, len(article.steps) - 1))
        if step != self.step:
            self.step = step
            self.call_next(self._render_article)

    def action_follow(self) -> None:
        article = self.article
        if article is None:
            return
        links = article_links(article)
        if len(links) == 1:
            self.follow(links[0][1])
        elif links:
            self.app.push_screen(LinkPicker(links), self._picked)

    def _picked(self, slug: str | None) -> None:
        if slug:
            self.follow(slug)

    def action_follow_number(self, number: int) -> None:
        article = self.article
        links = article_links(article) if article is not None else []
        if 1 <= number <= len(links):
            self.follow(links[number - 1][1])

    def follow(self, slug: str) -> None:
        """Open a linked article; the one shown now is remembered for Back."""
        current = self.article
        if current is None or slug == current.slug:
            return
        self.history.append(current.slug)
        self.load_article(slug)
        self._record_shown(opened=slug)

    def action_back(self) -> None:
        if self.history:
            self.load_article(self.history.pop())

    @on(Markdown.LinkClicked)
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        from cc_tui.services.kb.text import link_target

        href = event.href.strip()
        target = link_target(href)
        if target is not None:
            self.follow(target)
        elif href.lower().startswith(SAFE_SCHEMES):
            self.app.open_url(href)
        else:
            self.say(f"not opened: {href[:80]} (only web links and other articles)")

    def action_copy_number(self) -> None:
        article = self.article
        if article is None or not article.call_number:
            return
        self.app.copy_to_clipboard(article.call_number)
        self.say(f"{article.call_number} copied", error=False)

    def action_open_url(self) -> None:
        article = self.article
        if article is None or not article.url:
            return
        if not article.url.lower().startswith(SAFE_SCHEMES):
            self.say("only http(s) addresses are opened")
            return
        self.app.open_url(article.url)
        self.say(f"opening {article.url}", error=False)

    # -- editing (supervisors) ---------------------------------------------------------------

    def action_edit_article(self) -> None:
        article, connection = self.article, self.connection
        if article is None or connection is None:
            return
        try:
            # The service's own rule, asked before anything is typed; it asks again on save.
            connection.actor.require_supervisor("edit knowledge-base articles")
        except RuleViolation as error:
            self.say(error)
            return
        self.app.push_screen(
            ArticleDialog(article, edit_key=self.key("kb.edit", "ctrl+o")), self._edited
        )

    async def _edited(self, result: SaveResult | None) -> None:
        if result is None:
            return
        saved = result.article
        if result.action == "unchanged":
            self.say(f"{saved.slug} unchanged: still version {saved.version}", error=False)
        else:
            note = {
                "draft": ": a draft, left out of searches until published",
                "retired": ": retired, left out of searches",
            }.get(saved.status, "")
            self.say(f"{saved.slug} saved as version {saved.version}{note}", error=False)
        current = self.article
        if current is not None and current.slug == saved.slug:
            await self._show_newer(saved)
        # A new title or status changes what the search finds.
        self._search_now(keep_highlight=True)

    async def _show_newer(self, article: ArticleDetail) -> None:
        """Show another version of the article in the preview, at the same script step."""
        self._article_request += 1  # a load still on its way would show the older one
        self.article = article
        self.step = min(self.step, max(len(article.steps) - 1, 0))
        await self._render_article()

    def _refresh_article(self) -> None:
        """Someone saved an article: if it is the one shown, show their version."""
        article = self.article
        if article is None:
            return
        request = self._article_request

        from cc_tui.services.kb.articles import get_article

        async def loaded(fresh: ArticleDetail) -> None:
            current = self.article
            if request != self._article_request or current is None:
                return  # another article was opened meanwhile
            if current.slug == fresh.slug and current.version != fresh.version:
                await self._show_newer(fresh)

        # Its own group: it must not cancel the load of an article the agent just opened.
        self.call(
            get_article,
            on_result=loaded,
            on_error=self.say,
            group="kb-article-refresh",
            slug=article.slug,
        )

    # -- moving around -----------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_input.focus()

    def action_to_results(self) -> None:
        if self.result_list.option_count:
            self.result_list.focus()

    def action_leave(self) -> None:
        context = self.context
        if context is not None and context.return_mode:
            self._record_shown()
            self.app.switch_mode(context.return_mode)
        elif self.query_input.value:
            self.query_input.value = ""
            self.query_input.focus()

    def say(self, problem: BaseException | str, *, error: bool = True) -> None:
        text = problem if isinstance(problem, str) else error_message(problem)
        self.query_one("#kb-message", MessageLine).show(
            Content.styled(text, "$error" if error else "$success")
        )
        self.set_timer(6, lambda: self.query_one("#kb-message", MessageLine).show(""))
