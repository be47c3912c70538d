"""Reports (M14): every figure against an independent computation over the same rows."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cc_tui.errors import UsageError
from cc_tui.models import (
    Agent,
    Calendar,
    CalendarDay,
    CalendarHours,
    Code,
    Department,
    Event,
    EventType,
    Incident,
    IncidentWorkOrder,
    KbArticle,
    KbSearch,
    Priority,
    TimeEntry,
    WorkOrder,
)
from cc_tui.services.context import actor_of
from cc_tui.services.reports import figures
from cc_tui.services.reports.times import times

BERLIN = ZoneInfo("Europe/Berlin")
FIRST, END = "2026-01-05", "2026-02-02"  # four ISO weeks, Monday to Monday
CHANNELS = ["phone", "email", "web", "cti"]
TYPES = ["information", "action", "comment"]
SPANS = {
    "to_response": "first_response_at",
    "to_assignment": "assigned_at",
    "to_solution": "solved_at",
    "to_close": "closed_at",
}


def midnight(day: str | date) -> datetime:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(d.year, d.month, d.day, tzinfo=BERLIN).astimezone(UTC)


START_AT, END_AT = midnight(FIRST), midnight(END)


@pytest.fixture
def world(db, admin):
    """Two departments, priorities, reasons, three agents and ~80 incidents around the
    period (some exactly on its edges), with events, time, searches and work orders."""
    rng = random.Random(15)
    with db.session() as s:
        depts = [Department(code=c, name=c) for c in ("DESK", "FIELD")]
        prios = [Priority(code=c, name=c, rank=i + 1) for i, c in enumerate(("P1", "P2"))]
        reasons = [Code(kind="reason", code=c, path=c, name=c) for c in ("HW", "SW")]
        s.add_all([*depts, *prios, *reasons])
        s.flush()
        people = [s.get(Agent, admin.id)]
        for login in ("bob", "eve"):
            a = Agent(login=login, name=login, department_id=depts[0].id)
            s.add(a)
            people.append(a)
        s.flush()
        etype = s.scalars(select(EventType)).first()
        articles = [KbArticle(slug=f"art-{i}", kind="script", title=f"Article {i}") for i in (1, 2)]
        s.add_all(articles)
        s.flush()
        order = WorkOrder(kind="service", title="Repair", created_by_id=admin.id)
        s.add(order)
        s.flush()

        rows = []
        # The edges: a contact a second before the period, at its first instant, and at its
        # (excluded) end; the rest spread over it and a little beyond.
        starts = [START_AT - timedelta(seconds=1), START_AT, END_AT]
        starts += [
            START_AT + timedelta(minutes=rng.randrange(-3 * 1440, 31 * 1440)) for _ in range(80)
        ]
        for i, opened in enumerate(starts):
            status = rng.choice(
                ["registered", "assigned", "solved", "closed", "closed", "abandoned", "draft"]
            )
            inc = Incident(
                channel=rng.choice(CHANNELS),
                request_type=rng.choice(TYPES),
                status=status,
                created_by_id=rng.choice(people).id,
                opened_at=opened,
                department_id=rng.choice([*depts, None]) and rng.choice(depts).id,
                priority_id=rng.choice([*prios, None]) and rng.choice(prios).id,
                reason_general_id=rng.choice(reasons).id if i % 5 else None,
            )
            if status not in ("draft", "abandoned"):
                t = opened + timedelta(minutes=rng.randrange(1, 10))
                inc.registered_at = t
                inc.response_due = t + timedelta(minutes=60)
                inc.resolve_due = t + timedelta(minutes=600)
                if status != "registered":
                    inc.owner_id = rng.choice(people).id
                    inc.assigned_at = t + timedelta(minutes=rng.randrange(0, 120))
                    inc.first_response_at = inc.assigned_at + timedelta(
                        minutes=rng.randrange(0, 90), seconds=rng.randrange(60)
                    )
                if status in ("solved", "closed"):
                    inc.solved_at = inc.first_response_at + timedelta(
                        minutes=rng.randrange(10, 2000)
                    )
                if status == "closed":
                    inc.closed_at = inc.solved_at + timedelta(minutes=rng.randrange(1, 3000))
            s.add(inc)
            s.flush()
            rows.append(inc)
            if inc.registered_at and i % 3 == 0:
                s.add(
                    Event(
                        incident_id=inc.id,
                        event_type_id=etype.id,
                        kind="user",
                        at=inc.registered_at,
                        author_id=rng.choice(people).id,
                        text="called back",
                    )
                )
                s.add(
                    TimeEntry(
                        incident_id=inc.id,
                        agent_id=rng.choice(people).id,
                        started_at=inc.registered_at,
                        ended_at=inc.registered_at + timedelta(minutes=15),
                        minutes=rng.randrange(1, 60),
                    )
                )
            if inc.registered_at and i % 4 == 0:
                for n in range(rng.randrange(1, 4)):
                    answered = n == 0 and rng.random() < 0.6
                    s.add(
                        KbSearch(
                            incident_id=inc.id,
                            agent_id=inc.created_by_id,
                            at=opened + timedelta(minutes=n),
                            query="printer",
                            answered=answered,
                            opened_article_id=rng.choice(articles).id if answered else None,
                        )
                    )
            if inc.request_type == "action" and inc.registered_at and i % 2 == 0:
                link = IncidentWorkOrder(
                    incident_id=inc.id, work_order_id=order.id, linked_by_id=admin.id
                )
                s.add(link)
        s.flush()
        names = {
            "agent": {a.id: a.login for a in people},
            "department": {d.id: d.code for d in depts},
            "priority": {p.id: p.code for p in prios},
            "reason": {c.id: c.path for c in reasons},
        }
        snapshot = {
            "incidents": [{k: getattr(r, k) for k in Incident.model_fields} for r in rows],
            "names": names,
            "events": [
                (e.author_id, e.incident_id, e.at)
                for e in s.scalars(select(Event).where(Event.kind == "user"))
            ],
            "time": [
                (t.agent_id, t.incident_id, t.started_at, t.ended_at, t.minutes)
                for t in s.scalars(select(TimeEntry))
            ],
            "searches": [
                (k.incident_id, k.agent_id, k.at, k.answered, k.opened_article_id)
                for k in s.scalars(select(KbSearch))
            ],
            "articles": {a.id: a.slug for a in articles},
            "linked": {link.incident_id for link in s.scalars(select(IncidentWorkOrder))},
        }
    return snapshot


# --- the independent computation --------------------------------------------------------


def inside(at: datetime | None) -> bool:
    return at is not None and START_AT <= at < END_AT


def saved(inc) -> bool:
    return inc["status"] not in ("draft", "abandoned")


def label(world, inc, by: str, agent_field: str = "owner_id") -> str:
    if by in ("channel", "request_type"):
        return inc[by]
    column = {
        "agent": agent_field,
        "department": "department_id",
        "priority": "priority_id",
        "reason": "reason_general_id",
    }[by]
    return world["names"][by].get(inc[column], "(none)")


def bucket(at: datetime, unit: str) -> str:
    day = at.astimezone(BERLIN).date()
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def summary(values: list[float]) -> dict:
    if not values:
        return {
            "count": 0,
            "mean_minutes": None,
            "median_minutes": None,
            "p90_minutes": None,
            "min_minutes": None,
            "max_minutes": None,
        }
    if len(values) == 1:
        p90 = values[0]
    else:
        p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
    return {
        "count": len(values),
        "mean_minutes": round(statistics.mean(values), 2),
        "median_minutes": round(statistics.median(values), 2),
        "p90_minutes": round(p90, 2),
        "min_minutes": round(min(values), 2),
        "max_minutes": round(max(values), 2),
    }


def booked_summary(world, incs) -> dict:
    """Minutes of finished time entries per incident that has any, and their total."""
    per: Counter = Counter()
    for _agent, incident_id, _started, ended, minutes in world["time"]:
        if ended is not None:
            per[incident_id] += minutes
    values = [float(per[inc["id"]]) for inc in incs if inc["id"] in per]
    return {**summary(values), "total_minutes": int(sum(values))}


# --- the reports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "unit"),
    [
        ("request_type", "day"),
        ("channel", "week"),
        ("agent", "month"),
        ("reason", "week"),
        ("priority", "day"),
        ("department", "month"),
    ],
)
def test_volume_counts_every_contact_in_local_buckets(db, world, by, unit):
    expected = Counter(
        (label(world, inc, by, "created_by_id"), bucket(inc["opened_at"], unit))
        for inc in world["incidents"]
        if inside(inc["opened_at"])
    )
    with db.session() as s:
        got = figures.volume(s, first=FIRST, end=END, zone=BERLIN, by=by, unit=unit).as_dict()
    assert set(got) == {"from", "to", "by", "period", "total", "rows"}
    assert (got["from"], got["to"], got["by"], got["period"]) == (FIRST, END, by, unit)
    assert {(r["group"], r["period"]): r["count"] for r in got["rows"]} == dict(expected)
    assert got["total"] == sum(expected.values())
    assert all(set(r) == {"group", "period", "count"} for r in got["rows"])
    # Abandoned calls and drafts count as contacts; the end instant does not.
    statuses = {inc["status"] for inc in world["incidents"] if inside(inc["opened_at"])}
    assert {"abandoned", "draft"} <= statuses


def test_volume_period_edges_are_half_open(db, world):
    with db.session() as s:
        got = figures.volume(s, first=FIRST, end="2026-01-06", zone=BERLIN, by="channel").as_dict()
    day_end = midnight("2026-01-06")
    first_day = [inc for inc in world["incidents"] if START_AT <= inc["opened_at"] < day_end]
    assert got["total"] == len(first_day)
    assert START_AT in [inc["opened_at"] for inc in first_day]
    assert all(r["period"] == FIRST for r in got["rows"])


@pytest.mark.parametrize("by", ["priority", "reason", "agent", "channel", "department"])
def test_times_wall_clock(db, world, by):
    groups: dict[str, list] = defaultdict(list)
    for inc in world["incidents"]:
        if inside(inc["opened_at"]) and saved(inc):
            groups[label(world, inc, by)].append(inc)
    with db.session() as s:
        got = times(s, first=FIRST, end=END, zone=BERLIN, by=by).as_dict()
    assert set(got) == {"rows"}
    assert [r["group"] for r in got["rows"]] == sorted(groups)
    for row in got["rows"]:
        incs = groups[row["group"]]
        assert set(row) == {"group", "count", *SPANS, "booked"}
        assert row["count"] == len(incs)
        for span, column in SPANS.items():
            values = [
                (inc[column] - inc["opened_at"]).total_seconds() / 60
                for inc in incs
                if inc[column] is not None
            ]
            want = summary(values)
            assert row[span].keys() == want.keys()
            for key, value in want.items():
                assert row[span][key] == pytest.approx(value, abs=0.011), (span, key)
        assert row["booked"] == booked_summary(world, incs)


def _phone_incident(s, opened: datetime, owner: int | None, creator: int | None) -> Incident:
    """A saved phone incident opened (and registered) at `opened`, assigned 5 minutes later."""
    inc = Incident(
        channel="phone",
        request_type="action",
        status="assigned",
        created_by_id=creator,
        opened_at=opened,
        registered_at=opened,
        owner_id=owner,
        assigned_at=opened + timedelta(minutes=5),
    )
    s.add(inc)
    s.flush()
    return inc


def _book(s, inc: Incident, agent: Agent, at: datetime, minutes: int) -> None:
    """A finished time entry of `minutes` on the incident, started at `at`."""
    s.add(
        TimeEntry(
            incident_id=inc.id,
            agent_id=agent.id,
            started_at=at,
            ended_at=at + timedelta(minutes=minutes),
            minutes=minutes,
        )
    )


@pytest.mark.parametrize("clock", ["wall", "business"])
def test_times_booked_minutes_scope_and_an_empty_period(db, admin, clock):
    """Time booked is each incident's finished entries summed (a running timer is not
    booked), incidents without any left out and an incident before the period not counted;
    an agent sees the incidents they own or registered; a period without incidents has no
    rows."""
    with db.session() as s:
        bob = Agent(login="bob", name="bob")
        s.add(bob)
        s.flush()
        at = midnight("2026-01-12") + timedelta(hours=9)
        owned = _phone_incident(s, at, bob.id, admin.id)
        _phone_incident(s, at + timedelta(hours=1), admin.id, admin.id)  # nothing booked
        registered = _phone_incident(s, at + timedelta(hours=2), admin.id, bob.id)
        before = _phone_incident(s, START_AT - timedelta(days=1), bob.id, bob.id)
        for inc, minutes, agent in [(owned, 10, admin), (owned, 25, admin), (registered, 7, bob)]:
            _book(s, inc, agent, at, minutes)
        s.add(
            TimeEntry(
                incident_id=before.id, agent_id=admin.id, started_at=at, ended_at=at, minutes=99
            )
        )
        s.add(TimeEntry(incident_id=owned.id, agent_id=bob.id, started_at=at))  # running
        s.flush()
        report = lambda **k: times(  # noqa: E731
            s, zone=BERLIN, by="channel", clock=clock, **{"first": FIRST, "end": END, **k}
        ).as_dict()["rows"]
        everyone, bobs = report(), report(actor=actor_of(bob))
        empty = report(first="2027-01-04", end="2027-01-11")
    booked = {
        "count": 2,
        "mean_minutes": 21.0,
        "median_minutes": 21.0,
        "p90_minutes": 32.2,
        "min_minutes": 7.0,
        "max_minutes": 35.0,
        "total_minutes": 42,
    }
    assert [(r["group"], r["count"], r["booked"]) for r in everyone] == [("phone", 3, booked)]
    assert everyone[0]["to_assignment"]["median_minutes"] == 5.0
    assert everyone[0]["to_close"]["count"] == 0
    assert [(r["count"], r["booked"]) for r in bobs] == [(2, booked)]
    assert empty == []


@pytest.mark.parametrize("clock", ["wall", "business"])
def test_times_booked_minutes_of_scattered_incidents(db, admin, clock):
    """The period's incidents far apart by id (history imported after them between): the
    time booked is read for the selected incidents, not for the whole id range."""
    at = midnight("2026-01-12") + timedelta(hours=9)
    with db.session() as s:

        def booked_incident(opened: datetime, minutes: int) -> None:
            _book(s, _phone_incident(s, opened, None, admin.id), admin, opened, minutes)

        booked_incident(at, 10)
        for n in range(30):  # the two are fewer than a tenth of the id range
            booked_incident(START_AT - timedelta(days=30 + n), 99)
        booked_incident(at + timedelta(hours=1), 30)
        s.flush()
        rows = times(s, first=FIRST, end=END, zone=BERLIN, by="channel", clock=clock).as_dict()
    assert [(r["group"], r["count"]) for r in rows["rows"]] == [("phone", 2)]
    got = rows["rows"][0]["booked"]
    assert (got["count"], got["min_minutes"], got["max_minutes"], got["total_minutes"]) == (
        2,
        10.0,
        30.0,
        40,
    )


FIGURES = ("registered", "handled", "solved", "closed", "minutes_booked")


def test_agents(db, world):
    per: dict[int, Counter] = defaultdict(Counter)
    for inc in world["incidents"]:
        if saved(inc) and inside(inc["registered_at"]):
            per[inc["created_by_id"]]["registered"] += 1
        if inside(inc["solved_at"]):
            per[inc["owner_id"]]["solved"] += 1
        if inside(inc["closed_at"]):
            per[inc["owner_id"]]["closed"] += 1
    handled: dict[int, set] = defaultdict(set)
    for author, incident_id, at in world["events"]:
        if inside(at):
            handled[author].add(incident_id)
    for agent, incident_id, started, ended, minutes in world["time"]:
        if inside(started):
            handled[agent].add(incident_id)
            if ended is not None:
                per[agent]["minutes_booked"] += minutes
    for agent, incs in handled.items():
        per[agent]["handled"] = len(incs)
    with db.session() as s:
        got = figures.agents(s, first=FIRST, end=END, zone=BERLIN).as_dict()
    logins = world["names"]["agent"]
    want = {logins[a]: {k: c[k] for k in FIGURES} for a, c in per.items()}
    assert {r["group"]: {k: v for k, v in r.items() if k != "group"} for r in got["rows"]} == want


def test_agents_an_agent_sees_their_own_row(db, world):
    with db.session() as s:
        bob = actor_of(s.scalars(select(Agent).where(Agent.login == "bob")).one())
        got = figures.agents(s, first=FIRST, end=END, zone=BERLIN, actor=bob).as_dict()
    assert [r["group"] for r in got["rows"]] == ["bob"]


def test_conversion(db, world):
    want: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for inc in world["incidents"]:
        if inside(inc["opened_at"]) and saved(inc) and inc["request_type"] == "action":
            key = (label(world, inc, "reason"), bucket(inc["opened_at"], "month"))
            want[key][0] += 1
            want[key][1] += inc["id"] in world["linked"]
    with db.session() as s:
        got = figures.conversion(s, first=FIRST, end=END, zone=BERLIN).as_dict()
    assert {(r["group"], r["period"]): [r["requests"], r["work_orders"]] for r in got["rows"]} == {
        k: v for k, v in want.items()
    }
    assert got["requests"] == sum(v[0] for v in want.values())
    assert got["work_orders"] == sum(v[1] for v in want.values()) > 0


def test_sla(db, world, monkeypatch):
    from tests import factories as f

    now = datetime(2026, 1, 20, tzinfo=UTC)
    f.fake_clock(monkeypatch, now)
    want: dict[str, Counter] = defaultdict(Counter)
    for inc in world["incidents"]:
        if not (saved(inc) and inside(inc["registered_at"])):
            continue
        c = want[label(world, inc, "priority")]
        c["count"] += 1
        for name, done, due in (
            ("responses", inc["first_response_at"], inc["response_due"]),
            ("resolutions", inc["solved_at"], inc["resolve_due"]),
        ):
            if done is not None:
                c[name + ("_met" if done <= due else "_missed")] += 1
            else:
                c[name + ("_missed" if due < now else "_pending")] += 1
    with db.session() as s:
        got = figures.sla(s, first=FIRST, end=END, zone=BERLIN).as_dict()
    for row in got["rows"]:
        c = want.pop(row["group"])
        for key in (
            "count",
            "responses_met",
            "responses_missed",
            "responses_pending",
            "resolutions_met",
            "resolutions_missed",
            "resolutions_pending",
        ):
            assert row[key] == c[key], key
    assert not want


def test_backlog(db, world):
    with db.session() as s:
        got = figures.backlog(s, first=FIRST, end=END, zone=BERLIN).as_dict()
    days = [date(2026, 1, 5) + timedelta(days=n) for n in range(28)]
    assert [r["group"] for r in got["rows"]] == [d.isoformat() for d in days]
    for row, day in zip(got["rows"], days, strict=True):
        at = midnight(day + timedelta(days=1))
        want = sum(
            1
            for inc in world["incidents"]
            if saved(inc)
            and inc["registered_at"] < at
            and (inc["closed_at"] is None or inc["closed_at"] >= at)
        )
        assert row["open"] == want, day


def test_backlog_across_the_dst_switch_for_an_agent_without_added_calls(db, admin):
    """The days of a period holding the spring switch (a 23-hour day) and their counts of
    registered and closed incidents: an added call (duplicate_of_id) never counts, and an
    agent counts only the incidents they own or registered."""
    rng = random.Random(29)
    first, end = "2026-03-26", "2026-04-02"
    with db.session() as s:
        people = [s.get(Agent, admin.id)]
        for login in ("bob", "eve"):
            people.append(Agent(login=login, name=login))
            s.add(people[-1])
        s.flush()
        incidents = []
        for _ in range(150):
            # Around the period, many near its local midnights (the edges of its days).
            day = date(2026, 3, 22) + timedelta(days=rng.randrange(14))
            at = midnight(day) + timedelta(seconds=rng.choice([-1, 0, 1, rng.randrange(86400)]))
            status = rng.choice(["registered", "assigned", "closed", "closed", "abandoned"])
            inc = Incident(
                channel="phone",
                request_type="information",
                status=status,
                created_by_id=rng.choice(people).id,
                owner_id=rng.choice([*people, None]) and rng.choice(people).id,
                opened_at=at,
            )
            if status != "abandoned":
                inc.registered_at = at
            if status == "closed":
                inc.closed_at = at + timedelta(minutes=rng.randrange(1, 6 * 1440))
            if incidents and rng.random() < 0.15:
                inc.duplicate_of_id = rng.choice(incidents)["id"]
            s.add(inc)
            s.flush()
            incidents.append({k: getattr(inc, k) for k in Incident.model_fields})
        bob = actor_of(people[1])
        mine = [None, bob]
        got = {
            who: figures.backlog(s, first=first, end=end, zone=BERLIN, actor=who).as_dict()
            for who in mine
        }
    days = [date(2026, 3, 26) + timedelta(days=n) for n in range(7)]
    for who in mine:

        def counts(inc, who=who) -> bool:
            seen = who is None or who.id in (inc["owner_id"], inc["created_by_id"])
            return seen and saved(inc) and inc["duplicate_of_id"] is None

        def open_at(at: datetime, counts=counts) -> int:
            return sum(
                1
                for inc in incidents
                if counts(inc)
                and inc["registered_at"] < at
                and (inc["closed_at"] is None or inc["closed_at"] >= at)
            )

        assert got[who]["open_at_start"] == open_at(midnight(days[0]))
        want = [
            {"group": d.isoformat(), "open": open_at(midnight(d + timedelta(days=1)))} for d in days
        ]
        assert got[who]["rows"] == want
    assert midnight(days[4]) - midnight(days[3]) == timedelta(hours=23)


def test_kb(db, world):
    per: dict[int, list] = defaultdict(list)
    top = Counter()
    for incident_id, _agent, at, answered, article in world["searches"]:
        if inside(at):
            per[incident_id].append(answered)
            if answered:
                top[world["articles"][article]] += 1
    with db.session() as s:
        got = figures.kb(s, first=FIRST, end=END, zone=BERLIN).as_dict()
    assert got["searches"] == sum(len(v) for v in per.values()) > 0
    assert got["requests_searched"] == len(per)
    assert got["requests_answered"] == sum(any(v) for v in per.values())
    assert {r["group"]: r["answered"] for r in got["rows"]} == dict(top)


def test_bad_periods_and_groupings(db, world):
    with db.session() as s:
        with pytest.raises(UsageError, match="after"):
            figures.volume(s, first=END, end=FIRST, zone=BERLIN)
        with pytest.raises(UsageError, match="YYYY-MM-DD"):
            figures.volume(s, first="5.1.2026", end=END, zone=BERLIN)
        with pytest.raises(UsageError, match="--by"):
            times(s, first=FIRST, end=END, zone=BERLIN, by="request_type")
        with pytest.raises(UsageError, match="--period"):
            figures.volume(s, first=FIRST, end=END, zone=BERLIN, unit="year")


# --- business hours -------------------------------------------------------------------------


def test_times_business_clock_skips_weekend_holidays_and_dst(db, admin):
    """Berlin, Mon-Fri 09:00-17:00; 2026-03-29 is the switch to summer time, 2026-04-03 and
    2026-04-06 are holidays (Good Friday, Easter Monday)."""
    local = lambda *a: datetime(*a, tzinfo=BERLIN).astimezone(UTC)  # noqa: E731
    with db.session() as s:
        cal = Calendar(name="Berlin office", tz="Europe/Berlin")
        s.add(cal)
        s.flush()
        for weekday in range(5):
            s.add(
                CalendarHours(
                    calendar_id=cal.id, weekday=weekday, start_minute=540, end_minute=1020
                )
            )
        for day in (date(2026, 4, 3), date(2026, 4, 6)):
            s.add(CalendarDay(calendar_id=cal.id, day=day, name="holiday"))
        dept = Department(code="DESK", name="Desk", calendar_id=cal.id)
        prio = Priority(code="P2", name="P2", basis="business")
        s.add_all([dept, prio])
        s.flush()
        cases = [
            # Friday 16:00 (CET) -> Monday 10:00 (CEST): 60 + 60 working minutes.
            (local(2026, 3, 27, 16, 0), local(2026, 3, 30, 10, 0)),
            # Thursday 16:30 -> Tuesday 09:30 over two holidays and a weekend: 30 + 30.
            (local(2026, 4, 2, 16, 30), local(2026, 4, 7, 9, 30)),
            # Saturday 12:00 -> Monday 09:15: 15.
            (local(2026, 3, 28, 12, 0), local(2026, 3, 30, 9, 15)),
        ]
        for opened, answered in cases:
            s.add(
                Incident(
                    channel="phone",
                    request_type="action",
                    status="assigned",
                    created_by_id=admin.id,
                    opened_at=opened,
                    registered_at=opened,
                    department_id=dept.id,
                    priority_id=prio.id,
                    first_response_at=answered,
                )
            )
        s.flush()
        got = times(
            s, first="2026-03-23", end="2026-04-13", zone=BERLIN, by="priority", clock="business"
        ).as_dict()
        wall = times(s, first="2026-03-23", end="2026-04-13", zone=BERLIN, by="priority").as_dict()
    (row,) = got["rows"]
    assert row["to_response"] == {
        "count": 3,
        "mean_minutes": 65.0,
        "median_minutes": 60.0,
        "p90_minutes": 108.0,
        "min_minutes": 15.0,
        "max_minutes": 120.0,
    }
    # The wall clock over the same spans: a Sunday of 23 hours (the switch to summer time).
    spans = wall["rows"][0]["to_response"]
    assert (spans["min_minutes"], spans["median_minutes"], spans["max_minutes"]) == (
        44 * 60 + 15,  # Saturday 12:00 CET -> Monday 09:15 CEST
        65 * 60,  # Friday 16:00 CET -> Monday 10:00 CEST
        4 * 1440 + 17 * 60,  # Thursday 16:30 -> Tuesday 09:30
    )


def test_times_business_clock_matches_working_time_over_a_year(db, admin):
    """Many incidents over a year on an office calendar (lunch break, holidays, both DST
    switches), some on 24/7: every figure equals the one computed incident by incident
    with `working_time`, the arithmetic the deadlines use."""
    from cc_tui.services.worktime.hours import working_time
    from cc_tui.services.worktime.stored import load_calendar

    rng = random.Random(1414)
    with db.session() as s:
        cal = Calendar(name="Office", tz="Europe/Berlin")
        s.add(cal)
        s.flush()
        for weekday in range(5):
            for start, end in ((480, 720), (780, 1050)):  # 08:00-12:00, 13:00-17:30
                s.add(
                    CalendarHours(
                        calendar_id=cal.id, weekday=weekday, start_minute=start, end_minute=end
                    )
                )
        for day in (date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 12, 25)):
            s.add(CalendarDay(calendar_id=cal.id, day=day, name="holiday"))
        office = Department(code="OFFICE", name="Office", calendar_id=cal.id)
        business = Priority(code="P2", name="P2", basis="business")
        allday = Priority(code="P1", name="P1", basis="all")
        s.add_all([office, business, allday])
        s.flush()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        made = []
        for _ in range(150):
            opened = start + timedelta(minutes=rng.randrange(365 * 1440))
            prio = rng.choice([business, business, allday])
            inc = Incident(
                channel="phone",
                request_type="action",
                status="closed",
                created_by_id=admin.id,
                opened_at=opened,
                registered_at=opened,
                department_id=office.id,
                priority_id=prio.id,
            )
            t = opened
            for column in ("assigned_at", "first_response_at", "solved_at", "closed_at"):
                if rng.random() < 0.9:
                    t = t + timedelta(minutes=rng.randrange(0, 8 * 1440), seconds=rng.randrange(60))
                    setattr(inc, column, t)
            s.add(inc)
            made.append(inc)
        s.flush()
        office_cal = load_calendar(s, cal.id)
        got = times(
            s, first="2026-01-01", end="2027-01-01", zone=BERLIN, by="priority", clock="business"
        ).as_dict()
        want: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for inc in made:
            if not (midnight("2026-01-01") <= inc.opened_at < midnight("2027-01-01")):
                continue
            label = "P2" if inc.priority_id == business.id else "P1"
            for span, column in SPANS.items():
                ended = getattr(inc, column)
                if ended is None:
                    continue
                if label == "P1":
                    minutes = (ended - inc.opened_at).total_seconds() / 60
                else:
                    minutes = working_time(office_cal, inc.opened_at, ended) / timedelta(minutes=1)
                want[label][span].append(minutes)
    assert [r["group"] for r in got["rows"]] == ["P1", "P2"]
    for row in got["rows"]:
        for span in SPANS:
            expected = summary(want[row["group"]][span])
            for key, value in expected.items():
                assert row[span][key] == pytest.approx(value, abs=0.011), (row["group"], span, key)
