"""The Knowledge base screen driven by keys (Pilot) on an embedded database, and a snapshot:
search as you type, link navigation and back, call-script steps, copying a number,
opening a web page, hostile article text, and a session for an incident from intake."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cc_tui.models import Agent, Event, Incident, KbSearch
from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.incidents.intake import open_contact
from cc_tui.services.kb.articles import add_article
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = pytest.mark.tui

HOSTILE = "[@click=app.quit]x[/]"


def build_kb(session) -> int:
    """A few articles (with codes); returns the admin's id."""
    admin = actor_of(bootstrap_admin(session, "admin"))
    f.codes(session, admin)
    add_article(
        session,
        actor=admin,
        kind="script",
        title="Clear a paper jam",
        body="Ask the caller to stand next to the printer.\n\n"
        "1. Switch the printer **off**.\n2. Open the front cover.\n3. Pull out tray 2.\n\n"
        "Toner on the pages? See [toner replacement](kb:toner).",
        tags="printer, jam",
        reason_codes=["HW/PRINT"],
        slug="paper-jam",
    )
    add_article(
        session,
        actor=admin,
        kind="script",
        title="Toner cartridge replacement",
        body="1. Open the cover.\n2. Swap the cartridge.",
        tags="printer",
        slug="toner",
    )
    add_article(
        session, actor=admin, kind="link", title="Printer error E-312", link="paper-jam",
        slug="e312",
    )  # fmt: skip
    add_article(
        session,
        actor=admin,
        kind="phone",
        title="Facilities emergency line",
        phone="+49 30 555 019 90",
        body="Day and night, for water leaks.",
        slug="emergency",
    )
    add_article(
        session,
        actor=admin,
        kind="url",
        title="Vendor driver downloads",
        url="https://drivers.example/vireo",
        body="Drivers for every **Vireo** printer.",
        slug="drivers",
    )
    add_article(
        session,
        actor=admin,
        kind="script",
        title=f"Odd {HOSTILE} title",
        body=f"Text with {HOSTILE} and [a link](javascript:alert(1)) and [b](file:///etc/passwd).",
        slug="odd",
    )
    return admin.id


@pytest.fixture
def kb_db(sqlite_db):
    with sqlite_db.session() as session:
        build_kb(session)
    return sqlite_db


def results(app) -> list[str]:
    options = app.screen.query_one("#kb-results")
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


def shown_slug(app) -> str | None:
    article = app.screen.article
    return article.slug if article is not None else None


def preview_text(app) -> str:
    meta = str(app.screen.query_one("#kb-article-meta").render())
    step = app.screen.query_one("#kb-article-step")
    steps = str(step.render()) if step.display else ""
    return meta + "\n" + steps


async def typed(pilot, text: str) -> None:
    """Type `text`, then wait for the search of all of it (a loaded machine may run the
    debounced search of a prefix in between, whose results can look the same)."""
    for char in text:
        await pilot.press("space" if char == " " else char)
    await settled(pilot)


async def test_results_follow_what_is_typed(kb_db):
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "ton")
        await wait_until(pilot, lambda: results(app)[:1] == ["toner"])
        await wait_until(pilot, lambda: shown_slug(app) == "toner")
        await typed(pilot, "er cart")
        await wait_until(pilot, lambda: results(app) == ["toner"])
        await typed(pilot, " zebra")
        await wait_until(pilot, lambda: results(app) == [])
        title = str(app.screen.query_one("#kb-results-title").render())
        assert "Nothing found" in title
        # Quotes and operators are words, never an error.
        await pilot.press("ctrl+u")
        await typed(pilot, '"printer" (jam*')
        await wait_until(pilot, lambda: results(app) == ["paper-jam"])
        assert not app.screen.query_one("#kb-message").render().plain


async def test_links_are_followed_with_a_key_and_retraced(kb_db):
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "error 312")
        await wait_until(pilot, lambda: shown_slug(app) == "e312")
        assert "Clear a paper jam" in str(app.screen.query_one("#kb-article-links").render())
        await pilot.press("ctrl+l")  # the only link: followed at once
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("down")  # to the results list: digits follow links there
        await pilot.press("1")
        await wait_until(pilot, lambda: shown_slug(app) == "toner")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: shown_slug(app) == "e312")
        assert app.screen.history == []


