"""Edit a knowledge-base article from the console (supervisors): title, tags, status,
review date, the kind's own field (URL, phone number, linked article) and the Markdown body.

The dialog calls `services.kb.update_article` in a thread worker with the version it was
opened with and only the fields typed differently. A review date that cannot be read is
shown at its field before anything is sent; the service's refusals are shown at the field
it names, or above the buttons (a stale version: someone else saved meanwhile). The dialog
stays open with everything typed until the save succeeds; it closes with the service's
`SaveResult` ("updated" with the new version, or "unchanged").
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from cc_tui.console.calls import connected, error_message
from cc_tui.dialogs.form import FormDialog, MessageLine
from cc_tui.errors import Conflict
from cc_tui.statuses import status_name
from cc_tui.widgets.kb_article import KIND_LABELS

if TYPE_CHECKING:
    from cc_tui.services.kb.articles import ArticleDetail

STATUSES = ("draft", "published", "retired")
# The field each kind carries besides (or instead of) its body: (name, label, placeholder).
KIND_FIELDS: dict[str, tuple[str, str, str]] = {
    "url": ("url", "URL", "https://..."),
    "phone": ("phone", "Phone", "+49 30 555 019 90 (or a number in the body)"),
    "link": ("link", "Links to", "the slug of the article it points to"),
}
LABEL_WIDTH = 11

ARTICLE_DIALOG_CSS = f"""
ArticleDialog > #dialog {{
    width: 100;
    height: 40;
    max-height: 95%;
    padding: 0 1;
}}
ArticleDialog .field-row {{
    height: 1;
}}
ArticleDialog .field-row Label {{
    width: {LABEL_WIDTH};
    color: $text-muted;
}}
ArticleDialog .field-row Input {{
    width: 1fr;
    /* Compact fields on the dialog's own colour would not look like fields. */
    background: $boost;
}}
ArticleDialog .field-row #status {{
    width: 14;
}}
ArticleDialog .field-row #status > SelectCurrent {{
    background: $boost;
}}
ArticleDialog .field-row #review-label {{
    width: auto;
    padding: 0 1 0 3;
}}
ArticleDialog .field-row #review {{
    width: 12;
}}
ArticleDialog .field-row .note {{
    width: 1fr;
    padding-left: 1;
    color: $text-muted;
}}
ArticleDialog .field-error {{
    padding-left: {LABEL_WIDTH};
}}
ArticleDialog #body-label {{
    margin-top: 1;
    color: $text-muted;
}}
ArticleDialog #body {{
    height: 1fr;
    min-height: 3;
}}
ArticleDialog #form-error {{
    margin-top: 0;
}}
ArticleDialog #dialog-buttons {{
    margin-top: 0;
}}
ArticleDialog #dialog-buttons #dialog-hint {{
    width: 1fr;
    margin-top: 1;
}}
"""


class ArticleDialog(FormDialog[Any]):
    """Edit the current version of one article; a save makes the next version."""

    DEFAULT_CSS = FormDialog.DEFAULT_CSS + ARTICLE_DIALOG_CSS
    FIELDS: tuple[str, ...] = ("title", "tags", "status", "review", "body")
    AUTO_FOCUS = "#title"

    def __init__(self, article: ArticleDetail, *, edit_key: str = "ctrl+o") -> None:
        super().__init__()
        self.article = article
        self.edit_key = edit_key
        self.version = article.version
        self.kind_field = KIND_FIELDS.get(article.kind)
        if self.kind_field is not None:
            # The service names this field in its refusals; only this kind's one is shown.
            self.FIELDS = (*type(self).FIELDS, self.kind_field[0])
        # What the fields start with: only fields typed differently are sent.
        self.initial: dict[str, str] = {
            "title": article.title,
            "tags": ", ".join(article.tags),
            "review": article.review_on.isoformat() if article.review_on else "",
            "url": article.url or "",
            "phone": article.phone or "",
            "link": article.link or "",
        }

    def compose(self) -> ComposeResult:
        article = self.article
        kind = KIND_LABELS.get(article.kind, article.kind)
        with Vertical(id="dialog"):
            yield Static(
                Content.assemble(
                    ("Edit ", "bold"),
                    (article.slug, "bold $accent"),
                    (f"  {kind} · version {article.version}", "$text-muted"),
                    (f" by {article.edited_by}" if article.edited_by else "", "$text-muted"),
                ),
                id="dialog-title",
            )
            yield from self._row("title", "Title", max_length=300)
            yield from self._row("tags", "Tags", placeholder="comma separated: printer, jam")
            with Horizontal(classes="field-row"):
                yield Label(Content("Status"))
                yield Select(
                    [(Content(status_name(s)), s) for s in STATUSES],
                    value=article.status if article.status in STATUSES else Select.NULL,
                    allow_blank=article.status not in STATUSES,
                    compact=True,
                    id="status",
                )
                yield Label(Content("Review on"), id="review-label")
                yield Input(
                    self.initial["review"],
                    placeholder="none",
                    max_length=10,
                    compact=True,
                    id="review",
                )
                yield Static(Content("YYYY-MM-DD or empty"), classes="note")
            yield self.field_error("status")
            yield self.field_error("review")
            if self.kind_field is not None:
                name, label, placeholder = self.kind_field
                yield from self._row(name, label, placeholder=placeholder)
            yield Label(Content("Body (Markdown)"), id="body-label")
            yield TextArea(article.body, id="body", soft_wrap=True, tab_behavior="focus")
            yield self.field_error("body")
            yield MessageLine(id="form-error")
            with Horizontal(id="dialog-buttons"):
                yield Static(Content("ctrl+s saves · esc cancels"), id="dialog-hint")
                yield Button(Content("Cancel"), id="cancel")
                yield Button(
                    Content(f"Save as v{article.version + 1}"), id="save", variant="primary"
                )

    def show_error(self, error: BaseException) -> None:
        super().show_error(error)
        if isinstance(error, Conflict):
            # The service says "reload"; here that means closing and opening again.
            self.query_one("#form-error", MessageLine).show(
                Content.assemble(
                    error_message(error),
                    "\n",
                    (
                        f"What you typed stays here to copy; esc closes, "
                        f"then {self.edit_key} edits the newer version.",
                        "$text-muted",
                    ),
                )
            )

    def _row(
        self, name: str, label: str, *, placeholder: str = "", max_length: int = 0
    ) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(Content(label))
            yield Input(
                self.initial[name],
                placeholder=placeholder,
                max_length=max_length,
                compact=True,
                id=name,
            )
        yield self.field_error(name)

    def changes(self) -> dict[str, Any] | None:
        """The fields typed differently from what they showed, as `update_article` takes
        them; None (and the problem shown at its field) when the review date is unreadable."""
        given: dict[str, Any] = {}
        for name in ("title", "tags", *(self.kind_field[:1] if self.kind_field else ())):
            value = self.query_one(f"#{name}", Input).value.strip()
            if value != self.initial[name]:
                given[name] = value
        status = self.query_one("#status", Select).value
        if isinstance(status, str) and status != self.article.status:
            given["status"] = status
        review = self.query_one("#review", Input).value.strip()
        if review != self.initial["review"]:
            if not review:
                given["clear_review"] = True
            else:
                try:
                    given["review_on"] = date.fromisoformat(review)
                except ValueError:
                    self.query_one("#review-error", MessageLine).show(
                        Content(f"not a date: {review!r} (YYYY-MM-DD, or empty for none)")
                    )
                    self.query_one("#review", Input).focus()
                    return None
        body = self.query_one("#body", TextArea).text
        if body != self.article.body:
            given["body"] = body
        return given

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        given = self.changes()
        if given is None:
            return
        connection = connected(self)
        if connection is None:
            return
        from cc_tui.services.kb.articles import update_article

        # Nothing typed still goes to the service: it answers "unchanged", or that
        # someone else saved a newer version meanwhile.
        self.run(
            update_article,
            actor=connection.actor,
            slug=self.article.slug,
            expected_version=self.version,
            **given,
        )
