"""Queues, claiming, assignment and load; claims from many processes never collide."""

from __future__ import annotations

import json
import multiprocessing
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cc_tui import clock
from cc_tui.db.engine import Database
from cc_tui.errors import Conflict, NotFound, RuleViolation, UsageError
from cc_tui.models import Agent, Event, EventType, Incident
from cc_tui.services.incidents.edit import set_priority_each
from cc_tui.services.incidents.lifecycle import change_status
from cc_tui.services.incidents.records import incident_detail
from cc_tui.services.routing.queues import (
    agent_queue,
    assign,
    assign_each,
    bulk_move,
    claim_next,
    department_queue,
    load,
)
from tests import factories as f

ESC = ("on_time", "follow_up", "warning", "late")


def make(session, dept_id, creator_id, *, n=1, owner_id=None, status="registered", **kw):
    """Incidents written straight to the table (queue tests need many, fast)."""
    now = clock.now()
    rows = []
    for _ in range(n):
        rank = kw.get("escalation_rank", 0)
        row = Incident(
            channel="phone",
            request_type="action",
            status=status,
            title=kw.get("title", "Printer jams"),
            department_id=dept_id,
            owner_id=owner_id,
            created_by_id=creator_id,
            opened_at=kw.get("opened_at", now),
            registered_at=now,
            updated_at=now,
            priority_rank=kw.get("priority_rank", 3),
            escalation_rank=rank,
            escalation=ESC[rank],
            response_due=kw.get("response_due"),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return [r.id for r in rows]


@pytest.fixture
def team(db, admin):
    """DESK with agents bob and amy, FIELD (on site) with agent fay, supervisor sue."""
    with db.session() as s:
        desk = f.department(s, "DESK", "Service desk")
        field = f.department(s, "FIELD", "Field service")
        field.on_site = True
        return {
            "desk": desk.id,
            "field": field.id,
            "bob": f.agent(s, "bob", department_id=desk.id),
            "amy": f.agent(s, "amy", department_id=desk.id),
            "fay": f.agent(s, "fay", department_id=field.id),
            "sue": f.agent(s, "sue", role="supervisor", department_id=desk.id),
            "admin": admin,
        }


def one(db, team, **kw):
    with db.session() as s:
        return make(s, kw.pop("dept", team["desk"]), team["admin"].id, **kw)[0]


# --- queue order and paging -------------------------------------------------------------


def test_queue_order_escalation_priority_due_age(db, team):
    now = clock.now()
    with db.session() as s:
        d, c = team["desk"], team["admin"].id
        old_late = make(s, d, c, escalation_rank=3, priority_rank=4)[0]
        p1_no_due = make(s, d, c, priority_rank=1)[0]
        p1_due_later = make(s, d, c, priority_rank=1, response_due=now + timedelta(hours=2))[0]
        p1_due_soon = make(s, d, c, priority_rank=1, response_due=now + timedelta(hours=1))[0]
        p2_first, p2_second = make(s, d, c, n=2, priority_rank=2)
        warning = make(s, d, c, escalation_rank=2, priority_rank=3)[0]
        make(s, d, c, owner_id=team["bob"].id, status="assigned", escalation_rank=3)
        make(s, team["field"], c, escalation_rank=3)
        make(s, d, c, status="closed", escalation_rank=3)
        rows = department_queue(s, department="desk")
    assert [r.id for r in rows] == [
        old_late,
        warning,
        p1_due_soon,
        p1_due_later,
        p1_no_due,
        p2_first,
        p2_second,
    ]
    assert rows[0].escalation == "late" and rows[0].owner is None and rows[0].department == "DESK"


def test_keyset_pages_walk_the_whole_queue_once(db, team):
    rng = random.Random(5)
    now = clock.now()
    with db.session() as s:
        for _ in range(60):
            make(
                s,
                team["desk"],
                team["admin"].id,
                escalation_rank=rng.randrange(4),
                priority_rank=rng.randrange(1, 4),
                response_due=rng.choice([None, now + timedelta(minutes=rng.randrange(3) * 30)]),
            )
    with db.session(write=False) as s:
        whole = [r.id for r in department_queue(s, department="DESK", limit=500)]
        paged, after = [], None
        while True:
            page = department_queue(s, department="DESK", after=after, limit=7)
            if not page:
                break
            paged.extend(r.id for r in page)
            after = page[-1].key
        rows = {i.id: i for i in s.scalars(select(Incident))}

    def sort_key(i):
        inc = rows[i]
        due = inc.response_due
        return (-inc.escalation_rank, inc.priority_rank, due is None, due or now, inc.id)

    assert paged == whole == sorted(whole, key=sort_key)
    assert len(whole) == 60


def test_my_work_lists_own_open_incidents_escalated_first(db, team):
    bob = team["bob"].id
    with db.session() as s:
        d, c = team["desk"], team["admin"].id
        calm = make(s, d, c, owner_id=bob, status="in_process")[0]
        late = make(s, d, c, owner_id=bob, status="assigned", escalation_rank=3)[0]
        make(s, d, c, owner_id=bob, status="solved", escalation_rank=3)
        make(s, d, c, owner_id=team["amy"].id, status="assigned", escalation_rank=3)
        pending = make(s, team["field"], c, owner_id=bob, status="pending", escalation_rank=1)[0]
        rows = agent_queue(s, agent="bob")
    assert [r.id for r in rows] == [late, pending, calm]


# --- claiming ---------------------------------------------------------------------------


def test_claim_takes_the_most_urgent_and_writes_the_timeline(db, team):
    with db.session() as s:
        make(s, team["desk"], team["admin"].id, n=2)
        urgent = make(s, team["desk"], team["admin"].id, priority_rank=1)[0]
    with db.session() as s:
        result = claim_next(s, actor=team["bob"])
    assert result.id == urgent and result.owner == "bob"
    assert (result.previous_status, result.status) == ("registered", "assigned")
    with db.session() as s:
        detail = incident_detail(s, urgent)
        inc = s.get(Incident, urgent)
        assert inc.assigned_at is not None and inc.updated_by_id == team["bob"].id
    assert detail.owner == "bob" and detail.version == 2
    assignment, status = detail.events[-2:]
    assert assignment.type == "Assignment" and assignment.data["to"] == "bob"
    assert assignment.text == "claimed by bob from the DESK queue"
    assert status.data == {"field": "status", "from": "registered", "to": "assigned"}


def test_claim_from_an_empty_queue_or_without_a_department(db, team, admin):
    with db.session() as s, pytest.raises(NotFound, match="DESK queue is empty"):
        claim_next(s, actor=team["bob"])
    one(db, team)
    with db.session() as s, pytest.raises(UsageError, match="belongs to no department"):
        claim_next(s, actor=admin)
    with db.session() as s:
        assert claim_next(s, actor=admin, department="DESK").owner == "admin"


def test_claim_keeps_a_pending_unowned_incident_pending(db, team):
    pending = one(db, team, status="pending")
    with db.session() as s:
        result = claim_next(s, actor=team["amy"])
    assert result.id == pending and result.status == "pending"


# --- assignment -------------------------------------------------------------------------


def run_assign(db, actor, ref, **kw):
    with db.session() as s:
        return assign(s, actor=actor, ref=ref, **kw)


def test_agent_takes_unassigned_but_not_someone_elses(db, team):
    ref = one(db, team)
    taken = run_assign(db, team["amy"], ref, to_agent="amy")
    assert taken.status == "assigned" and taken.owner == "amy"
    with pytest.raises(RuleViolation, match="belongs to amy; only its owner or a supervisor"):
        run_assign(db, team["bob"], ref, to_agent="bob")
    # The owner may hand it on; a supervisor may take it from anyone.
    handed = run_assign(db, team["amy"], ref, to_agent="bob", reason="printer expert")
    assert (handed.previous_owner, handed.owner) == ("amy", "bob")
    moved = run_assign(db, team["sue"], ref, to_agent="amy", reason="bob is out")
    assert moved.owner == "amy"
    with db.session() as s:
        events = [e for e in incident_detail(s, ref).events if e.type == "Assignment"]
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        (None, "amy"),
        ("amy", "bob"),
        ("bob", "amy"),
    ]
    assert events[1].data["reason"] == "printer expert"
    assert events[2].text == "owner bob -> amy: bob is out"


