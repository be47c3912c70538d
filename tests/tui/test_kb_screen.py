"""The Knowledge base screen driven by keys (Pilot) on an embedded database, and a snapshot:
search as you type, link navigation and back, call-script steps, copying a number,
opening a web page, hostile article text, and a session for an incident from intake."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cc_tui.models import Agent, Event, Incident, KbSearch
from cc_tui.services.context import actor_of, bootstrap_admin
from cc_tui.services.intake import open_contact
from cc_tui.services.kb import add_article
from tests import factories as f
from tests.tui.conftest import SIZE, console, signed_in, wait_until

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
    for char in text:
        await pilot.press("space" if char == " " else char)


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
        await pilot.pause(0.3)

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
    from cc_tui.app import CcTuiApp
    from cc_tui.config import load_settings

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
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
