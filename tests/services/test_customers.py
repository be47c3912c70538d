"""Customers and contacts (M2): validation, block flags, locking, and finding a caller."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, text

from cc_tui.errors import Conflict, NotFound, RuleViolation, UsageError
from cc_tui.models import Contact, Customer, Incident, Unit
from cc_tui.models.customer import CustomerToken
from cc_tui.services.context import resolve_actor
from cc_tui.services.directory.agents import add_agent
from cc_tui.services.directory.customers import (
    add_caller,
    add_contact,
    add_customer,
    customer_by_number,
    customer_by_ref,
    find_customers,
    get_customer,
    index_names,
    phone_prefix,
    rebuild_search_index,
    set_block,
    update_customer,
)

HOSTILE = "[@click=app.quit]x[/]"
TABLES = {"customer", "contact", "customer_token", "unit", "incident"}


def _find(db, text: str, **kw):
    with db.session(write=False) as s:
        return find_customers(s, text=text, **kw)


def _names(matches) -> list[str]:
    return [m.name for m in matches]


@pytest.fixture
def agent_bob(db, admin):
    with db.session() as s:
        add_agent(s, actor=admin, login="bob", name="Bob Agent", role="agent")
        return resolve_actor(s, "bob")


@pytest.fixture
def people(db, admin):
    """A few customers with contacts, as an intake desk would have them."""
    with db.session() as s:
        mueller = add_customer(
            s,
            actor=admin,
            name="Müller GmbH & Co. KG",
            phone="+49 30 1234567",
            fax="+49 30 1234599",
            email="Info@Mueller-GmbH.de",
            city="Berlin",
        )
        add_contact(
            s,
            actor=admin,
            customer_id=mueller.id,
            name="Hans Schröder",
            phone="040 555 0101",
            mobile="0171 2345678",
            email="hans.schroeder@example.org",
            role="IT",
        )
        bauer = add_customer(s, actor=admin, name="Bauer Logistik AG", phone="089 7654321")
        hans_bauer = add_customer(s, actor=admin, name="Hans Bauer", email="hb@example.net")
        meyer = add_customer(s, actor=admin, name="Meyer Technik")
        meier = add_customer(s, actor=admin, name="Meier Holzbau")
        return {
            "mueller": mueller.id,
            "bauer": bauer.id,
            "hans_bauer": hans_bauer.id,
            "meyer": meyer.id,
            "meier": meier.id,
        }


# ---------------------------------------------------------------------------- writing


def test_add_customer_numbers_normalises_and_keeps_what_was_typed(db, admin):
    with db.session() as s:
        first = add_customer(s, actor=admin, name="  Acme  ", phone="030/1234567")
        second = add_customer(s, actor=admin, name="Beta", email=" Desk@Beta.Example ")
    assert first.number == "K-100001" and second.number == "K-100002"
    assert first.name == "Acme"
    assert (first.phone, first.phone_e164) == ("030/1234567", "+49301234567")
    assert second.email == "Desk@beta.example"  # domain lower-cased, local part kept
    with db.session(write=False) as s:
        row = s.get(Customer, second.id)
        assert row.email_key == "desk@beta.example"
        assert row.search_name == "beta"


def test_explicit_customer_number_is_unique_and_upper_case(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Acme", number="k-42")
    assert info.number == "K-42"
    with pytest.raises(RuleViolation, match="K-42 is taken"), db.session() as s:
        add_customer(s, actor=admin, name="Other", number="K-42")
    with db.session(write=False) as s:
        assert customer_by_number(s, "k-42").id == info.id
        assert customer_by_ref(s, str(info.id)).number == "K-42"
        with pytest.raises(NotFound):
            customer_by_ref(s, "999")


def test_generated_number_steps_past_a_number_given_by_hand(db, admin):
    with db.session() as s:
        add_customer(s, actor=admin, name="Manual", number="K-100002")
        auto = add_customer(s, actor=admin, name="Auto")
    assert auto.id == 2
    assert auto.number == "K-100002-2"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "030 1234567890123456"),
        ("phone", "call me"),
        ("fax", "abc"),
        ("email", "not-an-address"),
    ],
)
def test_bad_phone_fax_email_are_usage_errors_naming_the_field(db, admin, field, value):
    with pytest.raises(UsageError) as caught, db.session() as s:
        add_customer(s, actor=admin, name="Acme", **{field: value})
    assert caught.value.field == field
    with db.session(write=False) as s:
        assert s.scalars(select(Customer)).all() == []  # nothing half-written


def test_empty_name_is_refused(db, admin):
    with pytest.raises(UsageError, match="name is required"), db.session() as s:
        add_customer(s, actor=admin, name="   ")


def test_country_reads_local_numbers_in_that_country(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Wien AG", country="at", phone="01 5880000")
    assert info.country == "AT"
    assert info.phone_e164 == "+4315880000"
    with pytest.raises(UsageError, match="country"), db.session() as s:
        add_customer(s, actor=admin, name="X", country="XX")


def test_hostile_name_is_stored_verbatim_and_found(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name=HOSTILE)
        add_contact(s, actor=admin, customer_id=info.id, name=HOSTILE)
    with db.session(write=False) as s:
        assert get_customer(s, info.id).name == HOSTILE
        assert get_customer(s, info.id).contacts[0].name == HOSTILE
    assert _names(_find(db, "[@click"))[0] == HOSTILE
    assert HOSTILE in _names(_find(db, "app quit"))


# ---------------------------------------------------------------------------- block flags


def test_warn_and_block_need_a_reason_and_none_clears_it(db, admin):
    for level in ("warn", "block"):
        with pytest.raises(UsageError) as caught, db.session() as s:
            add_customer(s, actor=admin, name="Acme", block=level)
        assert caught.value.field == "block_reason"
    with pytest.raises(UsageError, match="none, warn or block"), db.session() as s:
        add_customer(s, actor=admin, name="Acme", block="maybe", block_reason="x")
    with db.session() as s:
        info = add_customer(
            s, actor=admin, name="Acme", block="block", block_reason="unpaid invoices"
        )
    assert (info.block_level, info.block_reason) == ("block", "unpaid invoices")
    with db.session() as s:
        warned = set_block(s, actor=admin, customer_id=info.id, level="warn")
    # Changing the level keeps the reason on record unless a new one is given.
    assert (warned.block_level, warned.block_reason) == ("warn", "unpaid invoices")
    with db.session() as s:
        cleared = set_block(s, actor=admin, customer_id=info.id, level="none")
    assert (cleared.block_level, cleared.block_reason, cleared.version) == ("none", None, 3)
    with pytest.raises(UsageError, match="needs a reason"), db.session() as s:
        set_block(s, actor=admin, customer_id=info.id, level="block")


def test_an_agent_adds_customers_but_only_supervisors_flag_them(db, admin, agent_bob):
    with db.session() as s:
        info = add_customer(s, actor=agent_bob, name="Walk-in Customer", phone="030 999999")
    with pytest.raises(RuleViolation, match="supervisor"), db.session() as s:
        add_customer(s, actor=agent_bob, name="X", block="warn", block_reason="rude")
    with pytest.raises(RuleViolation, match="supervisor"), db.session() as s:
        set_block(s, actor=agent_bob, customer_id=info.id, level="block", reason="fraud")
    with db.session() as s:
        changed = update_customer(
            s, actor=agent_bob, customer_id=info.id, expected_version=1, city="Potsdam"
        )
    assert changed.city == "Potsdam" and changed.block_level == "none"


# ---------------------------------------------------------------------------- locking


def test_stale_version_is_refused_naming_who_changed_it(db, admin, agent_bob):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Acme", phone="030 1111111")
    with db.session() as s:
        update_customer(
            s, actor=agent_bob, customer_id=info.id, expected_version=1, phone="030 2222222"
        )
    with pytest.raises(Conflict, match=r"changed by bob at .* reload"), db.session() as s:
        update_customer(s, actor=admin, customer_id=info.id, expected_version=1, region="NORTH")
    with db.session(write=False) as s:
        now = get_customer(s, info.id)
    assert (now.version, now.phone_e164, now.region) == (2, "+49302222222", None)


def test_update_rewrites_normalised_fields_and_name_words(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Alpha Bau", email="a@alpha.example")
    with db.session() as s:
        after = update_customer(
            s,
            actor=admin,
            customer_id=info.id,
            expected_version=1,
            name="Omega Werke",
            email="Team@Omega.example",
            phone="+31 20 555 0000",
            address="Hauptstr. 1",
            region="WEST",
            block="warn",
            block_reason="slow payer",
        )
    assert after.version == 2
    assert (after.email, after.phone_e164, after.region) == (
        "Team@omega.example",
        "+31205550000",
        "WEST",
    )
    assert _find(db, "alpha") == []
    assert _names(_find(db, "werke")) == ["Omega Werke"]
    assert _names(_find(db, "team@omega.example")) == ["Omega Werke"]
    with pytest.raises(UsageError, match="cannot change colour"), db.session() as s:
        update_customer(s, actor=admin, customer_id=info.id, expected_version=2, colour="red")
    with pytest.raises(NotFound), db.session() as s:
        update_customer(s, actor=admin, customer_id=999, expected_version=1, city="X")


def test_new_primary_contact_takes_the_flag(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Acme")
        add_contact(s, actor=admin, customer_id=info.id, name="First", is_primary=True)
        add_contact(s, actor=admin, customer_id=info.id, name="Second", is_primary=True)
        add_contact(s, actor=admin, customer_id=info.id, name="Third")
        contacts = get_customer(s, info.id).contacts
    assert [(c.name, c.is_primary) for c in contacts] == [
        ("Second", True),
        ("First", False),
        ("Third", False),
    ]
    with pytest.raises(NotFound), db.session() as s:
        add_contact(s, actor=admin, customer_id=999, name="Nobody")


# ---------------------------------------------------------------------------- look-up


@pytest.mark.parametrize(
    "typed", ["+49 30 1234567", "030/1234567", "0049301234567", "030 123 45 67", "(030) 1234567"]
)
def test_phone_written_any_way_finds_the_same_customer(db, people, typed):
    matches = _find(db, typed)
    assert matches[0].customer_id == people["mueller"]
    assert matches[0].matched_by == "phone"
    assert len(matches) == 1


def test_fax_contact_phone_and_mobile_find_the_customer(db, people):
    fax = _find(db, "030 1234599")[0]
    assert (fax.customer_id, fax.matched_by, fax.contact_id) == (people["mueller"], "phone", None)
    for typed in ("040 5550101", "+49 171 2345678", "01712345678"):
        match = _find(db, typed)[0]
        assert match.customer_id == people["mueller"]
        assert (match.matched_by, match.contact_name) == ("phone", "Hans Schröder")


def test_partly_typed_number_finds_by_prefix_after_exact_ones(db, people):
    assert phone_prefix("030/12", "DE") == "+493012"
    assert phone_prefix("0049 30", "DE") == "+4930"
    assert phone_prefix("+1 212", "DE") == "+1212"
    assert phone_prefix("(212) 555", "US") == "+1212555"
    assert [m.customer_id for m in _find(db, "030 12345")] == [people["mueller"]]
    assert _find(db, "040 99999") == []


def test_email_finds_customer_and_contact_ignoring_case(db, people):
    match = _find(db, "INFO@mueller-gmbh.DE")[0]
    assert (match.customer_id, match.matched_by, match.contact_id) == (
        people["mueller"],
        "email",
        None,
    )
    contact = _find(db, "Hans.Schroeder@Example.org")[0]
    assert (contact.matched_by, contact.contact_name) == ("email", "Hans Schröder")
    partial = _find(db, "hb@exa")
    assert [m.customer_id for m in partial] == [people["hans_bauer"]]


def test_name_is_found_case_and_accent_insensitive_by_any_word(db, people):
    for typed in ("müller", "MULLER", "Mueller", "mül", "gmbh", "kg", "co"):
        assert people["mueller"] in [m.customer_id for m in _find(db, typed)], typed
    both = _find(db, "bauer")
    # The name that starts with it before the one with it as a later word.
    assert [m.customer_id for m in both] == [people["bauer"], people["hans_bauer"]]
    assert [m.customer_id for m in _find(db, "hans bau")] == [people["hans_bauer"]]
    assert all(m.matched_by == "name" for m in both)


def test_contact_names_find_their_customer(db, people):
    match = _find(db, "schroder")[0]
    assert (match.customer_id, match.matched_by, match.contact_name) == (
        people["mueller"],
        "contact",
        "Hans Schröder",
    )
    # Words of one name must all match: 'hans schr' is the contact, not Hans Bauer.
    assert [m.matched_by for m in _find(db, "hans schr")] == ["contact"]


def test_small_typos_are_tolerated_after_exact_matches(db, people):
    assert _names(_find(db, "Mülelr")) == ["Müller GmbH & Co. KG"]  # swapped letters
    assert _names(_find(db, "logisitc")) == ["Bauer Logistik AG"]  # long word, two edits
    assert _names(_find(db, "schroeder")) == ["Müller GmbH & Co. KG"]  # oe for ö
    # Exact before fuzzy: 'meyer' is Meyer; Meier is one letter away and comes after.
    assert [m.customer_id for m in _find(db, "meyer")] == [people["meyer"], people["meier"]]
    assert _find(db, "zzzzqqq") == []


def test_customer_number_and_serial(db, admin, people):
    number = _find(db, "K-100002")
    assert [(m.customer_id, m.matched_by) for m in number] == [(people["bauer"], "number")]
    assert _find(db, "k-100002")[0].customer_id == people["bauer"]
    assert _find(db, "100002")[0].customer_id == people["bauer"]
    with db.session() as s:
        s.add(Unit(serial="SN-77-ABC", item="LJ-4000", customer_id=people["meier"]))
    match = _find(db, "sn-77-abc")[0]
    assert (match.customer_id, match.matched_by, match.unit_serial) == (
        people["meier"],
        "serial",
        "SN-77-ABC",
    )
    assert match.unit_id is not None


def test_open_incidents_counts_only_open_statuses(db, admin, people):
    with db.session() as s:
        for status in ("registered", "in_process", "pending", "solved", "closed", "draft"):
            s.add(
                Incident(
                    channel="phone",
                    request_type="action",
                    status=status,
                    created_by_id=admin.id,
                    customer_id=people["meyer"],
                )
            )
    match = _find(db, "meyer")[0]
    assert match.open_incidents == 3
    assert _find(db, "meier holz")[0].open_incidents == 0


def test_limit_and_empty_query(db, admin):
    with db.session() as s:
        for i in range(30):
            add_customer(s, actor=admin, name=f"Schmidt {i:02d}")
    assert len(_find(db, "schmidt")) == 20
    assert len(_find(db, "schmidt", limit=5)) == 5
    assert _find(db, "   ") == []


def _words(db) -> list[tuple[str, int, int | None]]:
    with db.session(write=False) as s:
        rows = s.execute(
            select(CustomerToken.term, CustomerToken.customer_id, CustomerToken.contact_id)
        ).all()
    return sorted((tuple(r) for r in rows), key=lambda r: (r[0], r[1], r[2] or 0))


def test_rebuild_search_index_writes_the_same_words(db, admin, people):
    before = _words(db)
    with db.session() as s:
        written = rebuild_search_index(s)
    after = _words(db)
    assert written == len(after) and after == before
    assert ("mueller", people["mueller"], None) in after


def test_orm_written_rows_are_searchable_once_indexed(db, admin):
    """Rows written straight through the ORM (imports, test data) get their name words from
    `index_names`; the model writes none by itself, and a second call replaces the words."""
    with db.session() as s:
        row = Customer(number="X-1", name="Zebra Zentrale", search_name="zebra zentrale")
        s.add(row)
        s.flush()
        person = Contact(customer_id=row.id, name="Quincy Quade", search_name="quincy quade")
        s.add(person)
        s.flush()
        assert s.scalars(select(CustomerToken)).all() == []
        index_names(s, row, person)
        row.name = "Yak Yard"
        s.flush()
        index_names(s, row)
    assert _names(_find(db, "yard")) == ["Yak Yard"]
    assert _names(_find(db, "quade")) == ["Yak Yard"]
    assert _find(db, "zentrale") == []


def test_look_up_uses_indexes_only(sqlite_db):
    """On SQLite, every statement of a look-up searches an index: none scans a table."""
    from cc_tui.services.context import actor_of, bootstrap_admin

    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        info = add_customer(s, actor=admin, name="Müller GmbH", phone="030 1234567")
        add_contact(s, actor=admin, customer_id=info.id, name="Hans Schröder", email="h@x.de")
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(sqlite_db.engine, "before_cursor_execute", capture)
    try:
        for typed in ("030 1234567", "030 12", "h@x.de", "mül", "hans schr", "mulelr", "K-1"):
            _find(sqlite_db, typed)
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", capture)
    assert len(statements) > 10
    scans = []
    details: set[str] = set()
    with sqlite_db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            for row in plan:
                detail = row[-1]
                # Scans of subquery or CTE rows are fine; a scan of a table is not.
                words = detail.split()
                if words[0] == "SCAN" and words[1] in TABLES:
                    scans.append((detail, statement))
                details.add(detail)
    assert scans == []
    assert any("customer_token USING COVERING INDEX ix_customer_token_term" in d for d in details)


# ---------------------------------------------------------------------------- CLI


def test_cli_customer_add_show_find_json(cli):
    result = cli(
        "customer",
        "add",
        "--name",
        HOSTILE,
        "--phone",
        "030/1234567",
        "--email",
        "desk@acme.example",
        "--fax",
        "030 1234599",
        "--address",
        "Hauptstr. 1",
        "--region",
        "NORTH",
        "--json",
    )
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)
    assert added["id"] == 1 and added["number"] == "K-100001"
    assert added["name"] == HOSTILE
    assert added["phone_e164"] == "+49301234567" and added["fax_e164"] == "+49301234599"
    assert added["block_level"] == "none" and added["contacts"] == []

    found = cli("customer", "find", "+49 30 1234567", "--json")
    assert found.exit_code == 0, found.output
    rows = json.loads(found.stdout)
    assert isinstance(rows, list) and rows[0]["customer_id"] == 1
    assert set(rows[0]) >= {
        "customer_id",
        "number",
        "name",
        "matched_by",
        "contact_id",
        "unit_serial",
        "open_incidents",
        "block_level",
        "block_reason",
    }
    assert json.loads(cli("customer", "find", "nobody-here", "--json").stdout) == []

    contact = cli("customer", "contact-add", "K-100001", "--name", "Anna", "--json")
    assert contact.exit_code == 0, contact.output
    assert json.loads(contact.stdout)["customer_id"] == 1
    shown = json.loads(cli("customer", "show", "1", "--json").stdout)
    assert shown["name"] == HOSTILE and [c["name"] for c in shown["contacts"]] == ["Anna"]
    human = cli("customer", "show", "K-100001")
    assert HOSTILE in human.stdout


def test_cli_block_flags_and_exit_codes(cli):
    missing = cli("customer", "add", "--name", "Acme", "--block", "warn", "--json")
    assert missing.exit_code == 2
    assert "needs a reason" in missing.stderr and missing.stdout == ""
    added = cli(
        "customer",
        "add",
        "--name",
        "Acme",
        "--block",
        "block",
        "--block-reason",
        "unpaid invoices",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["block_reason"] == "unpaid invoices"
    freed = cli("customer", "block", "1", "none", "--json")
    assert freed.exit_code == 0, freed.output
    assert json.loads(freed.stdout)["block_level"] == "none"
    warned = cli("customer", "block", "1", "warn", "--reason", "be brief", "--json")
    assert json.loads(warned.stdout)["block_reason"] == "be brief"
    assert cli("customer", "show", "42", "--json").exit_code == 3
    assert cli("customer", "block", "1", "maybe").exit_code == 2
    assert cli("customer", "add", "--json").exit_code == 2  # --name missing

    assert cli("agent", "add", "bob", "--name", "Bob", "--role", "agent").exit_code == 0
    refused = cli("customer", "block", "1", "block", "--reason", "x", login="bob")
    assert refused.exit_code == 1 and "supervisor" in refused.stderr


def test_cli_update_with_stale_version_is_a_conflict(cli):
    cli("customer", "add", "--name", "Acme", "--json")
    ok = cli("customer", "update", "1", "--version", "1", "--city", "Köln", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["city"] == "Köln"
    stale = cli("customer", "update", "1", "--version", "1", "--city", "Bonn")
    assert stale.exit_code == 4 and "changed by admin" in stale.stderr
    assert cli("customer", "update", "1", "--version", "2").exit_code == 2


def test_cli_default_country_setting_reads_local_numbers(cli, monkeypatch):
    monkeypatch.setenv("CC_TUI_DEFAULT_COUNTRY", "NL")
    result = cli("customer", "add", "--name", "Amsterdam BV", "--phone", "020 555 0000", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["phone_e164"] == "+31205550000"
    found = json.loads(cli("customer", "find", "020 5550000", "--json").stdout)
    assert [r["name"] for r in found] == ["Amsterdam BV"]


def test_search_table_has_no_rows_for_removed_customers(db, admin):
    with db.session() as s:
        info = add_customer(s, actor=admin, name="Gone Soon")
        add_contact(s, actor=admin, customer_id=info.id, name="Also Gone")
    with db.session() as s:
        s.execute(text("DELETE FROM customer WHERE id = :id"), {"id": info.id})
    with db.session(write=False) as s:
        assert s.scalars(select(CustomerToken)).all() == []


def test_add_caller_records_the_customer_and_its_caller_or_neither(db, admin):
    with db.session() as s:
        added = add_caller(
            s,
            actor=admin,
            customer={"name": "Neu GmbH", "phone": "030 5550100"},
            contact_name="Eva Neu",
            contact_phone="0171 5550002",
        )
    assert added.customer.name == "Neu GmbH"
    assert added.contact is not None and added.contact.name == "Eva Neu"
    assert added.contact.is_primary
    with pytest.raises(UsageError) as refused, db.session() as s:
        add_caller(
            s, actor=admin, customer={"name": "Zweite AG"}, contact_name="Max", contact_phone="12ab"
        )
    # The refusal names the contact's field, and the customer was not kept either.
    assert refused.value.field == "contact_phone"
    with db.session() as s:
        assert s.execute(select(Customer).where(Customer.name == "Zweite AG")).all() == []
