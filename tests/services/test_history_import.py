"""Importing a ServiceNow-style incident history, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import col

from cc_tui.errors import RuleViolation, UsageError
from cc_tui.models import Agent, Code, Customer, Department, Event, EventType, Incident, Priority
from cc_tui.services.context import actor_of
from cc_tui.services.directory.customers import find_customers
from cc_tui.services.importing.incidents import import_incidents, login_for, parse_mapping
from cc_tui.services.reports import figures
from cc_tui.services.reports.arrays import percentile
from cc_tui.services.reports.times import times
from tests import factories as f
from tests.servicenow_export import COLUMNS, generate

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    f.fake_clock(monkeypatch, NOW)


def write(tmp_path, text: str, name: str = "export.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(db, admin, path, **options):
    return import_incidents(db, actor=admin, path=path, zone=UTC, **options)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_generated_export_bad_rows_skipped_and_second_run_imports_nothing(db, admin, tmp_path):
    export = generate(70, bad_every=7, agents=6, callers=15)
    path = write(tmp_path, export.text)
    first = run(db, admin, path)
    good = export.good
    assert first.rows == 70
    assert first.imported == len(good) == 60
    assert first.skipped_existing == 0
    assert {b.line: b.reason for b in first.bad}.keys() == export.bad.keys()
    for bad in first.bad:
        assert export.bad[bad.line] in bad.reason
    empty = next(b for b in first.bad if "number is empty" in b.reason)
    assert empty.number is None
    people = {
        login_for(r[column])
        for r in good
        for column in ("assigned_to", "closed_by", "opened_by", "sys_created_by")
        if r[column]
    }
    nobody = any(not r["opened_by"] and not r["sys_created_by"] for r in good)
    close_codes = {r["close_code"] for r in good if r["close_code"]}
    assert nobody and "Closed/Resolved by Caller" in close_codes
    resolutions = {c.split(" (")[0] for c in close_codes} | {c for c in close_codes if "(" in c}
    assert first.created == {
        "agents": len(people) + nobody,
        "departments": len({r["assignment_group"] for r in good}),
        "reason_codes": len({r["category"] for r in good})
        + len({(r["category"], r["subcategory"]) for r in good}),
        "priorities": len({r["priority"] for r in good}),
        "customers": len({r["caller_id"] for r in good}),
        "resolution_codes": len(resolutions),
    }
    second = run(db, admin, path)
    assert (second.imported, second.skipped_existing) == (0, 60)
    assert set(second.created.values()) == {0}
    assert len(second.bad) == 10
    with db.session(write=False) as session:
        numbers = session.scalars(select(col(Incident.source_number))).all()
        assert sorted(numbers) == sorted(r["number"] for r in good)
        # Every incident has its Imported event and no more than the history's steps.
        imported_type = session.scalars(
            select(col(EventType.id)).where(col(EventType.code) == "Imported")
        ).one()
        marks = session.scalars(
            select(col(Event.incident_id)).where(col(Event.event_type_id) == imported_type)
        ).all()
        assert Counter(marks) == Counter({i: 1 for i in set(marks)}) and len(marks) == 60


def test_one_row_becomes_a_closed_incident_with_its_times_names_and_timeline(db, admin, tmp_path):
    header = ",".join(COLUMNS)
    row = (
        "INC0000042,2025-02-03 08:15:00,2025-02-03 10:45:30,2025-02-05 09:00:00,Closed,"
        "2 - High,Hardware,Disk,Field Services,Beth Anglin,Jürgen Müller,Disk is full,"
        "Carol Coughlin,Berlin,email,David Loo,fred.luddy,Solved (Work Around),"
        '"Freed 2 GB.\nAsked to empty the trash."'
    )
    result = run(db, admin, write(tmp_path, f"{header}\n{row}\n"))
    assert result.imported == 1 and not result.bad
    with db.session(write=False) as session:
        inc = session.scalars(select(Incident)).one()
        assert inc.status == "closed" and inc.source_number == "INC0000042"
        assert inc.opened_at == utc("2025-02-03 08:15:00") == inc.registered_at
        assert inc.solved_at == utc("2025-02-03 10:45:30")
        assert inc.closed_at == utc("2025-02-05 09:00:00")
        assert (inc.channel, inc.request_type, inc.title) == ("email", "action", "Disk is full")
        priority = session.get(Priority, inc.priority_id)
        assert (priority.code, priority.name, priority.rank, inc.priority_rank) == (
            "P2",
            "High",
            2,
            2,
        )
        general = session.get(Code, inc.reason_general_id)
        specific = session.get(Code, inc.reason_specific_id)
        assert (general.path, general.name) == ("HARDWARE", "Hardware")
        assert (specific.path, specific.parent_id) == ("HARDWARE/DISK", general.id)
        dept = session.get(Department, inc.department_id)
        assert (dept.code, dept.name) == ("FIELD_SERVICES", "Field Services")
        owner = session.get(Agent, inc.owner_id)
        assert (owner.login, owner.name, owner.active) == ("beth.anglin", "Beth Anglin", False)
        closer = session.scalars(select(Agent).where(col(Agent.login) == "carol.coughlin")).one()
        assert not closer.active
        # opened_by registered it; sys_created_by only stands in when opened_by is empty.
        opener = session.get(Agent, inc.created_by_id)
        assert (opener.login, opener.name, opener.active) == ("david.loo", "David Loo", False)
        fred = session.scalars(select(Agent).where(col(Agent.login) == "fred.luddy")).first()
        assert fred is None
        solved = session.get(Code, inc.resolution_general_id)
        how = session.get(Code, inc.resolution_specific_id)
        assert (solved.kind, solved.path, solved.name) == ("resolution", "SOLVED", "Solved")
        assert (how.path, how.name) == ("SOLVED/WORK_AROUND", "Work Around")
        assert how.parent_id == solved.id
        assert inc.actual_solution == "Freed 2 GB.\nAsked to empty the trash."
        customer = session.get(Customer, inc.customer_id)
        assert customer.name == "Jürgen Müller" and customer.number.startswith("K-")
        assert customer.address == "Berlin"
        # Found by the caller look-up as any customer (folded, umlaut spelling too).
        hits = find_customers(session, text="mueller")
        assert [h.number for h in hits] == [customer.number]
        events = session.execute(
            select(col(EventType.code), col(Event.at), col(Event.author_id), col(Event.data))
            .join(EventType, col(EventType.id) == col(Event.event_type_id))
            .where(col(Event.incident_id) == inc.id)
            .order_by(col(Event.id))
        ).all()
        assert [(e[0], e[1], e[2]) for e in events][:1] == [("Imported", inc.opened_at, opener.id)]
        assert [(e[0], e[1]) for e in events] == [
            ("Imported", inc.opened_at),
            ("StatusChange", inc.solved_at),
            ("StatusChange", inc.closed_at),
        ]
        assert events[0][3]["source_number"] == "INC0000042"
        assert events[0][3]["location"] == "Berlin"
        assert events[0][3]["close_code"] == "Solved (Work Around)"
        assert events[0][3]["sys_created_by"] == "fred.luddy"
        assert events[1][2] == owner.id and events[2][2] == closer.id
        assert events[2][3] == {"field": "status", "from": "solved", "to": "closed"}


def test_existing_names_are_used_and_priorities_by_code(db, admin, tmp_path):
    with db.session() as session:
        dept = f.department(session, "DESK", "Service desk")
        bob = Agent(login="bob", name="Bob Builder")
        session.add(bob)
        p2 = f.priority(session, "P2", rank=2)
        known = f.customer(session, name="Acme Corp")
        fixed = Code(kind="resolution", code="FIX", path="FIX", name="Fixed")
        session.add(fixed)
        session.flush()
        replaced = Code(
            kind="resolution",
            code="REPLACED",
            path="FIX/REPLACED",
            name="Part replaced",
            parent_id=fixed.id,
        )
        session.add(replaced)
        session.flush()
        dept_id, bob_id, p2_id, known_id = dept.id, bob.id, p2.id, known.id
        fix = (fixed.id, replaced.id)
    header = (
        "number,opened_at,closed_at,state,priority,assignment_group,assigned_to,caller_id,"
        "opened_by,sys_created_by,close_code"
    )
    rows = [
        "A-1,2025-03-01T10:00:00,2025-03-01T11:00:00,Closed,2 - High,service desk,bob builder,"
        "ACME corp,Bob Builder,,fix/replaced",
        "A-2,2025-03-01T10:00:00,2025-03-01T11:00:00,7,P2,Service Desk,BOB,Acme Corp,,bob,"
        "fixed (Part Replaced)",
        "A-3,2025-03-01T10:00:00,2025-03-01T11:00:00,7,P2,Service Desk,BOB,Acme Corp,,BOB,"
        "Fix (replaced)",
    ]
    result = run(db, admin, write(tmp_path, "\n".join([header, *rows])))
    assert result.imported == 3 and not result.bad
    assert set(result.created.values()) == {0}
    with db.session(write=False) as session:
        got = session.execute(
            select(
                col(Incident.department_id),
                col(Incident.owner_id),
                col(Incident.priority_id),
                col(Incident.customer_id),
                col(Incident.created_by_id),
                col(Incident.resolution_general_id),
                col(Incident.resolution_specific_id),
            )
        ).all()
        assert set(got) == {(dept_id, bob_id, p2_id, known_id, bob_id, *fix)}


def test_map_names_the_columns_of_another_export(db, admin, tmp_path):
    text = (
        "Ticket;Created;Done;Team;Who\n".replace(";", ",")
        + "T-7,03.02.2025 09:00,04.02.2025 17:30,Network,Ann Lee\n"
    )
    mapping = parse_mapping(
        ["Ticket=number", "created=opened_at", "Done=closed_at", "Team=assignment_group"]
    )
    result = run(db, admin, write(tmp_path, text), mapping=mapping, date_format="%d.%m.%Y %H:%M")
    assert result.imported == 1, result.bad
    with db.session(write=False) as session:
        inc = session.scalars(select(Incident)).one()
        assert inc.source_number == "T-7" and inc.status == "closed"
        assert inc.closed_at == utc("2025-02-04 17:30:00")
        assert session.get(Department, inc.department_id).code == "NETWORK"
        assert inc.owner_id is None  # "Who" was not mapped


def test_bad_mapping_and_missing_columns_are_usage_errors(db, admin, tmp_path):
    with pytest.raises(UsageError, match="unknown field 'colour'"):
        parse_mapping(["Ticket=colour"])
    with pytest.raises(UsageError, match="COLUMN=FIELD"):
        parse_mapping(["number"])
    path = write(tmp_path, "id,when\n1,2025-01-01\n")
    with pytest.raises(UsageError, match="no column for number and opened_at"):
        run(db, admin, path)
    with pytest.raises(UsageError, match="no column 'Ticket'"):
        run(db, admin, path, mapping={"Ticket": "number"})
    with pytest.raises(UsageError, match="cannot read"):
        run(db, admin, tmp_path / "missing.csv")


def test_row_checks(db, admin, tmp_path):
    header = "number,opened_at,resolved_at,closed_at,state,priority"
    rows = {
        2: ("R-1,2025-01-01 10:00,2025-01-01 09:00,,Resolved,", "resolved before opened"),
        3: ("R-2,2025-01-01 10:00,2025-01-01 12:00,2025-01-01 11:00,Closed,", "closed before"),
        4: ("R-3,2025-01-01 10:00,,,Closed,", "needs closed_at"),
        5: ("R-4,2025-01-01 10:00,,,Resolved,", "needs resolved_at"),
        6: ("R-5,2027-01-01 10:00,2027-01-02 10:00,,Resolved,", "in the future"),
        7: ("R-6,2025-01-01 10:00,2025-01-01 11:00,,Resolved,12 - Huge", "N from 1 to 9"),
        8: ("R-7,2025-01-01 10:00,2025-01-01 11:00,2025-01-01 12:00,Resolved,", "closed_at is set"),
        9: ("R-8,2025-01-01 10:00,,,,", "not closed history"),
        10: ("R-9,2025-01-01 10:00,2025-01-01 11:00,,Resolved,3", None),
        11: (
            "R-9,2025-01-01 10:00,2025-01-01 11:00,,Resolved,3",
            "appears again (first on line 10)",
        ),
        12: ("R-10,2025-01-01 10:00,,2025-01-01 10:30,Canceled,", None),
        13: ("R-11,0001-01-01 00:30+05:00,0001-01-02,,Resolved,", "out of range"),
        14: ("R-12,2025-01-01 10:00,,9999-12-31 23:59-05:00,Closed,", "out of range"),
    }
    text = "\n".join([header, *(r for r, _ in rows.values())]) + "\n"
    result = run(db, admin, write(tmp_path, text))
    assert result.imported == 2
    reasons = {b.line: b.reason for b in result.bad}
    for line, (_row, why) in rows.items():
        if why is None:
            assert line not in reasons
        else:
            assert why in reasons[line], (line, reasons.get(line))
    with db.session(write=False) as session:
        solved, canceled = session.scalars(select(Incident).order_by(col(Incident.id))).all()
        assert (
            solved.status,
            solved.closed_at,
            session.get(Priority, solved.priority_id).code,
        ) == (
            "solved",
            None,
            "P3",
        )
        assert (canceled.status, canceled.closed_by_coordinator) == ("closed", True)
        assert canceled.solved_at is None


def test_untrusted_cells_are_stored_harmless(db, admin, tmp_path):
    header = "number,opened_at,closed_at,short_description,caller_id,assignment_group"
    row = (
        "X-1,2025-01-01 10:00,2025-01-01 11:00,\"=cmd|' /C calc'!A0\","
        '"Eve \x1b]52;c;ZXZpbA==\x07Hacker","\x1b[31mRed\x1b[0m team"'
    )
    result = run(db, admin, write(tmp_path, f"{header}\n{row}\n"))
    assert result.imported == 1
    with db.session(write=False) as session:
        inc = session.scalars(select(Incident)).one()
        assert inc.title == "=cmd|' /C calc'!A0"  # plain text; exports neutralise it
        assert "\x1b" not in inc.caller_name and "\x07" not in inc.caller_name
        customer = session.get(Customer, inc.customer_id)
        assert "\x1b" not in customer.name
        dept = session.get(Department, inc.department_id)
        assert "\x1b" not in dept.name and dept.code == "31MRED_0M_TEAM"


def test_encodings(db, admin, tmp_path):
    header = "number,opened_at,closed_at,caller_id"
    row = "E-1,2025-01-01 10:00,2025-01-01 11:00,Zoë Müller"
    bom = run(db, admin, write(tmp_path, "\ufeff" + f"{header}\n{row}\n", "bom.csv"))
    assert (bom.encoding, bom.imported) == ("utf-8", 1)
    ansi = run(
        db, admin, write(tmp_path, f"{header}\n{row.replace('E-1', 'E-2')}\n", "a.csv", "cp1252")
    )
    assert (ansi.encoding, ansi.imported) == ("cp1252", 1)
    with db.session(write=False) as session:
        names = set(session.scalars(select(col(Incident.caller_name))).all())
        assert names == {"Zoë Müller"}


def test_times_are_read_in_the_given_zone(db, admin, tmp_path):
    text = "number,opened_at,closed_at\nZ-1,2025-07-01 10:00,2025-07-01 11:00+00:00\n"
    berlin = ZoneInfo("Europe/Berlin")
    result = import_incidents(db, actor=admin, path=write(tmp_path, text), zone=berlin)
    assert result.imported == 1
    with db.session(write=False) as session:
        inc = session.scalars(select(Incident)).one()
        assert inc.opened_at == datetime(2025, 7, 1, 8, tzinfo=UTC)
        assert inc.closed_at == datetime(2025, 7, 1, 11, tzinfo=UTC)


def test_who_registered_opened_by_else_sys_created_by_else_the_unknown_stand_in(
    db, admin, tmp_path
):
    header = "number,opened_at,closed_at,assigned_to,opened_by,sys_created_by"
    rows = [
        "W-1,2025-01-01 10:00,2025-01-01 11:00,Ann Lee,Carol Coughlin,beth.anglin",
        "W-2,2025-01-01 10:00,2025-01-01 11:00,Ann Lee,,beth.anglin",
        "W-3,2025-01-01 10:00,2025-01-01 11:00,Ann Lee,,",
        "W-4,2025-01-01 10:00,2025-01-01 11:00,,,",
    ]
    result = run(db, admin, write(tmp_path, "\n".join([header, *rows])))
    assert (result.imported, result.created["agents"]) == (4, 4)
    # A file without the columns at all: the same stand-in, not created again.
    plain = (
        "number,opened_at,closed_at,assigned_to\nW-5,2025-01-02 10:00,2025-01-02 11:00,Ann Lee\n"
    )
    again = run(db, admin, write(tmp_path, plain, "plain.csv"))
    assert (again.imported, again.created["agents"]) == (1, 0)
    # Column titles as ServiceNow shows them ("Created by" is sys_created_by).
    titled = "Number,Opened,Closed,Created by\nW-6,2025-01-02 10:00,2025-01-02 11:00,BETH.ANGLIN\n"
    assert run(db, admin, write(tmp_path, titled, "titled.csv")).imported == 1
    with db.session(write=False) as session:
        by = dict(
            session.execute(
                select(col(Incident.source_number), col(Agent.login)).join(
                    Agent, col(Agent.id) == col(Incident.created_by_id)
                )
            ).all()
        )
        assert by == {
            "W-1": "carol.coughlin",
            "W-2": "beth.anglin",
            "W-3": "unknown",
            "W-4": "unknown",
            "W-5": "unknown",
            "W-6": "beth.anglin",
        }
        stand_in = session.scalars(select(Agent).where(col(Agent.login) == "unknown")).one()
        assert (stand_in.active, stand_in.role) == (False, "agent")
        report = figures.agents(session, first="2025-01-01", end="2025-01-03", zone=UTC)
    # The importing admin registered none of it; the owner is credited with closing only.
    assert {r["group"]: (r["registered"], r["closed"]) for r in report.rows} == {
        "ann.lee": (0, 4),
        "beth.anglin": (2, 0),
        "carol.coughlin": (1, 0),
        "unknown": (3, 0),
    }


def test_close_codes_become_resolution_codes(db, admin, tmp_path):
    header = "number,opened_at,resolved_at,state,close_code,close_notes"
    rows = [
        "C-1,2025-01-01 10:00,2025-01-01 11:00,Resolved,Solved (Permanently),Rebooted",
        "C-2,2025-01-01 10:00,2025-01-01 11:00,Resolved,Solved (Work Around),",
        "C-3,2025-01-01 10:00,2025-01-01 11:00,Resolved,Not Solved (Not Reproducible),",
        "C-4,2025-01-01 10:00,2025-01-01 11:00,Resolved,Closed/Resolved by Caller,",
        "C-5,2025-01-01 10:00,2025-01-01 11:00,Resolved,solved  (permanently),",
        "C-6,2025-01-01 10:00,2025-01-01 11:00,Resolved,,",
        '"C-7",2025-01-01 10:00,2025-01-01 11:00,Resolved,"Solved\x07 (\x1bRemote\x00)",'
        '"Line one\x1b[31m\nline two\x00"',
        f"C-8,2025-01-01 10:00,2025-01-01 11:00,Resolved,{'x' * 201},",
    ]
    result = run(db, admin, write(tmp_path, "\n".join([header, *rows])))
    assert result.imported == 7
    assert [(b.line, b.reason) for b in result.bad] == [
        (10, "close_code is too long: 201 characters (at most 200)")  # C-7 spans two lines
    ]
    # SOLVED, its PERMANENTLY, WORK_AROUND and REMOTE; NOT_SOLVED and its NOT_REPRODUCIBLE;
    # CLOSED_RESOLVED_BY_CALLER alone.
    assert result.created["resolution_codes"] == 7
    with db.session(write=False) as session:
        general, specific = aliased(Code), aliased(Code)
        got = {
            number: (g, s, solution)
            for number, g, s, solution in session.execute(
                select(
                    col(Incident.source_number),
                    col(general.path),
                    col(specific.path),
                    col(Incident.actual_solution),
                )
                .outerjoin(general, col(general.id) == col(Incident.resolution_general_id))
                .outerjoin(specific, col(specific.id) == col(Incident.resolution_specific_id))
            ).all()
        }
        names = dict(
            session.execute(
                select(col(Code.path), col(Code.name)).where(col(Code.kind) == "resolution")
            ).all()
        )
    assert got == {
        "C-1": ("SOLVED", "SOLVED/PERMANENTLY", "Rebooted"),
        "C-2": ("SOLVED", "SOLVED/WORK_AROUND", None),
        "C-3": ("NOT_SOLVED", "NOT_SOLVED/NOT_REPRODUCIBLE", None),
        "C-4": ("CLOSED_RESOLVED_BY_CALLER", None, None),
        "C-5": ("SOLVED", "SOLVED/PERMANENTLY", None),
        "C-6": (None, None, None),
        "C-7": ("SOLVED", "SOLVED/REMOTE", "Line one[31m\nline two"),
    }
    assert names["CLOSED_RESOLVED_BY_CALLER"] == "Closed/Resolved by Caller"
    assert names["SOLVED/REMOTE"] == "Remote"
    assert not any("\x1b" in n or "\x07" in n for n in names.values())


def test_only_an_admin_imports(db, admin, tmp_path):
    with db.session() as session:
        agent = actor_of(f.agent(session, "amy"))
    with pytest.raises(RuleViolation, match="only an admin"):
        import_incidents(db, actor=agent, path=write(tmp_path, "number,opened_at\n"))


# ------------------------------------------------------------------ the reports count them


def _minutes(a: str, b: str) -> float:
    return (utc(b) - utc(a)).total_seconds() / 60


def test_reports_count_the_imported_history(db, admin, tmp_path):
    export = generate(300, bad_every=9, agents=5, callers=30, start=datetime(2025, 1, 1), days=120)
    result = run(db, admin, write(tmp_path, export.text))
    good = export.good
    assert result.imported == len(good)
    first, end = "2025-01-01", "2025-06-01"
    with db.session(write=False) as session:
        volume = figures.volume(
            session, first=first, end=end, zone=UTC, by="priority", unit="month"
        )
        wall = times(session, first=first, end=end, zone=UTC, by="priority")
        backlog = figures.backlog(session, first=first, end="2025-05-01", zone=UTC)
        agents = figures.agents(session, first=first, end=end, zone=UTC)

    # Volume: every row by the month it opened and its priority code.
    def code(row):
        return "P" + row["priority"].split(" ")[0]

    expected = Counter((code(r), r["opened_at"][:7]) for r in good)
    assert volume.extra["total"] == len(good)
    assert {(r["group"], r["period"]): r["count"] for r in volume.rows} == dict(expected)

    # Times: created -> solved and created -> closed, per priority, on the wall clock.
    by_group = {r["group"]: r for r in wall.rows}
    assert set(by_group) == {code(r) for r in good}
    for group, row in by_group.items():
        mine = [r for r in good if code(r) == group]
        assert row["count"] == len(mine)
        for span, end_field in (("to_solution", "resolved_at"), ("to_close", "closed_at")):
            values = sorted(
                _minutes(r["opened_at"], r[end_field])
                for r in mine
                if r[end_field] and (span == "to_solution" or r["state"] != "Resolved")
            )
            got = row[span]
            assert got["count"] == len(values)
            if values:
                assert got["mean_minutes"] == pytest.approx(statistics.fmean(values), abs=0.02)
                assert got["median_minutes"] == pytest.approx(percentile(values, 1, 2), abs=0.02)
                assert got["p90_minutes"] == pytest.approx(percentile(values, 9, 10), abs=0.02)
                assert got["max_minutes"] == pytest.approx(values[-1], abs=0.02)

    # Per agent: registered by opened_by, else sys_created_by, else the stand-in `unknown`
    # (never the importing admin); solved and closed by the owner (assigned_to).
    want: dict[str, Counter[str]] = {}
    for r in good:
        opener = r["opened_by"] or r["sys_created_by"]
        want.setdefault(login_for(opener) if opener else "unknown", Counter())["registered"] += 1
        if r["resolved_at"]:
            want.setdefault(login_for(r["assigned_to"]), Counter())["solved"] += 1
        if r["state"] in ("Closed", "Canceled"):
            want.setdefault(login_for(r["assigned_to"]), Counter())["closed"] += 1
    assert "admin" not in want and want["unknown"]["registered"] > 0
    names = ("registered", "handled", "solved", "closed", "minutes_booked")
    assert agents.rows == [
        {"group": login, **{n: want[login][n] for n in names}} for login in sorted(want)
    ]

    # Backlog: open at each day's end = opened by then and not closed by then.
    day = date(2025, 1, 1)
    rows = {r["group"]: r["open"] for r in backlog.rows}
    while day < date(2025, 5, 1):
        cut = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        want = sum(
            1
            for r in good
            if utc(r["opened_at"]) < cut
            and not (r["closed_at"] and r["state"] != "Resolved" and utc(r["closed_at"]) < cut)
        )
        assert rows[day.isoformat()] == want, day
        day += timedelta(days=1)


def test_chunks_progress_and_a_run_that_goes_on_where_one_stopped(db, admin, tmp_path, monkeypatch):
    from cc_tui.services.importing import incidents as importer

    monkeypatch.setattr(importer, "CHUNK", 7)
    export = generate(30, agents=3, callers=5)
    lines = export.text.splitlines(keepends=True)
    part = run(db, admin, write(tmp_path, "".join(lines[:11]), "part.csv"))
    assert part.imported == 10
    seen: list[tuple[int, int]] = []
    whole = run(db, admin, write(tmp_path, export.text), progress=lambda d, t: seen.append((d, t)))
    assert (whole.imported, whole.skipped_existing) == (20, 10)
    assert seen == [(0, 30), (10, 30), (17, 30), (24, 30), (30, 30)]
    with db.session(write=False) as session:
        rows = session.execute(select(col(Incident.id), col(Incident.source_number))).all()
        assert len({i for i, _ in rows}) == 30
        assert sorted(n for _, n in rows) == sorted(r["number"] for r in export.rows)
        owners = session.execute(
            select(col(Event.incident_id)).where(col(Event.kind) == "system")
        ).all()
        assert {i for (i,) in owners} == {i for i, _ in rows}


def test_a_text_longer_than_its_field_is_a_bad_row(db, admin, tmp_path):
    header = "number,opened_at,closed_at,short_description,assigned_to"
    rows = [
        f"L-1,2025-01-01 10:00,2025-01-01 11:00,{'x' * 301},",
        f"L-2,2025-01-01 10:00,2025-01-01 11:00,fine,{'Ann ' * 60}",
        f"L-3,2025-01-01 10:00,2025-01-01 11:00,{'y' * 300},Ann  Lee",
    ]
    result = run(db, admin, write(tmp_path, "\n".join([header, *rows])))
    assert result.imported == 1
    assert [(b.line, b.reason) for b in result.bad] == [
        (2, "short_description is too long: 301 characters (at most 300)"),
        (3, "assigned_to is too long: 239 characters (at most 200)"),
    ]
    with db.session(write=False) as session:
        names = sorted(session.scalars(select(col(Agent.name))).all())
        assert names == ["Ann Lee", "Unknown (registered in the imported history)", "admin"]