async def test_call_scripts_are_shown_step_by_step(kb_db):
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "paper jam")
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await wait_until(pilot, lambda: "Step 1 of 3" in preview_text(app))
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "Step 2 of 3" in preview_text(app))
        await pilot.press("ctrl+n", "ctrl+n")
        await wait_until(pilot, lambda: "Step 3 of 3" in preview_text(app))
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: "Step 2 of 3" in preview_text(app))


async def test_a_number_is_copied_and_a_web_page_opened(kb_db, monkeypatch):
    app = console(kb_db, mode="kb")
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_kw: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "emergency")
        await wait_until(pilot, lambda: shown_slug(app) == "emergency")
        await pilot.press("ctrl+y")
        assert app.clipboard == "+49 30 555 019 90"
        await pilot.press("ctrl+u")
        await typed(pilot, "vendor driv")
        await wait_until(pilot, lambda: shown_slug(app) == "drivers")
        await pilot.press("ctrl+g")
        assert opened == ["https://drivers.example/vireo"]


async def test_article_text_cannot_run_app_actions(kb_db, monkeypatch):
    app = console(kb_db, mode="kb")
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_kw: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "odd")
        await wait_until(pilot, lambda: shown_slug(app) == "odd")
        assert HOSTILE in preview_text(app)
        option = app.screen.query_one("#kb-results").get_option_at_index(0)
        assert HOSTILE in option.prompt.plain
        # Clicking the article's links opens nothing but web pages and articles.
        from textual.widgets import Markdown

        body = app.screen.query_one("#kb-article-body", Markdown)
        for href in ("javascript:alert(1)", "file:///etc/passwd"):
            body.post_message(Markdown.LinkClicked(body, href))
            await pilot.pause()
        await pilot.click("#kb-article-body", offset=(12, 0))
        await pilot.pause()
        assert app.is_running and opened == []
        assert "not opened" in app.screen.query_one("#kb-message").render().plain


async def test_from_intake_suggestions_first_then_the_answer_is_recorded(kb_db):
    with kb_db.session() as session:
        admin = actor_of(session.scalars(select(Agent)).first())
        draft = open_contact(session, actor=admin, channel="phone", request_type="information")
    from cc_tui.screens.kb import KbContext, OpenKnowledgeBase

    # Started on another mode (as intake would): the screen returns there on Escape.
    app = console(kb_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        context = KbContext(
            incident_id=draft.id, text="tray 2 jams", reason="HW/PRINT", return_mode="incident"
        )
        app.screen.post_message(OpenKnowledgeBase(context))
        await wait_until(pilot, lambda: app.current_mode == "kb")
        # Before anything is typed: the article tied to the reason code comes first.
        await wait_until(pilot, lambda: results(app)[:1] == ["paper-jam"])
        assert "Suggested" in str(app.screen.query_one("#kb-results-title").render())
        await wait_until(pilot, lambda: "INC-" in str(app.screen.query_one("#kb-context").render()))
        await pilot.press("down", "enter")  # open the suggestion: recorded as a search
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: "recorded" in app.screen.query_one("#kb-message").render().plain
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.current_mode == "incident")

    with kb_db.session() as session:
        (search,) = session.scalars(select(KbSearch)).all()
        assert (search.incident_id, search.answered) == (draft.id, True)
        assert session.get(Incident, draft.id).kb_searches == 1
        texts = [
            e.text for e in session.scalars(select(Event).where(Event.incident_id == draft.id))
        ]
        assert any(t.startswith("answered from KB article paper-jam") for t in texts)