def test_stale_assignment_is_refused(db, team):
    ref = one(db, team)
    first = run_assign(db, team["sue"], ref, to_agent="bob", expected_version=1)
    assert first.version == 2
    with pytest.raises(Conflict, match=r"changed by sue .* reload"):
        run_assign(db, team["sue"], ref, to_agent="amy", expected_version=1)
    with db.session() as s:
        assert s.get(Incident, ref).owner_id == team["bob"].id


def test_move_to_the_on_site_department_and_back_to_a_queue(db, team):
    ref = one(db, team)
    run_assign(db, team["bob"], ref, to_agent="bob")
    with db.session() as s:
        change_status(s, actor=team["bob"], ref=ref, to="in_process")
    # Handing to a service engineer moves it to the engineer's (on-site) department.
    to_fay = run_assign(db, team["bob"], ref, to_agent="fay", reason="needs a visit")
    assert to_fay.department == "FIELD" and to_fay.previous_department == "DESK"
    assert (to_fay.previous_status, to_fay.status) == ("in_process", "assigned")
    # Into a department's queue: nobody owns it, nobody works it yet.
    back = run_assign(db, team["fay"], ref, to_department="DESK", reason="remote fix after all")
    assert back.owner is None and back.status == "registered" and back.department == "DESK"
    with db.session() as s:
        assert [r.id for r in department_queue(s, department="DESK")] == [ref]
        last = incident_detail(s, ref).events[-2]
    assert last.data["department_from"] == "FIELD" and last.data["department_to"] == "DESK"


