"""The event timeline (M8) and time tracking (M9), on SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from cc_tui import clock
from cc_tui.db.engine import Database
from cc_tui.errors import DuplicateRow, NotFound, RuleViolation, UsageError
from cc_tui.models import Event, Incident, TimeEntry
from cc_tui.services.directory import event_types
from cc_tui.services.directory.event_types import (
    add_event_type,
    remove_event_type,
    update_event_type,
)
from cc_tui.services.incidents import event_log, timeline, timetrack
from cc_tui.services.incidents.intake import IntakeForm, save_call
from cc_tui.services.incidents.lifecycle import change_status
from cc_tui.services.incidents.records import incident_detail
from cc_tui.services.incidents.timeline import add_event_to_incident, incident_summary
from cc_tui.services.incidents.timeline import timeline as read_timeline
from cc_tui.services.incidents.timetrack import (
    agent_time,
    book_time,
    incident_time,
    start_timer,
    stop_timer,
    timer_status,
)
from tests import factories as f

HOSTILE = "[@click=app.quit]x[/]"


@pytest.fixture
def world(db, admin):
    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        acme = f.customer(s, "Acme")
        other = f.customer(s, "Other")
        anna = f.contact(s, acme, "Anna Nowak")
        bob = f.agent(s, "bob")
        numbers = [
            save_call(
                s,
                actor=admin,
                channel="phone",
                form=IntakeForm(
                    request_type="action", customer_id=cid, title=title, reason="HW/DISK"
                ),
            ).number
            for cid, title in ((acme.id, "Disk full"), (acme.id, "Printer"), (other.id, "Other"))
        ]
    return {"inc": numbers, "anna": anna.id, "bob": bob}


def add(db, actor, ref, type_code="Note", text="a note", **kw):
    with db.session() as s:
        return add_event_to_incident(s, actor=actor, ref=ref, type_code=type_code, text=text, **kw)


# --- append-only ---------------------------------------------------------------------------


def test_no_service_function_updates_or_deletes_events():
    for module in (event_log, timeline, timetrack):
        names = [n for n, fn in inspect.getmembers(module, inspect.isfunction)]
        assert not [n for n in names if any(w in n for w in ("update", "delete", "edit"))], module
    # Event types may be changed; their functions never touch event rows.
    assert "delete(Event" not in inspect.getsource(event_types)


def test_database_refuses_update_and_delete_of_events(db, admin, world):
    event_id = add(db, admin, world["inc"][0], text="original").id
    with pytest.raises(RuleViolation, match="append-only"), db.session() as s:
        s.execute(update(Event).where(Event.id == event_id).values(text="rewritten"))
    with pytest.raises(RuleViolation, match="append-only"), db.session() as s:
        s.execute(delete(Event).where(Event.id == event_id))
    with pytest.raises(RuleViolation, match="append-only"), db.session() as s:
        row = s.get(Event, event_id)
        row.text = "through the ORM"
        s.flush()
    with db.session() as s:
        assert s.get(Event, event_id).text == "original"


def test_correction_is_a_new_event_referring_to_the_original(db, admin, world):
    inc, other = world["inc"][0], world["inc"][2]
    original = add(db, admin, inc, "CallIn", "customer says disk is 2 TB")
    fix = add(db, admin, inc, "Note", "it is 4 TB, not 2", corrects_id=original.id)
    assert fix.id != original.id and fix.corrects_id == original.id
    with db.session() as s:
        assert s.get(Event, original.id).text == "customer says disk is 2 TB"
        page = read_timeline(s, ref=inc, kind="user")
    assert [e.corrects_id for e in page.events if e.id == fix.id] == [original.id]
    with pytest.raises(RuleViolation, match=f"belongs to {inc}"):
        add(db, admin, other, "Note", "wrong incident", corrects_id=original.id)
    with pytest.raises(NotFound):
        add(db, admin, inc, "Note", "no such event", corrects_id=999_999)


def test_a_correction_is_no_contact_and_marks_the_event_it_corrects(db, admin, world):
    inc = world["inc"][1]
    with db.session() as s:
        before = incident_summary(s, ref=inc).counts["contact"]
    original = add(db, admin, inc, "CallOut", "told the customer: 2 TB")
    fix = add(db, admin, inc, "CallOut", "it is 4 TB, not 2", corrects_id=original.id)
    assert not fix.is_contact and not fix.first_response
    again = add(db, admin, inc, "Note", "and the model is X2", corrects_id=original.id)
    with db.session() as s:
        counts = incident_summary(s, ref=inc).counts
        contacts = read_timeline(s, ref=inc, kind="contact").events
        shown = {e.id: e for e in read_timeline(s, ref=inc).events}
    assert counts["contact"] == before + 1
    assert original.id in [e.id for e in contacts] and fix.id not in [e.id for e in contacts]
    assert shown[original.id].corrected_by == again.id  # the newest correction
    assert shown[original.id].is_contact is True
    assert shown[fix.id].corrected_by is None and shown[fix.id].is_contact is False


def test_event_text_with_markup_is_stored_verbatim(db, admin, world):
    added = add(db, admin, world["inc"][0], "Note", HOSTILE)
    assert added.text == HOSTILE
    with db.session() as s:
        assert s.get(Event, added.id).text == HOSTILE


def test_event_rules(db, admin, world):
    inc = world["inc"][0]
    with pytest.raises(RuleViolation, match="written by cc-tui"):
        add(db, admin, inc, "StatusChange", "sneaky")
    with pytest.raises(UsageError):
        add(db, admin, inc, "Note", "   ")
    with pytest.raises(NotFound):
        add(db, admin, inc, "Carrier-Pigeon", "coo")
    with pytest.raises(RuleViolation, match="not a contact"):
        add(db, admin, world["inc"][2], "CallIn", "hi", contact_id=world["anna"])
    row = add(
        db, admin, inc, "callin", "lower-case type", contact_id=world["anna"], duration_minutes=4
    )
    assert (row.type, row.contact_name, row.duration_minutes) == ("CallIn", "Anna Nowak", 4)


# --- first response ------------------------------------------------------------------------


def test_first_response_is_the_first_outbound_contact_and_is_stamped_once(db, admin, world):
    inc = world["inc"][0]
    with db.session() as s:
        assert incident_detail(s, inc).first_response_at is None  # intake's CallIn is inbound
    assert add(db, admin, inc, "Note", "internal").first_response is False
    assert add(db, admin, inc, "CallIn", "caller again, no owner yet").first_response is False
    first = add(db, admin, inc, "EmailOut", "we are on it")
    assert first.first_response is True and first.first_response_at == first.at
    later = add(db, admin, inc, "CallOut", "called back")
    assert later.first_response is False and later.first_response_at == first.at
    with db.session() as s:
        assert incident_detail(s, inc).first_response_at == first.at


def test_a_call_in_answered_by_the_owner_is_a_response(db, admin, world):
    inc = world["inc"][1]
    bob = world["bob"]
    with db.session() as s:
        change_status(s, actor=bob, ref=inc, to="assigned")  # bob becomes the owner
    assert add(db, admin, inc, "CallIn", "admin took the call").first_response is False
    assert add(db, bob, inc, "EmailIn", "a mail to the owner").first_response is False
    assert add(db, bob, inc, "CallIn", "owner answered").first_response is True


def test_a_call_added_at_intake_by_the_owner_is_a_response(db, admin, world):
    from cc_tui.services.incidents.intake import add_to_existing

    inc, bob = world["inc"][1], world["bob"]
    with db.session() as s:
        add_to_existing(s, actor=bob, target_ref=inc, text="called again, not the owner")
        assert incident_detail(s, inc).first_response_at is None
        change_status(s, actor=bob, ref=inc, to="assigned")
    with db.session() as s:
        add_to_existing(s, actor=bob, target_ref=inc, text="the owner took the call")
        assert incident_detail(s, inc).first_response_at is not None


# --- event types ---------------------------------------------------------------------------


def test_event_types_are_data_for_admins(db, admin, world):
    bob = world["bob"]
    with db.session() as s:
        sms = add_event_type(
            s, actor=admin, code="SmsOut", name=" SMS  out ", direction="outbound", is_contact=True
        )
    assert (sms.name, sms.direction, sms.is_contact, sms.is_system) == (
        "SMS out",
        "outbound",
        True,
        False,
    )
    # A user-defined outbound contact type counts as a first response like CallOut.
    assert add(db, admin, world["inc"][0], "SmsOut", "technician comes at 10").first_response
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        add_event_type(s, actor=bob, code="Fax", name="Fax")
    with pytest.raises(RuleViolation, match="exists already"), db.session() as s:
        add_event_type(s, actor=admin, code="smsout", name="again")
    with pytest.raises(UsageError, match="direction"), db.session() as s:
        add_event_type(s, actor=admin, code="Fax", name="Fax", direction="sideways")
    with pytest.raises(UsageError, match="code"), db.session() as s:
        add_event_type(s, actor=admin, code="1 bad code", name="x")
    with pytest.raises(RuleViolation, match="only an admin"), db.session() as s:
        update_event_type(s, actor=bob, code="SmsOut", name="Text message")


def test_a_batch_of_transactions_reads_the_event_types_once(db, admin, world):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        # The read of all event types (others load one by its id).
        if statement.lstrip().startswith("SELECT event_type.id") and "WHERE" not in statement:
            reads.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        with event_log.event_types_per_batch():
            add(db, admin, world["inc"][0], "Note", "first")
            # A transaction that rolls back does not spoil what the next ones share.
            with pytest.raises(RuntimeError), db.session() as s:
                assert event_log.event_type(s, "callin").code == "CallIn"
                raise RuntimeError("rolled back")
            add(db, admin, world["inc"][0], "CallIn", "second")
            assert len(reads) == 1
            # A type added inside the batch is found by the transactions after it.
            with db.session() as s:
                add_event_type(s, actor=admin, code="Fax", name="Fax")
            add(db, admin, world["inc"][0], "Fax", "third")
        # Outside a batch every transaction reads them.
        before = len(reads)
        add(db, admin, world["inc"][0], "Note", "fourth")
        assert len(reads) == before + 1
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_system_kinds_cannot_be_edited_or_deleted(db, admin):
    for code in ("StatusChange", "assignment"):
        with pytest.raises(RuleViolation, match="system event kind"), db.session() as s:
            update_event_type(s, actor=admin, code=code, name="mine now")
        with pytest.raises(RuleViolation, match="system event kind"), db.session() as s:
            update_event_type(s, actor=admin, code=code, active=False)
        with pytest.raises(RuleViolation, match="system event kind"), db.session() as s:
            remove_event_type(s, actor=admin, code=code)


def test_retired_type_cannot_be_used_and_used_type_cannot_be_removed(db, admin, world):
    inc = world["inc"][0]
    with db.session() as s:
        add_event_type(s, actor=admin, code="Visit", name="Site visit")
        add_event_type(s, actor=admin, code="Typo", name="Typo")
    add(db, admin, inc, "Visit", "went there")
    with pytest.raises(RuleViolation, match="retire it instead"), db.session() as s:
        remove_event_type(s, actor=admin, code="Visit")
    with db.session() as s:
        retired = update_event_type(s, actor=admin, code="Visit", active=False)
        remove_event_type(s, actor=admin, code="typo")
    assert retired.active is False
    with pytest.raises(RuleViolation, match="retired"):
        add(db, admin, inc, "Visit", "again")
    with pytest.raises(NotFound):
        add(db, admin, inc, "Typo", "gone")
    with pytest.raises(UsageError, match="nothing to change"), db.session() as s:
        update_event_type(s, actor=admin, code="Visit")


# --- timer and time entries ----------------------------------------------------------------


@pytest.mark.commits
def test_timer_survives_a_restart(db, admin, world):
    inc = world["inc"][0]
    with db.session() as s:
        start_timer(s, actor=admin, ref=inc)
    db.dispose()
    again = Database(db.url.render_as_string(hide_password=False))
    try:
        with again.session(write=False) as s:
            status = timer_status(s, actor=admin)
            detail = incident_detail(s, inc)
    finally:
        again.dispose()
    assert status.running and status.incident == inc and status.title == "Disk full"
    assert detail.time_spent_minutes == 0  # booked when stopped


def test_one_running_timer_per_agent(db, admin, world):
    first, second = world["inc"][0], world["inc"][1]
    t0 = clock.now() - timedelta(hours=1)
    with db.session() as s:
        start_timer(s, actor=admin, ref=first, now=t0)
        start_timer(s, actor=world["bob"], ref=first, now=t0)  # two agents, one incident: fine
    with pytest.raises(RuleViolation, match="runs on"), db.session() as s:
        start_timer(s, actor=admin, ref=first)
    with db.session() as s:
        switched = start_timer(s, actor=admin, ref=second, now=t0 + timedelta(minutes=25))
    assert switched.stopped is not None
    assert (switched.stopped.incident, switched.stopped.minutes) == (first, 25)
    assert switched.timer.incident == second
    with db.session() as s:
        running = s.scalars(
            select(TimeEntry).where(TimeEntry.agent_id == admin.id, TimeEntry.ended_at.is_(None))
        ).all()
        assert [r.incident_id for r in running] == [int(second.split("-")[1])]
    # The database holds the same line: a second running row for an agent is refused
    # as a duplicate (a unique index), which a reader may tell from other refusals.
    with pytest.raises(DuplicateRow, match="refused by the database"), db.session() as s:
        s.add(TimeEntry(incident_id=running[0].incident_id, agent_id=admin.id, started_at=t0))
        s.flush()


def test_stop_books_minutes_with_a_note_and_writes_the_timeline(db, admin, world):
    inc = world["inc"][0]
    t0 = clock.now() - timedelta(hours=2)
    with pytest.raises(RuleViolation, match="no timer"), db.session() as s:
        stop_timer(s, actor=admin)
    with db.session() as s:
        start_timer(s, actor=admin, ref=inc, now=t0)
        entry = stop_timer(s, actor=admin, note=" replaced toner ", now=t0 + timedelta(minutes=42))
    assert (entry.minutes, entry.note, entry.agent) == (42, "replaced toner", "admin")
    with db.session() as s:
        start_timer(s, actor=admin, ref=inc, now=t0)
        short = stop_timer(s, actor=admin, now=t0 + timedelta(seconds=5))
        assert short.minutes == 1  # it ran: at least one minute
        page = read_timeline(s, ref=inc, kind="user", newest_first=True, limit=4)
        assert not timer_status(s, actor=admin).running
    texts = [e.text for e in page.events]
    assert texts == [
        "Timer stopped: 1 min booked",
        "Timer started",
        "Timer stopped: 42 min booked. replaced toner",
        "Timer started",
    ]
    assert page.events[2].data["minutes"] == 42


def test_booking_time_and_sums(db, admin, world):
    first, second = world["inc"][0], world["inc"][1]
    bob = world["bob"]
    for bad in (0, -5, 24 * 60 + 1):
        with pytest.raises(UsageError, match="minutes"), db.session() as s:
            book_time(s, actor=admin, ref=first, minutes=bad)
    with db.session() as s:
        book_time(s, actor=admin, ref=first, minutes=30, note="diagnosis")
        book_time(s, actor=bob, ref=first, minutes=15)
        book_time(s, actor=admin, ref=second, minutes=10)
        start_timer(s, actor=admin, ref=second)  # running: not booked yet
    with db.session() as s:
        per_incident = incident_time(s, ref=first)
        per_agent = agent_time(s, login="admin")
        detail = incident_detail(s, first)
        summary = incident_summary(s, ref=second)
    assert per_incident.total_minutes == 45 and per_incident.entries == 2
    assert [(t.key, t.minutes) for t in per_incident.by] == [("admin", 30), ("bob", 15)]
    assert per_agent.total_minutes == 40
    assert [(t.key, t.minutes) for t in per_agent.by] == [(first, 30), (second, 10)]
    assert detail.time_spent_minutes == 45
    assert summary.time_spent_minutes == 10
    assert [t.agent for t in summary.running_timers] == ["admin"]
    with pytest.raises(NotFound), db.session() as s:
        agent_time(s, login="nobody")


def test_no_timer_on_a_closed_incident(db, admin, world):
    inc = world["inc"][2]
    with db.session() as s:
        change_status(s, actor=admin, ref=inc, to="closed", coordinator=True)
    with pytest.raises(RuleViolation, match="closed"), db.session() as s:
        start_timer(s, actor=admin, ref=inc)
    with db.session() as s:  # late bookkeeping on a closed incident is allowed
        assert book_time(s, actor=admin, ref=inc, minutes=5).minutes == 5


# --- reading -------------------------------------------------------------------------------


def test_timeline_is_keyset_paged_and_filtered(db, admin, world):
    inc = world["inc"][0]
    with db.session() as s:
        for i in range(60):
            add_event_to_incident(
                s, actor=admin, ref=inc, type_code="CallOut" if i % 3 == 0 else "Note", text=str(i)
            )
    seen: list[int] = []
    after = None
    with db.session(write=False) as s:
        while True:
            page = read_timeline(s, ref=inc, limit=25, after=after)
            seen.extend(e.id for e in page.events)
            if page.next_after is None:
                break
            after = page.next_after
        newest = read_timeline(s, ref=inc, limit=5, newest_first=True)
        older = read_timeline(s, ref=inc, limit=5, newest_first=True, after=newest.next_after)
        contacts = read_timeline(s, ref=inc, kind="contact", limit=500)
        system = read_timeline(s, ref=inc, kind="system", limit=500)
        summary = incident_summary(s, ref=inc)
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 63  # + intake's 3
    assert [e.text for e in newest.events] == ["59", "58", "57", "56", "55"]
    assert [e.text for e in older.events] == ["54", "53", "52", "51", "50"]
    assert all(e.is_contact for e in contacts.events)
    assert len(contacts.events) == 21  # 20 CallOut + intake's CallIn
    assert {e.type for e in system.events} == {"Contact", "StatusChange"}
    assert summary.counts == {"all": 63, "user": 61, "system": 2, "contact": 21}
    assert summary.detail.events == [] and summary.detail.number == inc
    assert set(summary.deadlines) >= {"response_due", "resolve_due", "expected_close"}
    with pytest.raises(UsageError, match="kind"), db.session() as s:
        read_timeline(s, ref=inc, kind="gossip")


def test_incident_rows_untouched_by_reading(db, admin, world):
    inc = world["inc"][0]
    with db.session() as s:
        version = s.get(Incident, int(inc.split("-")[1])).version
        read_timeline(s, ref=inc)
        incident_summary(s, ref=inc)
    with db.session() as s:
        assert s.get(Incident, int(inc.split("-")[1])).version == version


# --- command line --------------------------------------------------------------------------


def test_cli_event_timeline_and_show(cli, world):
    inc = world["inc"][0]
    added = cli("incident", "event", inc, "--type", "CallOut", "--text", HOSTILE, "--json")
    assert added.exit_code == 0, added.stderr
    data = json.loads(added.stdout)
    assert data["text"] == HOSTILE and data["first_response"] is True
    assert "first response" in added.stderr
    fix = cli(
        "incident",
        "event",
        inc,
        "--type",
        "Note",
        "--text",
        "typo",
        "--corrects",
        str(data["id"]),
        "--json",
    )
    assert json.loads(fix.stdout)["corrects_id"] == data["id"]
    page = json.loads(
        cli(
            "incident",
            "timeline",
            inc,
            "--kind",
            "user",
            "--limit",
            "2",
            "--newest-first",
            "--json",
        ).stdout
    )
    assert set(page) == {"incident", "kind", "newest_first", "events", "next_after"}
    assert [e["text"] for e in page["events"]] == ["typo", HOSTILE]
    assert page["next_after"] == data["id"]
    contacts = json.loads(cli("incident", "timeline", inc, "--kind", "contact", "--json").stdout)
    assert [e["type"] for e in contacts["events"]] == ["CallIn", "CallOut"]
    shown = json.loads(cli("incident", "show", inc, "--json").stdout)
    assert shown["first_response_at"] == data["at"]
    assert shown["time_spent_minutes"] == 0
    assert HOSTILE in [e["text"] for e in shown["events"]]
    assert cli("incident", "timeline", inc, "--kind", "gossip").exit_code == 2
    assert cli("incident", "timeline", "INC-999999", "--json").exit_code == 3
    refused = cli("incident", "event", inc, "--type", "StatusChange", "--text", "x")
    assert refused.exit_code == 1 and refused.stdout == ""
    missing = cli("incident", "event", inc, "--type", "Note", "--text", "x", "--corrects", "99999")
    assert missing.exit_code == 3 and "no event 99999" in missing.stderr


def test_cli_timer_and_time(cli, world):
    inc = world["inc"][0]
    idle = json.loads(cli("timer", "status", "--json").stdout)
    assert idle["running"] is False
    started = cli("timer", "start", inc, "--json")
    assert started.exit_code == 0, started.stderr
    assert json.loads(started.stdout)["timer"]["incident"] == inc
    assert cli("timer", "start", inc).exit_code == 1
    status = json.loads(cli("timer", "status", "--json").stdout)
    assert status["running"] is True and status["incident"] == inc
    stopped = json.loads(cli("timer", "stop", "--note", "done", "--json").stdout)
    assert stopped["minutes"] >= 1 and stopped["note"] == "done"
    assert cli("timer", "stop").exit_code == 1
    booked = cli("time", "add", inc, "--minutes", "20", "--note", "call", "--json")
    assert json.loads(booked.stdout)["minutes"] == 20
    assert cli("time", "add", inc, "--minutes", "0").exit_code == 2
    assert cli("time", "add", "INC-999999", "--minutes", "5").exit_code == 3
    total = json.loads(cli("time", "sum", "--incident", inc, "--json").stdout)
    assert total["total_minutes"] == 20 + stopped["minutes"]
    shown = json.loads(cli("incident", "show", inc, "--json").stdout)
    assert shown["time_spent_minutes"] == total["total_minutes"]
    assert cli("time", "sum").exit_code == 2
    by_bob = cli("timer", "status", "--json", login="bob")
    assert json.loads(by_bob.stdout)["running"] is False


def test_cli_event_types(cli, world):
    added = cli(
        "event-type",
        "add",
        "SmsOut",
        "--name",
        "SMS out",
        "--direction",
        "outbound",
        "--contact",
        "--json",
    )
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["is_contact"] is True
    listed = json.loads(cli("event-type", "list", "--json").stdout)
    codes = {t["code"]: t for t in listed}
    assert codes["SmsOut"]["direction"] == "outbound" and codes["StatusChange"]["is_system"]
    changed = json.loads(
        cli("event-type", "set", "SmsOut", "--name", "Text message", "--inactive", "--json").stdout
    )
    assert (changed["name"], changed["active"]) == ("Text message", False)
    refused = cli("event-type", "set", "StatusChange", "--name", "x")
    assert refused.exit_code == 1 and "cannot be edited" in refused.stderr
    assert cli("event-type", "add", "Fax", "--name", "Fax", login="bob").exit_code == 1
    assert cli("event-type", "add", "Fax", "--name", "Fax", "--direction", "up").exit_code == 2
    assert cli("event-type", "set", "Nope", "--name", "x").exit_code == 3