async def test_a_search_left_on_screen_is_recorded_on_the_incident(kb_db):
    with kb_db.session() as session:
        admin = actor_of(session.scalars(select(Agent)).first())
        draft = open_contact(session, actor=admin, channel="phone", request_type="information")
    from cc_tui.screens.kb import KbContext, show_knowledge_base

    app = console(kb_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        show_knowledge_base(app, KbContext(incident_id=draft.id, return_mode="incident"))
        await wait_until(pilot, lambda: app.current_mode == "kb")
        await typed(pilot, "vendor")
        await wait_until(pilot, lambda: results(app) == ["drivers"])
        await pilot.press("escape")  # back: the search shown is recorded
        await wait_until(pilot, lambda: app.current_mode == "incident")
        await settled(pilot)

    with kb_db.session() as session:
        (search,) = session.scalars(select(KbSearch)).all()
        assert (search.query, search.results, search.answered) == ("vendor", ["drivers"], False)


def test_snapshot_of_the_knowledge_base(snap_compare, tmp_path, monkeypatch):
    from cc_tui.db.engine import Database
    from cc_tui.db.migrate import upgrade

    monkeypatch.chdir(tmp_path)
    url = "sqlite:///kb.sqlite3"
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        build_kb(session)
    db.dispose()
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    settings = load_settings(database_url=url, agent="admin", timezone="UTC", poll_seconds=0.2)
    app = CcTuiApp(settings=settings, start_mode="kb")

    async def run_before(pilot) -> None:
        await signed_in(pilot)
        await typed(pilot, "printer")
        await wait_until(pilot, lambda: len(results(app)) == 4)
        await pilot.press("down", "down", "down")  # to the results, then the call script
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "Step 2 of 3" in preview_text(app))
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- supervisors edit the article in the preview ----------------------------------------------


def dialog(app):
    from cc_tui.dialogs.article import ArticleDialog

    screen = app.screen
    return screen if isinstance(screen, ArticleDialog) else None


def message(app) -> str:
    return app.screen.query_one("#kb-message").render().plain


async def open_editor(pilot, query: str, slug: str):
    app = pilot.app
    await typed(pilot, query)
    await wait_until(pilot, lambda: shown_slug(app) == slug)
    await pilot.press("ctrl+o")
    await wait_until(pilot, lambda: dialog(app) is not None)
    await pilot.pause()
    return dialog(app)


@pytest.fixture
def kb_on_both(db):
    with db.session() as session:
        build_kb(session)
    return db


async def test_a_supervisor_edits_title_and_body_and_sees_the_new_version(kb_on_both):
    from textual.widgets import Input, TextArea

    from cc_tui.services.kb.articles import get_article, list_versions

    app = console(kb_on_both, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        editor = await open_editor(pilot, "toner", "toner")
        assert editor.query_one("#title", Input).value == "Toner cartridge replacement"
        await pilot.press("ctrl+u")  # the title has the focus: typed anew
        await typed(pilot, "Replace the toner")
        body = editor.query_one("#body", TextArea)
        body.text = "1. Open the cover.\n2. Swap the cartridge.\n3. Print a test page."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: "v2" in preview_text(app))
        assert "Replace the toner" in preview_text(app)
        assert "Step 1 of 3" in preview_text(app)
        assert "toner saved as version 2" in message(app)
        await wait_until(
            pilot,
            lambda: (
                "Replace the toner"
                in app.screen.query_one("#kb-results").get_option_at_index(0).prompt.plain
            ),
        )

    with kb_on_both.session() as session:
        versions = list_versions(session, slug="toner")
        assert [(v.version, v.title) for v in versions] == [
            (2, "Replace the toner"),
            (1, "Toner cartridge replacement"),
        ]
        old = get_article(session, slug="toner", version=1)
        assert old.body == "1. Open the cover.\n2. Swap the cartridge."
        assert get_article(session, slug="toner").tags == ["printer"]  # not sent, kept


async def test_a_linked_article_edited_stays_in_the_preview_with_its_way_back(kb_db):
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "error 312")
        await wait_until(pilot, lambda: shown_slug(app) == "e312")
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: dialog(app) is not None)
        await pilot.press("ctrl+u")
        await typed(pilot, "Paper jam in tray 2")
        batches = []
        app.changes_signal.subscribe(app, batches.append, immediate=True)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: "v2" in preview_text(app))
        # The results refresh (the change feed too) without going back to the result.
        await wait_until(pilot, lambda: batches)
        await settled(pilot)
        assert shown_slug(app) == "paper-jam" and "Paper jam in tray 2" in preview_text(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: shown_slug(app) == "e312")