def test_assignment_checks(db, team):
    ref = one(db, team)
    with pytest.raises(UsageError, match="--to LOGIN"):
        run_assign(db, team["sue"], ref)
    with pytest.raises(RuleViolation, match="works in DESK, not FIELD"):
        run_assign(db, team["sue"], ref, to_agent="bob", to_department="FIELD")
    with pytest.raises(RuleViolation, match="with the DESK queue already"):
        run_assign(db, team["sue"], ref, to_department="DESK")
    with pytest.raises(NotFound):
        run_assign(db, team["sue"], ref, to_agent="nobody")
    closed = one(db, team, status="closed")
    with pytest.raises(RuleViolation, match="only open incidents"):
        run_assign(db, team["sue"], closed, to_agent="bob")


def test_bulk_move_is_all_or_nothing_and_for_supervisors(db, team):
    refs = [one(db, team) for _ in range(3)]
    owned = one(db, team, owner_id=team["amy"].id, status="assigned")
    closed = one(db, team, status="closed")
    with db.session() as s, pytest.raises(RuleViolation, match="only a supervisor"):
        bulk_move(s, actor=team["bob"], refs=refs, to_department="FIELD")
    with db.session() as s, pytest.raises(RuleViolation, match=r"nothing moved: .* is closed"):
        bulk_move(s, actor=team["sue"], refs=[*refs, closed], to_department="FIELD")
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Incident.department_id == team["field"])) == 0
    with db.session() as s:
        result = bulk_move(
            s, actor=team["sue"], refs=[*refs, owned], to_department="FIELD", reason="on site"
        )
    assert len(result.moved) == 4 and result.unchanged == []
    with db.session() as s:
        queue = department_queue(s, department="FIELD")
        again = bulk_move(s, actor=team["sue"], refs=refs, to_department="FIELD")
    assert len(queue) == 4 and {r.status for r in queue} == {"registered"}
    assert again.moved == [] and len(again.unchanged) == 3


def test_assign_each_refuses_one_and_keeps_the_others(db, team):
    """Each incident on its own: another's incident, a closed one and one changed since it
    was read are refused and named; the rest are assigned, with their timeline events."""
    free = [one(db, team) for _ in range(2)]
    mine = one(db, team, owner_id=team["bob"].id, status="assigned")
    amys = one(db, team, owner_id=team["amy"].id, status="assigned")
    closed = one(db, team, status="closed")
    stale = one(db, team)
    chosen = [(i, 1) for i in (*free, mine, amys, closed)] + [(stale, 0)]
    with db.session() as s:
        result = assign_each(s, actor=team["bob"], chosen=chosen, to_agent="bob", reason="mine")
    assert [r.number for r in result.done] == [f"INC-{i}" for i in free]
    assert result.unchanged == [f"INC-{mine}"]
    refused = {r.id: r for r in result.refused}
    assert sorted(refused) == [amys, closed, stale]
    assert "belongs to amy" in refused[amys].reason and not refused[amys].conflict
    assert "is closed" in refused[closed].reason
    assert refused[stale].conflict and "since you read it" in refused[stale].reason
    with db.session() as s:
        owners = dict(s.execute(select(Incident.id, Incident.owner_id)).all())
        assignments = s.scalar(
            select(func.count()).select_from(Event).where(Event.incident_id.in_(free))
        )
    assert [owners[i] for i in free] == [team["bob"].id] * 2
    assert owners[amys] == team["amy"].id and owners[stale] is None
    assert assignments and assignments >= 2


def test_assign_each_as_supervisor_moves_owned_ones_and_refuses_a_bad_target(db, team):
    refs = [one(db, team, owner_id=team[who].id, status="assigned") for who in ("bob", "amy")]
    with db.session() as s:
        result = assign_each(
            s, actor=team["sue"], chosen=[(r, None) for r in refs], to_department="FIELD"
        )
    assert [r.department for r in result.done] == ["FIELD", "FIELD"] and not result.refused
    assert {r.status for r in result.done} == {"registered"}
    with db.session() as s, pytest.raises(NotFound):
        assign_each(s, actor=team["sue"], chosen=[(refs[0], None)], to_agent="nobody")


