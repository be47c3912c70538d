"""Knowledge base (M11): articles and versions, search and ranking, hostile input,
suggestions, searches recorded on incidents, the mandatory-search policy, import/export
and the `cc-tui kb` commands. Every test that takes `db` runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql

from cc_tui.errors import Conflict, NotFound, RuleViolation, UsageError
from cc_tui.models import Event, Incident, KbArticle, KbSearch
from cc_tui.services.incidents.intake import IntakeForm, open_contact, save_call, save_intake
from cc_tui.services.kb.articles import (
    add_article,
    get_article,
    list_versions,
    reindex_kb,
    update_article,
)
from cc_tui.services.kb.files import export_folder, import_folder, parse_article
from cc_tui.services.kb.search import (
    list_searches,
    mark_answered,
    record_opened,
    record_search,
    search,
    search_on_incident,
    suggest,
)
from cc_tui.services.kb.text import (
    article_links,
    find_phone,
    query_terms,
    script_steps,
    snippet,
)
from tests import factories as f
from tests.conftest import empty_database

# Articles about other things, so that the words searched for are rare (as in a real KB).
FILLER = [
    ("Opening hours of the service desk", "We answer calls Monday to Friday, 8 to 17."),
    ("Invoice address change", "Customers change their invoice address in the portal."),
    ("Password reset for the portal", "Send the reset link; it is valid for one hour."),
    ("Delivery times", "Spare parts arrive within two working days."),
    ("Returns policy", "Units may be returned within 30 days in their original box."),
    ("Warranty extension", "A warranty can be extended once, by one year."),
]


def slugs(hits) -> list[str]:
    return [h.slug for h in hits]


@pytest.fixture
def kb(db, admin):
    """A small knowledge base with codes; returns the database."""
    with db.session() as s:
        f.codes(s, admin)
        for title, body in FILLER:
            add_article(s, actor=admin, kind="script", title=title, body=body)
        add_article(
            s,
            actor=admin,
            kind="script",
            title="Toner cartridge replacement",
            body="1. Open the front cover.\n2. Pull the old cartridge out.\n3. Insert the new one.",
            tags="printer, consumables",
            problem_codes=["FIELD/PRINTERS/LASER/PICKUP"],
            slug="toner",
        )
        add_article(
            s,
            actor=admin,
            kind="script",
            title="Paper jam in tray 2",
            body="Most jams come from damp paper. Toner smears are a different problem: "
            "see [toner replacement](kb:toner).",
            tags="printer",
            reason_codes=["HW/PRINT"],
            slug="paper-jam",
        )
        add_article(
            s,
            actor=admin,
            kind="phone",
            title="Störungshotline Drucker",
            phone="+49 30 1234567",
            body="Rund um die Uhr erreichbar. Für Geräte mit Wartungsvertrag.",
            tags="hotline",
            reason_codes=["HW"],
            slug="hotline",
        )
        add_article(
            s,
            actor=admin,
            kind="url",
            title="Vendor driver downloads",
            url="https://example.com/drivers",
            body="Drivers for every printer model.",
            slug="drivers",
        )
        add_article(
            s, actor=admin, kind="link", title="Printer jams", link="paper-jam", slug="jams"
        )
        add_article(
            s,
            actor=admin,
            kind="script",
            title="Old toner offer",
            body="Retired offer.",
            status="retired",
            slug="old-offer",
        )
    return db


# -- articles and versions --------------------------------------------------------------------


def test_an_edit_makes_a_new_version_and_the_old_one_stays_readable(kb, admin):
    with kb.session() as s:
        result = update_article(
            s, actor=admin, slug="toner", body="1. Switch the printer off.\n2. Open the cover."
        )
        assert (result.action, result.article.version) == ("updated", 2)
    with kb.session() as s:
        current = get_article(s, slug="toner")
        old = get_article(s, slug="toner", version=1)
        assert current.version == current.latest_version == 2
        assert "Switch the printer off" in current.body
        assert old.version == 1 and old.latest_version == 2
        assert "Pull the old cartridge out" in old.body
        assert [v.version for v in list_versions(s, slug="toner")] == [2, 1]
        with pytest.raises(NotFound, match="no version 7"):
            get_article(s, slug="toner", version=7)
        # The index follows the edit: the new words are found, the dropped ones are not.
        assert "toner" in slugs(search(s, query="switch off"))
        assert "toner" not in slugs(search(s, query="pull the old"))


def test_saving_unchanged_content_makes_no_version_and_stale_edits_are_refused(kb, admin):
    with kb.session() as s:
        same = update_article(s, actor=admin, slug="toner", tags=["printer", "consumables"])
        assert (same.action, same.article.version) == ("unchanged", 1)
        update_article(s, actor=admin, slug="toner", title="Toner cartridge swap")
    with kb.session() as s, pytest.raises(Conflict, match="changed by admin"):
        update_article(s, actor=admin, slug="toner", expected_version=1, title="Mine")


def test_kinds_carry_their_own_fields(kb, admin):
    with kb.session() as s:
        phone = get_article(s, slug="hotline")
        assert (phone.kind, phone.phone, phone.url) == ("phone", "+49 30 1234567", None)
        assert phone.call_number == "+49 30 1234567"
        # A number written in the body serves too (articles written before the field).
        in_body = add_article(
            s, actor=admin, kind="phone", title="Night line", body="Call **+49 40 555 019 90**."
        )
        assert (in_body.phone, in_body.call_number) == (None, "+49 40 555 019 90")
        assert get_article(s, slug="drivers").url == "https://example.com/drivers"
        assert get_article(s, slug="jams").link == "paper-jam"
        script = get_article(s, slug="toner")
        assert script.steps[0].startswith("1. Open") and len(script.steps) == 3
        assert [(link.label, link.slug) for link in get_article(s, slug="paper-jam").links] == [
            ("toner replacement", "toner")
        ]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"kind": "url", "url": "javascript:alert(1)"}, UsageError, "not an http"),
        ({"kind": "url"}, UsageError, "needs its URL"),
        ({"kind": "phone", "phone": "call me"}, UsageError, "not a phone number"),
        ({"kind": "phone"}, UsageError, "needs its phone number"),
        ({"kind": "link", "link": "nowhere"}, NotFound, "no article 'nowhere'"),
        ({"kind": "script"}, UsageError, "needs its text"),
        ({"kind": "script", "body": "x", "url": "https://a.example"}, UsageError, "only url"),
        ({"kind": "memo", "body": "x"}, UsageError, "unknown article kind"),
        ({"kind": "script", "body": "bell \x07"}, UsageError, "control characters"),
        ({"kind": "script", "body": "x", "tags": "a b,c/d"}, UsageError, "tag 'c/d'"),
        ({"kind": "script", "body": "x", "problem_codes": ["NOPE"]}, NotFound, "NOPE"),
        ({"kind": "script", "body": "x", "status": "archived"}, UsageError, "unknown article"),
    ],
)
def test_articles_are_validated(kb, admin, fields, error, message):
    with kb.session() as s, pytest.raises(error, match=message):
        add_article(s, actor=admin, title="Something", **fields)


def test_only_supervisors_write_articles(kb):
    with kb.session() as s:
        agent = f.agent(s, "bob")
    with kb.session() as s, pytest.raises(RuleViolation, match="only a supervisor"):
        add_article(s, actor=agent, kind="script", title="Mine", body="text")
    with kb.session() as s:
        assert slugs(search(s, query="toner cartridge"))[0] == "toner"


def test_slugs_are_made_from_titles_and_kept_unique(kb, admin):
    with kb.session() as s:
        first = add_article(s, actor=admin, kind="script", title="Drücker: Reset!", body="a")
        second = add_article(s, actor=admin, kind="script", title="Drücker: Reset!", body="b")
        assert (first.slug, second.slug) == ("drucker-reset", "drucker-reset-2")
        with pytest.raises(Conflict, match="exists already"):
            add_article(s, actor=admin, kind="script", title="x", body="x", slug="toner")
        with pytest.raises(UsageError, match="slug"):
            add_article(s, actor=admin, kind="script", title="x", body="x", slug="../etc")


# -- search -----------------------------------------------------------------------------------


def test_a_title_match_ranks_above_body_matches(kb, admin):
    with kb.session() as s:
        add_article(
            s,
            actor=admin,
            kind="script",
            title="Fuser unit",
            body="cartridge " * 20 + "Many words about cartridges in the body.",
            slug="fuser",
        )
    with kb.session() as s:
        hits = search(s, query="cartridge")
        assert slugs(hits)[:2] == ["toner", "fuser"]
        assert hits[0].title == "Toner cartridge replacement"


def test_ranking_and_filters_hold_over_many_matches(kb, admin):
    from sqlalchemy import insert

    rows = [
        {"slug": f"widget-{i:03d}", "kind": "script", "title": f"Note {i}", "author_id": admin.id,
         "body": "A widget " * (1 + i % 5), "tags": "", "status": "published"}
        for i in range(260)
    ]  # fmt: skip
    rows += [
        {"slug": f"widget-url-{i}", "kind": "url", "title": f"Vendor page {i}",
         "body": "widget manual", "url": "https://w.example/", "author_id": admin.id,
         "tags": "", "status": "published"}
        for i in range(2)
    ]  # fmt: skip
    with kb.session() as s:
        s.execute(insert(KbArticle), rows)  # as a bulk loader does: the index follows
        add_article(s, actor=admin, kind="script", title="Widget basics", body="Start here.")
    with kb.session() as s:
        hits = search(s, query="widget")
        assert len(hits) == 20 and hits[0].slug == "widget-basics"
        assert slugs(search(s, query="widg", kind="url")) == ["widget-url-0", "widget-url-1"]
        assert slugs(search(s, query="widget manual")) == ["widget-url-0", "widget-url-1"]
        assert len(search(s, query="widget", limit=100)) == 100


def test_search_folds_accents_and_case_both_ways(kb):
    with kb.session() as s:
        for query in ("storungshotline", "STÖRUNGSHOTLINE", "Störungshotline", "fur geräte"):
            assert slugs(search(s, query=query)) == ["hotline"], query
        assert slugs(search(s, query="fuer")) == []


def test_every_word_must_match_and_the_last_matches_as_a_prefix(kb):
    with kb.session() as s:
        assert slugs(search(s, query="toner cart")) == ["toner"]
        assert slugs(search(s, query="cartr")) == ["toner"]
        # A finished word (space typed after it) is matched whole.
        assert slugs(search(s, query="cartr ")) == []
        assert slugs(search(s, query="cartr", prefix_last=False)) == []
        assert slugs(search(s, query="toner paper zebra")) == []


def test_filters_by_kind_tag_and_problem_code(kb):
    with kb.session() as s:
        assert slugs(search(s, query="printer", kind="url")) == ["drivers"]
        assert set(slugs(search(s, query="printer", tag="printer"))) == {"toner", "paper-jam"}
        assert slugs(search(s, query="", tag="Hotline")) == ["hotline"]
        assert slugs(search(s, query="", problem_code="PICKUP")) == ["toner"]
        assert slugs(search(s, query="", kind="link")) == ["jams"]
        with pytest.raises(UsageError, match="unknown article kind"):
            search(s, query="x", kind="memo")
        with pytest.raises(NotFound):
            search(s, query="x", problem_code="NO/SUCH/CODE/HERE")


def test_retired_articles_are_not_found_unless_asked_for(kb):
    with kb.session() as s:
        assert "old-offer" not in slugs(search(s, query="offer"))
        assert slugs(search(s, query="offer", status=None)) == ["old-offer"]


def test_search_results_carry_a_snippet_around_the_match(kb):
    with kb.session() as s:
        (hit,) = search(s, query="damp")
        assert (hit.slug, hit.kind) == ("paper-jam", "script")
        assert "damp paper" in hit.snippet
        assert "kb:toner" not in hit.snippet  # link targets are not shown as text
        assert isinstance(hit.score, float)


def test_limit_is_kept_within_bounds(kb):
    with kb.session() as s:
        assert len(search(s, query="the", limit=2)) <= 2
        assert len(search(s, query="printer", limit=0)) == 1
        assert len(search(s, query="printer", limit=10_000)) == 4


HOSTILE_QUERIES = [
    '"',
    '""',
    '"toner',
    'toner"',
    "'",
    "toner'",
    "'; DROP TABLE kb_article; --",
    '"; DROP TABLE kb_article; --',
    "1' OR '1'='1",
    "toner AND",
    "AND",
    "OR OR OR",
    "NOT toner",
    "toner NOT",
    "NEAR(",
    "NEAR(toner cartridge, 2)",
    "NEAR/3",
    "*",
    "toner*",
    "*toner",
    "-toner",
    "toner -cartridge",
    "+toner",
    "(",
    ")",
    "(toner",
    "toner)",
    "[toner]",
    "{title}: toner",
    "title:toner",
    "toner:*",
    "^toner",
    "toner & cartridge | !paper <-> x",
    "!!!",
    "?*+.()[]{}|\\^$",
    "\\",
    "%",
    "_",
    "toner%",
    "\x00",
    "toner\x00cartridge",
    "\x1b[31mtoner\x1b[0m",
    "\t\n\r",
    "\u200b",
    "🖨️ toner",
    "ｔｏｎｅｒ",
    "①②③",
    "ǅ ß ﬁ ½",
    "",
    "   ",
    "a",
    "x" * 1000,
    "toner " * 200,
    ("ab " * 400).strip(),
    "select * from kb_article",
    "$1 :q :n %(q)s ?",
    "' || (SELECT pg_sleep(5)) || '",
]


def test_hostile_queries_never_fail_and_never_inject(kb):
    assert len(HOSTILE_QUERIES) >= 30
    with kb.session() as s:
        before = s.scalar(select(func.count()).select_from(KbArticle))
        for query in HOSTILE_QUERIES:
            for kind in (None, "script"):
                hits = search(s, query=query, kind=kind)
                assert isinstance(hits, list), query
        assert s.scalar(select(func.count()).select_from(KbArticle)) == before
    with kb.session() as s:
        # Quotes, operators and brackets around a real word leave the word itself.
        for query in ('"toner', "toner)", "(toner", "-toner", "toner*", "toner:", "^toner"):
            assert "toner" in slugs(search(s, query=query)), query
        assert slugs(search(s, query="ｔｏｎｅｒ cartridge")) == ["toner"]


def test_random_unicode_queries_never_fail(kb):
    rng = random.Random(20261124)
    alphabet = [chr(c) for c in range(0, 0x3000) if not 0xD800 <= c < 0xE000]
    alphabet += list("\"'*()-+:^{}[]<>&|!~ ") * 20
    with kb.session() as s:
        for _ in range(150):
            query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            assert isinstance(search(s, query=query), list), repr(query)


def test_query_words_are_cut_from_what_was_typed():
    terms = query_terms('"Drucker" AND (tön*')
    assert terms.words == ("drucker", "and", "tön")
    assert not terms.prefix_last  # something follows the last word
    assert query_terms("tön").prefix_last
    assert not query_terms("t").prefix_last  # one letter is matched whole
    assert len(query_terms("w " * 500).words) == 1
    assert len(query_terms(" ".join(f"w{i}" for i in range(50))).words) == 8


def test_reindex_rebuilds_the_index(kb):
    if kb.is_sqlite:
        # What a table copy without its triggers would leave: an empty index.
        with kb.session() as s:
            s.execute(sql("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('delete-all')"))
        with kb.session() as s:
            assert search(s, query="toner cartridge") == []
    with kb.session() as s:
        assert reindex_kb(s) == 12
    with kb.session() as s:
        assert slugs(search(s, query="toner cartridge")) == ["toner"]


# -- the text rules ----------------------------------------------------------------------------


def test_script_steps_links_and_snippets():
    assert script_steps("Say hello.\n\n1. Ask\n   more\n2. Answer\n") == [
        "Say hello.\n\n1. Ask\n   more",
        "2. Answer",
    ]
    assert script_steps("## Greet\nhi\n## Ask\nwhat?") == ["## Greet\nhi", "## Ask\nwhat?"]
    assert script_steps("Just one paragraph.") == ["Just one paragraph."]
    assert [(a.label, a.slug) for a in article_links("[A](kb:one) [B](two.md) [C](https://x)")] == [
        ("A", "one"),
        ("B", "two"),
    ]
    assert (
        find_phone("Open 2026-01-31, call 030 1234567 or +46 8 555 012 34.") == "+46 8 555 012 34"
    )
    assert find_phone("Mon-Fri 07:00-18:00") is None
    long = "word " * 100 + "needle here " + "word " * 100
    piece = snippet(long, query_terms("needle"), width=80)
    assert "needle" in piece and piece.startswith("…") and len(piece) <= 84


# -- suggestions -------------------------------------------------------------------------------


def _printer_call(kb, admin, title: str, description: str):
    """A printer pick-up request (reason HW/PRINT, problem code PICKUP) at priority P3."""
    with kb.session() as s:
        return save_call(
            s,
            actor=admin,
            channel="phone",
            form=IntakeForm(
                request_type="action",
                title=title,
                description=description,
                reason="HW/PRINT",
                problem_code="PICKUP",
                priority=f.priority(s, "P3", rank=3, default=True).code,
            ),
        )


def test_suggestions_put_articles_linked_to_the_incident_codes_first(kb, admin):
    result = _printer_call(
        kb, admin, "Drivers for the new printer model", "The vendor drivers do not install"
    )
    with kb.session() as s:
        found = suggest(s, incident_ref=result.number)
        assert slugs(found)[:3] == ["toner", "paper-jam", "hotline"]
        assert [x.source for x in found[:3]] == [
            "problem code FIELD/PRINTERS/LASER/PICKUP",
            "reason code HW/PRINT",
            "reason code HW",
        ]
        assert found[3].slug == "drivers" and found[3].source == "words"
        assert len(set(slugs(found))) == len(found)


def test_suggestions_take_the_intake_form_before_it_is_saved(kb, admin):
    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="action")
    with kb.session() as s:
        assert suggest(s, incident_ref=draft.id) == []
        found = suggest(s, incident_ref=draft.id, text="toner smears", reason="HW/PR")
        assert slugs(found)[0] in ("toner", "paper-jam")
        found = suggest(s, incident_ref=draft.id, reason="HW/PRINT", problem_code="nope")
        assert slugs(found) == ["paper-jam", "hotline"]


# -- searches recorded on incidents and the mandatory-search policy -----------------------------


def test_a_search_is_recorded_on_the_incident_without_touching_its_version(kb, admin):
    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="information")
    with kb.session() as s:
        run = search_on_incident(s, actor=admin, incident_ref=draft.number, query="toner")
        assert run.hits and run.search.results == slugs(run.hits)
        record_opened(s, actor=admin, search_id=run.search.id, slug="toner")
        answered = mark_answered(s, actor=admin, incident_ref=draft.number, slug="toner")
        assert (answered.id, answered.opened, answered.answered) == (run.search.id, "toner", True)
    with kb.session() as s:
        incident = s.get(Incident, draft.id)
        assert (incident.kb_searches, incident.version) == (1, draft.version)
        texts = [
            e.text
            for e in s.scalars(
                select(Event).where(Event.incident_id == draft.id).order_by(Event.id)
            )
        ]
        assert 'KB search "toner": 2 results' in texts
        assert "opened KB article toner: Toner cartridge replacement" in texts
        assert "answered from KB article toner: Toner cartridge replacement" in texts
        (record,) = list_searches(s, incident_ref=draft.id)
        assert (record.query, record.opened, record.answered) == ("toner", "toner", True)


def test_answered_without_a_search_records_the_look_up(kb, admin):
    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="information")
    with kb.session() as s:
        mark_answered(s, actor=admin, incident_ref=draft.id, slug="hotline")
        again = mark_answered(s, actor=admin, incident_ref=draft.id, slug="hotline")
        assert again.answered and again.opened == "hotline"
    with kb.session() as s:
        assert s.get(Incident, draft.id).kb_searches == 1
        assert s.scalar(select(func.count()).select_from(KbSearch)) == 1


def test_searches_are_not_recorded_on_abandoned_contacts(kb, admin):
    from cc_tui.services.incidents.intake import abandon_contact

    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone")
        abandon_contact(s, actor=admin, contact_id=draft.id)
    with kb.session() as s, pytest.raises(RuleViolation, match="abandoned"):
        record_search(s, actor=admin, incident_ref=draft.id, query="x", results=[])


def test_mandatory_search_policy_refuses_until_a_search_on_the_draft(kb, admin):
    form = IntakeForm(request_type="information", question="Hotline?", answer="030 1234567")
    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="information")
    with kb.session() as s, pytest.raises(RuleViolation, match="search the knowledge base"):
        save_intake(s, actor=admin, contact_id=draft.id, form=form, kb_search_required=True)
    with kb.session() as s:
        search_on_incident(s, actor=admin, incident_ref=draft.id, query="hotline")
    with kb.session() as s:
        saved = save_intake(s, actor=admin, contact_id=draft.id, form=form, kb_search_required=True)
        assert saved.status == "closed"
    # Comments need no search.
    with kb.session() as s:
        comment = IntakeForm(request_type="comment", description="Nice agent!")
        save_call(s, actor=admin, channel="phone", form=comment, kb_search_required=True)


# -- import / export --------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


GOOD = {
    "reset-printer.md": "---\ntitle: Reset the printer\nkind: script\ntags: [printer, reset]\n"
    "problem_codes: [FIELD/PRINTERS/LASER/PICKUP]\nreason_codes: [HW/PRINT]\n---\n"
    "1. Switch it off.\n2. Wait ten seconds.\n3. See [the hotline](hotline-de.md).\n",
    "hotline-de.md": "---\ntitle: Hotline\nkind: phone\nphone: '+49 30 1234567'\n---\n"
    "Mon-Fri 8-17.\n",
    "vendor.md": "---\ntitle: Vendor\nkind: url\nurl: https://example.com/\n"
    "review: 2030-01-31\nstatus: draft\n---\n",
    "see-reset.md": "---\ntitle: See reset\nkind: link\nlink: reset-printer\n---\n",
}
BAD = {
    "broken-yaml.md": "---\ntitle: [unclosed\nkind: script\n---\nbody\n",
    "no-front.md": "Just text.\n",
    "typo-key.md": "---\ntitel: Oops\nkind: script\n---\nbody\n",
    "Bad Name.md": "---\ntitle: x\nkind: script\n---\nbody\n",
    "bad-code.md": "---\ntitle: x\nkind: script\nproblem_codes: [NO/SUCH/CODE/X]\n---\nb\n",
    "octal-phone.md": "---\ntitle: x\nkind: phone\nphone: 0301234567\n---\n",
    "latin1.md": None,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    root.mkdir()
    for name, text in GOOD.items():
        write(root, name, text)
    for name, text in BAD.items():
        if text is None:
            (root / name).write_bytes(
                "---\ntitle: Störung\nkind: script\n---\nx\n".encode("latin-1")
            )
        else:
            write(root, name, text)
    write(root, "notes.txt", "not an article")
    return root


def test_import_reports_each_file_skips_bad_ones_and_is_idempotent(kb, admin, folder):
    with kb.session() as s:
        first = {o.file: o for o in import_folder(s, actor=admin, folder=folder)}
    assert set(first) == set(GOOD) | set(BAD)
    assert {n: first[n].action for n in GOOD} == dict.fromkeys(GOOD, "created")
    assert {n: first[n].action for n in BAD} == dict.fromkeys(BAD, "error")
    assert "not valid YAML" in first["broken-yaml.md"].error
    assert "no front matter" in first["no-front.md"].error
    assert "titel" in first["typo-key.md"].error
    assert "not a slug" in first["Bad Name.md"].error
    assert "NO/SUCH/CODE/X" in first["bad-code.md"].error
    assert "in quotes" in first["octal-phone.md"].error
    assert "not UTF-8" in first["latin1.md"].error
    with kb.session() as s:
        reset = get_article(s, slug="reset-printer")
        assert reset.problem_codes == ["FIELD/PRINTERS/LASER/PICKUP"]
        assert reset.reason_codes == ["HW/PRINT"] and reset.tags == ["printer", "reset"]
        assert [link.slug for link in reset.links] == ["hotline-de"]
        vendor = get_article(s, slug="vendor")
        assert (vendor.status, str(vendor.review_on)) == ("draft", "2030-01-31")
        assert get_article(s, slug="hotline-de").phone == "+49 30 1234567"
        again = import_folder(s, actor=admin, folder=folder)
    assert {o.file: o.action for o in again if o.file in GOOD} == dict.fromkeys(GOOD, "unchanged")

    write(folder, "hotline-de.md", GOOD["hotline-de.md"].replace("8-17", "8-18"))
    with kb.session() as s:
        third = {o.file: o for o in import_folder(s, actor=admin, folder=folder)}
        assert (third["hotline-de.md"].action, third["hotline-de.md"].version) == ("updated", 2)
        assert third["vendor.md"].action == "unchanged"
        assert get_article(s, slug="hotline-de", version=1).body == "Mon-Fri 8-17."


def test_a_link_to_a_missing_article_is_an_error_of_that_file_only(kb, admin, tmp_path):
    write(tmp_path, "a.md", "---\ntitle: A\nkind: link\nlink: b\n---\n")
    write(tmp_path, "b.md", "---\ntitle: B\nkind: link\nlink: c\n---\n")
    write(tmp_path, "c.md", "---\ntitle: C\nkind: script\n---\nC.\n")
    write(tmp_path, "d.md", "---\ntitle: D\nkind: link\nlink: nowhere\n---\n")
    with kb.session() as s:
        outcomes = {o.file: o.action for o in import_folder(s, actor=admin, folder=tmp_path)}
    assert outcomes == {"a.md": "created", "b.md": "created", "c.md": "created", "d.md": "error"}


def test_export_then_import_round_trips(kb, admin, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    with kb.session() as s:
        update_article(s, actor=admin, slug="toner", tags=["printer", "consumables", "c++"])
        exported = export_folder(s, folder=first)
    assert len(exported.files) == 12 and "toner.md" in exported.files
    text = (first / "hotline.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Störungshotline Drucker\nkind: phone\n")
    assert "phone: +49 30 1234567" in text
    content = parse_article(text)
    assert content.reason_codes == ("HW",)
    with kb.session() as s:
        unchanged = import_folder(s, actor=admin, folder=first)
    assert {o.action for o in unchanged} == {"unchanged"}

    empty_database(kb)
    with kb.session() as s:
        from cc_tui.services.context import actor_of, bootstrap_admin

        again = actor_of(bootstrap_admin(s, "admin"))
        f.codes(s, again)
    with kb.session() as s:
        created = import_folder(s, actor=again, folder=first)
        assert {o.action for o in created} == {"created"}
        export_folder(s, folder=second)
    for name in exported.files:
        assert (second / name).read_text(encoding="utf-8") == (first / name).read_text(
            encoding="utf-8"
        ), name


def test_import_and_export_refuse_wrong_folders(kb, admin, tmp_path):
    plain = tmp_path / "file.md"
    plain.write_text("x")
    with kb.session() as s:
        with pytest.raises(UsageError, match="not a folder"):
            import_folder(s, actor=admin, folder=tmp_path / "missing")
        with pytest.raises(UsageError, match="not a folder"):
            export_folder(s, folder=plain)


# -- the command line -------------------------------------------------------------------------


def test_cli_add_search_show_and_versions(kb, cli, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("1. Ask for the model.\n2. Read the label on the back.\n", encoding="utf-8")
    added = cli(
        "kb", "add", "--kind", "script", "--title", "Find the model number",
        "--body-file", str(body), "--tags", "printer,label", "--problem-code", "PICKUP",
        "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    data = json.loads(added.stdout)
    assert (data["slug"], data["version"], data["tags"]) == (
        "find-the-model-number",
        1,
        ["printer", "label"],
    )
    assert data["problem_codes"] == ["FIELD/PRINTERS/LASER/PICKUP"]

    found = cli("kb", "search", "model numb", "--json")
    assert found.exit_code == 0, found.stderr
    hits = json.loads(found.stdout)
    assert [set(h) for h in hits] == [{"slug", "title", "kind", "snippet", "score"}]
    assert hits[0]["slug"] == "find-the-model-number"
    phones = json.loads(cli("kb", "search", "hotline", "--kind", "phone", "--json").stdout)
    assert [h["slug"] for h in phones] == ["hotline"]
    assert json.loads(cli("kb", "search", "printer", "--limit", "1", "--json").stdout)[0]

    url = cli("kb", "add", "--kind", "url", "--title", "Docs", "--url", "https://d.example/")
    assert url.exit_code == 0, url.stderr
    assert "https://d.example/" in url.stdout

    shown = json.loads(cli("kb", "show", "toner", "--json").stdout)
    assert shown["kind"] == "script" and shown["versions"][0]["version"] == 1
    assert cli("kb", "show", "toner", "--version", "2").exit_code == 3
    assert "toner" in cli("kb", "show", "paper-jam").stdout


def test_cli_search_survives_hostile_queries(kb, cli):
    for query in ["'; DROP TABLE kb_article; --", 'NEAR("', "\x1b[2J", "*", "x" * 1000, ""]:
        result = cli("kb", "search", query, "--json")
        assert result.exit_code == 0, (query, result.stderr)
        assert isinstance(json.loads(result.stdout), list)


def test_cli_errors_have_exit_codes(kb, cli):
    assert cli("kb", "show", "no-such").exit_code == 3
    bad_kind = cli("kb", "add", "--kind", "memo", "--title", "x", "--body", "y")
    assert bad_kind.exit_code == 2 and "unknown article kind" in bad_kind.stderr
    assert cli("kb", "search", "x", "--kind", "memo").exit_code == 2
    assert cli("kb", "search", "x", "--incident", "INC-999999").exit_code == 3
    assert cli("kb", "answered", "INC-999999", "toner").exit_code == 3
    missing = cli("kb", "add", "--kind", "script", "--title", "x", "--body-file", "/nope.md")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_cli_agents_search_but_do_not_write(kb, cli):
    with kb.session() as s:
        f.agent(s, "bob")
    assert cli("kb", "search", "toner", "--json", login="bob").exit_code == 0
    refused = cli("kb", "add", "--kind", "script", "--title", "x", "--body", "y", login="bob")
    assert refused.exit_code == 1 and "only a supervisor" in refused.stderr


def test_cli_edit_makes_a_version_and_the_old_one_stays_readable(kb, cli, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("1. Switch the printer off.\n2. Open the cover.\n", encoding="utf-8")
    edited = cli(
        "kb", "edit", "toner", "--title", "Toner swap", "--body-file", str(body),
        "--tags", "printer", "--review", "2031-06-30", "--version", "1", "--json",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    data = json.loads(edited.stdout)
    shown = json.loads(cli("kb", "show", "toner", "--json").stdout)
    assert data == {**shown, "action": "updated"}
    assert (data["version"], data["title"], data["tags"]) == (2, "Toner swap", ["printer"])
    assert data["review_on"] == "2031-06-30"
    assert data["problem_codes"] == ["FIELD/PRINTERS/LASER/PICKUP"]  # not given: kept
    assert "version 2" in edited.stderr

    old = json.loads(cli("kb", "show", "toner", "--version", "1", "--json").stdout)
    assert (old["version"], old["latest_version"]) == (1, 2)
    assert (old["title"], "Pull the old cartridge out" in old["body"]) == (
        "Toner cartridge replacement",
        True,
    )

    # The same values again: no new version.
    again = cli(
        "kb", "edit", "toner", "--title", "Toner swap", "--body-file", str(body), "--json"
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert (json.loads(again.stdout)["action"], json.loads(again.stdout)["version"]) == (
        "unchanged",
        2,
    )
    assert "unchanged" in again.stderr

    # The body from stdin, as `kb add --body-file -` reads it; text output without --json.
    piped = cli("kb", "edit", "toner", "--body-file", "-", input="Call the vendor.\n")
    assert piped.exit_code == 0, piped.stderr
    assert "v3 of 3" in piped.stdout and "Call the vendor." in piped.stdout

    # An empty code option clears the codes.
    cleared = cli("kb", "edit", "toner", "--problem-code", "", "--json")
    assert cleared.exit_code == 0, cleared.stderr
    assert json.loads(cleared.stdout)["problem_codes"] == []

    versions = cli("kb", "versions", "toner", "--json")
    assert versions.exit_code == 0, versions.stderr
    rows = json.loads(versions.stdout)
    assert [r["version"] for r in rows] == [4, 3, 2, 1]
    assert set(rows[0]) == {"version", "edited_at", "edited_by", "title", "status"}
    assert (rows[0]["edited_by"], rows[1]["title"], rows[-1]["title"]) == (
        "admin",
        "Toner swap",
        "Toner cartridge replacement",
    )
    lines = cli("kb", "versions", "toner").stdout.splitlines()
    assert lines[0].split() == ["version", "edited_at", "edited_by", "status", "title"]
    assert [line.split()[0] for line in lines[2:]] == ["4", "3", "2", "1"]

    # `--review none` removes the review date; other fields stay.
    unreviewed = cli("kb", "edit", "toner", "--review", "none", "--json")
    assert unreviewed.exit_code == 0, unreviewed.stderr
    data = json.loads(unreviewed.stdout)
    assert (data["review_on"], data["title"], data["version"]) == (None, "Toner swap", 5)


def test_cli_a_retired_article_leaves_search_and_suggestions_but_stays_readable(kb, cli, admin):
    result = _printer_call(kb, admin, "Toner smears", "The toner cartridge leaves smears")
    suggested = json.loads(cli("kb", "suggest", result.number, "--json").stdout)
    assert "toner" in [x["slug"] for x in suggested]
    assert "toner" in [h["slug"] for h in json.loads(cli("kb", "search", "toner", "--json").stdout)]

    retired = cli("kb", "edit", "toner", "--status", "retired", "--json")
    assert retired.exit_code == 0, retired.stderr
    assert json.loads(retired.stdout)["status"] == "retired"

    hits = json.loads(cli("kb", "search", "toner cartridge", "--json").stdout)
    assert "toner" not in [h["slug"] for h in hits]
    suggested = json.loads(cli("kb", "suggest", result.number, "--json").stdout)
    assert "toner" not in [x["slug"] for x in suggested]
    shown = cli("kb", "show", "toner", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["status"] == "retired"

    # Published again, it is found again.
    assert cli("kb", "edit", "toner", "--status", "published").exit_code == 0
    hits = json.loads(cli("kb", "search", "toner cartridge", "--json").stdout)
    assert hits[0]["slug"] == "toner"


def test_cli_edit_errors_have_exit_codes(kb, cli):
    assert cli("kb", "edit", "toner", "--title", "Swap").exit_code == 0  # now version 2
    stale = cli("kb", "edit", "toner", "--title", "Mine", "--version", "1")
    assert stale.exit_code == 4 and "changed by admin" in stale.stderr

    nothing = cli("kb", "edit", "toner", "--json")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    assert nothing.stdout == ""
    assert cli("kb", "edit", "no-such", "--title", "x").exit_code == 3
    assert cli("kb", "versions", "no-such").exit_code == 3
    for args, message in [
        (["--status", "archived"], "unknown article status"),
        (["--review", "30.06.2031"], "YYYY-MM-DD"),
        (["--kind", "memo"], "unknown article kind"),
        (["--body", "x", "--body-file", "-"], "not both"),
    ]:
        result = cli("kb", "edit", "toner", *args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
    assert cli("kb", "edit", "toner", "--version", "0", "--title", "x").exit_code == 2

    with kb.session() as s:
        f.agent(s, "bob")
    refused = cli("kb", "edit", "toner", "--title", "Mine", login="bob")
    assert refused.exit_code == 1 and "only a supervisor" in refused.stderr
    assert json.loads(cli("kb", "show", "toner", "--json").stdout)["title"] == "Swap"
    assert [v["version"] for v in json.loads(cli("kb", "versions", "toner", "--json").stdout)] == [
        2,
        1,
    ]


def test_cli_search_on_incident_answered_and_suggest(kb, cli, admin):
    with kb.session() as s:
        draft = open_contact(s, actor=admin, channel="phone", request_type="information")
    result = cli("kb", "search", "hotline", "--incident", draft.number, "--json")
    assert result.exit_code == 0, result.stderr
    assert [h["slug"] for h in json.loads(result.stdout)] == ["hotline"]
    assert f"recorded on {draft.number}" in result.stderr
    answered = cli("kb", "answered", draft.number, "hotline", "--json")
    assert answered.exit_code == 0, answered.stderr
    record = json.loads(answered.stdout)
    assert (record["opened"], record["answered"], record["query"]) == ("hotline", True, "hotline")
    with kb.session() as s:
        assert s.get(Incident, draft.id).kb_searches == 1
    suggested = cli("kb", "suggest", draft.number, "--json")
    assert suggested.exit_code == 0 and json.loads(suggested.stdout) == []


def test_cli_import_export_and_policy(kb, cli, folder, tmp_path, monkeypatch):
    imported = cli("kb", "import", str(folder), "--json")
    assert imported.exit_code == 1  # some files were bad: reported, the rest imported
    outcomes = {o["file"]: o for o in json.loads(imported.stdout)}
    assert outcomes["vendor.md"]["action"] == "created"
    assert outcomes["no-front.md"]["action"] == "error"
    assert "4 created" in imported.stderr and "7 error" in imported.stderr

    for name in BAD:
        (folder / name).unlink()
    assert cli("kb", "import", str(folder)).exit_code == 0
    exported = cli("kb", "export", str(tmp_path / "out"), "--json")
    assert exported.exit_code == 0, exported.stderr
    assert len(json.loads(exported.stdout)["files"]) == 16

    monkeypatch.setenv("CC_TUI_KB_SEARCH_REQUIRED", "true")
    refused = cli(
        "incident", "open", "--channel", "phone", "--type", "information",
        "--question", "Hotline?", "--answer", "030 1234567",
    )  # fmt: skip
    assert refused.exit_code == 1 and "search the knowledge base" in refused.stderr