async def test_retiring_takes_the_article_out_of_the_results(kb_db):
    from textual.widgets import Select

    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "printer")
        await wait_until(pilot, lambda: len(results(app)) == 4)
        app.screen.result_list.highlighted = results(app).index("paper-jam")
        editor = await open_editor(pilot, "", "paper-jam")
        editor.query_one("#status", Select).value = "retired"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: "paper-jam" not in results(app))
        assert results(app)  # the other printer articles are still found
        # The supervisor still sees what they retired, marked as such.
        assert shown_slug(app) == "paper-jam"
        assert "Retired" in preview_text(app) and "v2" in preview_text(app)
        assert "retired, left out of searches" in message(app)


async def test_a_stale_version_is_refused_and_the_typed_text_kept(kb_db):
    from textual.widgets import Input, TextArea

    from cc_tui.services.kb.articles import get_article, update_article

    with kb_db.session() as session:
        sue = f.agent(session, "sue", role="supervisor")
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        editor = await open_editor(pilot, "emergency", "emergency")
        editor.query_one("#phone", Input).value = "+49 30 555 019 99"
        editor.query_one("#body", TextArea).text = "Only at night."
        # Meanwhile someone else saves the article.
        with kb_db.session() as session:
            update_article(session, actor=sue, slug="emergency", title="Facilities hotline")
        await pilot.press("ctrl+s")
        error = editor.query_one("#form-error")
        await wait_until(pilot, lambda: "changed by sue" in error.render().plain)
        assert "(version 2, yours 1)" in error.render().plain
        assert "^o edits the newer version" in error.render().plain
        assert dialog(app) is editor
        assert editor.query_one("#phone", Input).value == "+49 30 555 019 99"
        assert editor.query_one("#body", TextArea).text == "Only at night."
        await pilot.press("escape")
        # What was typed would be lost: asked first.
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmDialog")
        await pilot.press("y")
        await wait_until(pilot, lambda: dialog(app) is None)
        # The preview follows the change feed to the other supervisor's version.
        await wait_until(pilot, lambda: "Facilities hotline" in preview_text(app))

    with kb_db.session() as session:
        article = get_article(session, slug="emergency")
        assert (article.version, article.phone) == (2, "+49 30 555 019 90")


async def test_a_bad_review_date_is_shown_at_its_field_and_nothing_sent(kb_db):
    from textual.widgets import Input

    from cc_tui.services.kb.articles import get_article

    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        editor = await open_editor(pilot, "vendor", "drivers")
        editor.query_one("#review", Input).value = "2026-13-01"
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert "YYYY-MM-DD" in editor.query_one("#review-error").render().plain
        assert app.focused is editor.query_one("#review", Input)
        # The service's own refusal shows at the field it names.
        editor.query_one("#review", Input).value = "2026-06-30"
        editor.query_one("#url", Input).value = "ftp://drivers.example"
        await pilot.press("ctrl+s")
        url_error = editor.query_one("#url-error")
        await wait_until(pilot, lambda: "not an http(s) URL" in url_error.render().plain)
        assert not editor.query_one("#review-error").render().plain
        editor.query_one("#url", Input).value = "https://drivers.example/vireo/v2"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: "drivers.example/vireo/v2" in preview_text(app))

    with kb_db.session() as session:
        article = get_article(session, slug="drivers")
        assert (article.version, str(article.review_on)) == (2, "2026-06-30")


async def test_an_unchanged_save_says_so_and_closes(kb_db):
    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await open_editor(pilot, "error 312", "e312")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: "e312 unchanged: still version 1" in message(app))