def test_set_priority_each_changes_the_open_ones_and_names_the_refused(db, team):
    with db.session() as s:
        f.priority(s, "P1", rank=1)
        f.priority(s, "P3", rank=3)
    open_ones = [one(db, team) for _ in range(2)]
    closed = one(db, team, status="closed")
    stale = one(db, team)
    chosen = [(i, 1) for i in (*open_ones, closed)] + [(stale, 5)]
    with db.session() as s:
        result = set_priority_each(s, actor=team["bob"], chosen=chosen, priority="p1")
    assert [(c.number, c.previous, c.priority) for c in result.done] == [
        (f"INC-{i}", None, "P1") for i in open_ones
    ]
    assert {r.id for r in result.refused} == {closed, stale}
    with db.session() as s:
        again = set_priority_each(
            s, actor=team["bob"], chosen=[(open_ones[0], None)], priority="P1"
        )
        ranks = dict(s.execute(select(Incident.id, Incident.priority_rank)).all())
    assert again.unchanged == [f"INC-{open_ones[0]}"] and not again.done
    assert [ranks[i] for i in open_ones] == [1, 1] and ranks[stale] == 3
    with db.session() as s, pytest.raises(NotFound, match="no priority"):
        set_priority_each(s, actor=team["bob"], chosen=chosen, priority="P9")


# --- load -------------------------------------------------------------------------------


def test_load_counts_by_department_agent_status_and_escalation(db, team):
    with db.session() as s:
        d, fd, c = team["desk"], team["field"], team["admin"].id
        oldest = make(s, d, c, n=2, escalation_rank=1)[0]
        bob_first = make(s, d, c, owner_id=team["bob"].id, status="assigned", escalation_rank=3)[0]
        make(s, fd, c, owner_id=team["bob"].id, status="in_process")
        make(s, fd, c, status="pending")
        make(s, d, c, status="closed", n=3)
        make(s, None, c)
    with db.session(write=False) as s:
        result = load(s)
    depts = {d.code: d for d in result.departments}
    agents = {a.login: a for a in result.agents}
    assert result.total_open == 6
    desk = depts["DESK"]
    assert (desk.open, desk.unassigned) == (3, 2)
    assert desk.by_status["registered"] == 2 and desk.by_status["assigned"] == 1
    assert desk.by_escalation == {"on_time": 0, "follow_up": 2, "warning": 0, "late": 1}
    assert desk.oldest_waiting.id == oldest and desk.oldest_waiting.number == f"INC-{oldest}"
    assert depts["FIELD"].on_site and depts["FIELD"].by_status["pending"] == 1
    assert depts[None].open == 1 and depts[None].name == "(no department)"
    bob = agents["bob"]
    assert bob.open == 2 and bob.by_status["in_process"] == 1 and bob.by_escalation["late"] == 1
    assert bob.oldest.id == bob_first and bob.oldest.escalation == "late"
    assert agents["amy"].open == 0 and agents["amy"].oldest is None


# --- CLI --------------------------------------------------------------------------------