async def test_an_agent_is_told_only_supervisors_edit_articles(kb_db):
    with kb_db.session() as session:
        f.agent(session, "bob")
    app = console(kb_db, login="bob", mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await typed(pilot, "toner")
        await wait_until(pilot, lambda: shown_slug(app) == "toner")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: "only a supervisor or admin" in message(app))
        assert "edit knowledge-base articles" in message(app)
        assert dialog(app) is None


async def test_hostile_text_is_saved_and_shown_as_text(kb_db, monkeypatch):
    from textual.widgets import Input, TextArea

    from cc_tui.services.kb.articles import get_article

    app = console(kb_db, mode="kb")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        editor = await open_editor(pilot, "toner", "toner")
        editor.query_one("#title", Input).value = f"Toner {HOSTILE}"
        editor.query_one("#tags", Input).value = "printer, toner"
        editor.query_one("#body", TextArea).text = f"1. {HOSTILE} first\n2. then [/] second"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: dialog(app) is None)
        await wait_until(pilot, lambda: f"Toner {HOSTILE}" in preview_text(app))
        await wait_until(
            pilot,
            lambda: (
                HOSTILE in app.screen.query_one("#kb-results").get_option_at_index(0).prompt.plain
            ),
        )
        # Opened again, the dialog holds the text as it was saved.
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: dialog(app) is not None)
        editor = dialog(app)
        assert editor.query_one("#title", Input).value == f"Toner {HOSTILE}"
        assert HOSTILE in editor.query_one("#body", TextArea).text
        await pilot.press("escape")
        assert app.is_running

    with kb_db.session() as session:
        article = get_article(session, slug="toner")
        assert (article.title, article.tags) == (f"Toner {HOSTILE}", ["printer", "toner"])


async def test_ctrl_f_searches_the_question_at_once_and_the_answer_comes_back(kb_db):
    from cc_tui.screens.intake import IntakeScreen

    app = console(kb_db, mode="intake")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f2")
        intake = app.screen
        assert isinstance(intake, IntakeScreen)
        await wait_until(pilot, lambda: intake.contact is not None)
        contact = intake.contact.id
        await pilot.press("ctrl+t")  # an information request: the question is searched
        assert intake.request_type == "information"
        intake.query_one("#question").focus()
        await pilot.press(*"paper jam")
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: app.current_mode == "kb")
        kb = app.screen
        assert kb.query_input.value == "paper jam"
        await wait_until(pilot, lambda: results(app)[:1] == ["paper-jam"])
        await settled(pilot)
        with kb_db.session() as session:  # searched at once, recorded with its words
            (search,) = session.scalars(select(KbSearch)).all()
            assert (search.incident_id, search.query) == (contact, "paper jam")
        await wait_until(pilot, lambda: shown_slug(app) == "paper-jam")
        await pilot.press("ctrl+s")  # this article answered: back to the call
        await wait_until(pilot, lambda: app.current_mode == "intake")
        await settled(pilot)
        answer = intake.query_one("#answer").text
        assert answer.startswith("Clear a paper jam: Ask the caller to stand next to")
        assert app.focused is intake.query_one("#answer")
        # A question nothing answers is recorded too, with its words.
        await pilot.press("shift+tab")
        intake.query_one("#question").text = "zebra unicorn"
        await pilot.press("ctrl+f")
        await wait_until(pilot, lambda: app.current_mode == "kb")
        await wait_until(
            pilot, lambda: "Nothing found" in str(kb.query_one("#kb-results-title").render())
        )
        await settled(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.current_mode == "intake")
        await settled(pilot)
        assert app.focused is intake.query_one("#question")
    with kb_db.session() as session:
        searches = session.scalars(select(KbSearch).order_by(KbSearch.id)).all()
        assert [(s.query, s.results, s.answered) for s in searches] == [
            ("paper jam", searches[0].results, True),
            ("zebra unicorn", [], False),
        ]
        assert "paper-jam" in searches[0].results
        texts = [e.text for e in session.scalars(select(Event).where(Event.incident_id == contact))]
        assert 'KB search "zebra unicorn": 0 results' in texts
        assert not any(t == 'KB search "": 1 result' for t in texts)