def test_cli_assign_claim_queue_and_load(cli, db, team):
    ref = one(db, team)
    second = one(db, team, priority_rank=1)
    listed = cli("queue", "list", "--department", "DESK", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [second, ref]
    assert set(rows[0]) >= {"number", "status", "escalation", "priority", "owner", "key"}
    page2 = cli("queue", "list", "--department", "DESK", "--after", f"INC-{second}", "--json")
    assert [r["id"] for r in json.loads(page2.stdout)] == [ref]

    claimed = cli("incident", "claim", "--json", login="bob")
    assert claimed.exit_code == 0, claimed.output
    assert json.loads(claimed.stdout)["number"] == f"INC-{second}"
    assert json.loads(claimed.stdout)["owner"] == "bob"
    assert "claimed" in claimed.stderr

    assigned = cli("incident", "assign", str(ref), "--to", "amy", "--reason", "x", "--json")
    assert assigned.exit_code == 0, assigned.output
    assert json.loads(assigned.stdout)["owner"] == "amy"
    stale = cli("incident", "assign", str(ref), "--department", "FIELD", "--version", "1")
    assert stale.exit_code == 4 and "reload" in stale.stderr
    refused = cli("incident", "assign", str(ref), "--to", "bob", login="bob")
    assert refused.exit_code == 1 and "belongs to amy" in refused.stderr
    assert cli("incident", "assign", str(ref)).exit_code == 2

    empty = cli("incident", "claim", "--json", login="bob")
    assert empty.exit_code == 3 and empty.stdout == "" and "queue is empty" in empty.stderr

    mine = json.loads(cli("queue", "list", "--json", login="amy").stdout)
    assert [r["id"] for r in mine] == [ref]
    assert json.loads(cli("queue", "list", "--agent", "bob", "--json").stdout)[0]["id"] == second
    both = cli("queue", "list", "--agent", "bob", "--department", "DESK")
    assert both.exit_code == 2

    loaded = json.loads(cli("queue", "load", "--json").stdout)
    assert loaded["total_open"] == 2
    desk = next(d for d in loaded["departments"] if d["code"] == "DESK")
    assert desk["by_status"]["assigned"] == 2 and desk["unassigned"] == 0
    assert {a["login"]: a["open"] for a in loaded["agents"]}["amy"] == 1

    moved = cli("queue", "move", str(ref), f"INC-{second}", "--department", "FIELD", "--json")
    assert moved.exit_code == 0, moved.output
    assert len(json.loads(moved.stdout)["moved"]) == 2
    assert cli("queue", "move", str(ref), "--to", "bob", login="bob").exit_code == 1


# --- claims from many processes ---------------------------------------------------------


def _claimer(url: str, login: str, department: str, start, out) -> None:
    """A separate process: claim until the queue is empty, report what it got."""
    from cc_tui.services.context import resolve_actor

    database = Database(url, pool_size=1)
    with database.session(write=False) as session:
        actor = resolve_actor(session, login)
    start.wait()
    got = []
    while True:
        try:
            with database.session() as session:
                got.append(claim_next(session, actor=actor, department=department).id)
        except NotFound:
            break
    database.dispose()
    out.put((login, got))


def claim_race(db, team, *, processes: int, incidents: int) -> list[tuple[str, list[int]]]:
    with db.session() as s:
        for i in range(processes):
            f.agent(s, f"claimer{i}", department_id=team["desk"])
        rng = random.Random(3)
        for _ in range(incidents):
            make(s, team["desk"], team["admin"].id, escalation_rank=rng.randrange(4))
    url = db.url.render_as_string(hide_password=False)
    if not db.is_sqlite:
        # Commits that NOTIFY are serialised by PostgreSQL, each waiting for its WAL flush;
        # the race is about locking, not durability, so the claimers skip the flush wait.
        url += "?options=-c%20synchronous_commit%3Doff"
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_claimer, args=(url, f"claimer{i}", "DESK", start, out))
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    start.set()
    # A guard against a hung claimer, not a speed limit: on a busy 2-core machine eight
    # spawned interpreters take minutes just to import.
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    return results


def assert_claimed_once(db, results, incidents: int) -> None:
    handed = [i for _login, ids in results for i in ids]
    assert len(handed) == len(set(handed)) == incidents
    with db.session(write=False) as s:
        owners = {i: o for i, o in s.execute(select(Incident.id, Incident.owner_id))}
        claims = s.execute(
            select(Event.incident_id, func.count())
            .join(EventType, EventType.id == Event.event_type_id)
            .where(EventType.code == "Assignment")
            .group_by(Event.incident_id)
        ).all()
        logins = {a.id: a.login for a in s.scalars(select(Agent)) if a.login.startswith("claimer")}
    assert all(owners[i] is not None for i in handed)
    assert {i for i, n in claims if n == 1} == set(handed) and all(n == 1 for _i, n in claims)
    # Every process got the incidents the database says it owns.
    for login, ids in results:
        assert {i for i in ids if logins.get(owners[i]) == login} == set(ids)


@pytest.mark.pg
@pytest.mark.commits
def test_eight_processes_claim_2000_incidents_each_exactly_once(pg_database_url, team, db):
    if db.is_sqlite:
        pytest.skip("the PostgreSQL race; SQLite has its own smaller one")
    results = claim_race(db, team, processes=8, incidents=2000)
    assert_claimed_once(db, results, 2000)
    # The work was shared out: SKIP LOCKED lets claimers pass each other.
    assert sum(1 for _login, ids in results if ids) >= 2


@pytest.mark.commits
def test_sqlite_processes_claim_each_incident_once(sqlite_db):
    from cc_tui.services.context import actor_of, bootstrap_admin

    with sqlite_db.session() as s:
        admin = actor_of(bootstrap_admin(s, "admin"))
        desk = f.department(s, "DESK", "Service desk")
    team = {"desk": desk.id, "admin": admin}
    results = claim_race(sqlite_db, team, processes=3, incidents=120)
    assert_claimed_once(sqlite_db, results, 120)
