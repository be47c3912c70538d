"""Work orders and their incidents under random linking and random order changes (M10)."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cc_tui.errors import RuleViolation
from cc_tui.models import Event, EventType, Incident, IncidentWorkOrder, WorkOrder
from cc_tui.services.workorders.orders import link, parse_wo, set_status, transfer
from cc_tui.services.workorders.templates import add_template
from tests import factories as f

PROBLEM = "FIELD/PRINTERS/LASER/JAM"
TERMINAL = ("completed", "cancelled")


@pytest.fixture
def printers(db, admin):
    from cc_tui.services.directory.codes import add_code

    with db.session() as s:
        f.codes(s, admin)
        f.priority(s, "P3", default=True)
        add_template(s, actor=admin, code="WO-PRN", kind="service", title="Printer repair")
        add_code(s, actor=admin, kind="problem", path=PROBLEM, work_order_template="WO-PRN")
        return f.customer(s, "Acme").id


def _request(db, admin, customer: int) -> int:
    ref = f.register(db, admin, customer, problem_code=PROBLEM, title="Printer jams")
    return int(ref.removeprefix("INC-"))


plans = st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.integers(min_value=1, max_value=3).flatmap(
        lambda m: st.tuples(
            st.just(n),
            st.just(m),
            # Which incidents each order serves, besides those it is given below.
            st.lists(st.sets(st.integers(0, n - 1)), min_size=m, max_size=m),
            st.lists(
                st.tuples(
                    st.integers(0, m - 1),
                    st.sampled_from(("in_progress", "completed", "cancelled", "open")),
                ),
                max_size=12,
            ),
        )
    )
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans)
def test_incidents_close_exactly_when_their_orders_are_done(db, admin, printers, plan):
    n, m, served, ops = plan
    incidents = [_request(db, admin, printers) for _ in range(n)]
    links: list[set[int]] = []
    orders: list[int] = []
    for j in range(m):
        # Every incident has an order and every order an incident.
        members = sorted(served[j] | {j % n} | {i for i in range(n) if i % m == j})
        with db.session() as s:
            made = transfer(s, actor=admin, ref=incidents[members[0]], kind="service")
        orders.append(parse_wo(made.work_orders[0].number))
        for i in members[1:]:
            with db.session() as s:
                link(s, actor=admin, ref=incidents[i], wo=orders[j])
        links.append(set(members))

    # The reference: what each incident's status must be after each change.
    expected = ["transferred"] * n
    order_status = ["open"] * m
    for step, (j, to) in enumerate(ops):
        try:
            with db.session() as s:
                set_status(
                    s,
                    actor=admin,
                    wo=orders[j],
                    to=to,
                    problem=f"problem {step}" if to == "completed" else None,
                    solution=f"solution {step}" if to == "completed" else None,
                )
        except RuleViolation:
            continue
        previous, order_status[j] = order_status[j], to
        mine = sorted(links[j])
        if to in TERMINAL:
            for i in mine:
                if expected[i] != "transferred":
                    continue
                statuses = [order_status[k] for k in range(m) if i in links[k]]
                if all(x in TERMINAL for x in statuses):
                    expected[i] = "closed" if "completed" in statuses else "in_process"
        elif previous in TERMINAL:
            for i in mine:
                if expected[i] == "closed":
                    expected[i] = "transferred"
        _check(db, incidents, orders, links, expected)


def _check(db, incidents, orders, links, expected) -> None:
    with db.session(write=False) as s:
        rows = {i.id: i for i in s.scalars(select(Incident).where(Incident.id.in_(incidents)))}
        wos = {o.id: o for o in s.scalars(select(WorkOrder).where(WorkOrder.id.in_(orders)))}
    for i, incident_id in enumerate(incidents):
        incident = rows[incident_id]
        assert incident.status == expected[i], (i, incident.status, expected[i])
        mine = [wos[orders[k]] for k in range(len(orders)) if i in links[k]]
        done = all(o.status in TERMINAL for o in mine)
        completed = [o for o in mine if o.status == "completed"]
        if incident.status == "closed":
            assert done and completed
            # It carries the solution of one of its completed orders (the last completed).
            assert incident.actual_solution in {o.actual_solution for o in completed}
        if incident.status == "transferred":
            assert not done


# ------------------------------------------------------------------- two writers at once


def _complete_in_process(url: str, login: str, wo: int, solution: str) -> None:
    from cc_tui.db.engine import Database
    from cc_tui.services.context import resolve_actor

    db = Database(url)
    with db.session() as s:
        actor = resolve_actor(s, login)
        set_status(s, actor=actor, wo=wo, to="completed", problem="jam", solution=solution)
    db.engine.dispose()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.commits
def test_two_processes_completing_both_orders_close_the_incident_once(db, admin, printers):
    ref = _request(db, admin, printers)
    with db.session() as s:
        made = transfer(s, actor=admin, ref=ref, templates=["WO-PRN", "WO-PRN"])
    first, second = (parse_wo(o.number) for o in made.work_orders)
    url = db.url.render_as_string(hide_password=False)
    # Hold the incident so that both completions reach it before either can go on.
    with db.engine.connect() as holder:
        transaction = holder.begin()
        holder.execute(select(Incident.id).where(Incident.id == ref).with_for_update())
        context = multiprocessing.get_context("spawn")
        workers = [
            context.Process(target=_complete_in_process, args=(url, "admin", wo, f"fix {wo}"))
            for wo in (first, second)
        ]
        for worker in workers:
            worker.start()
        time.sleep(1.5)  # let both block on the held row
        transaction.commit()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    with db.session(write=False) as s:
        incident = s.get(Incident, ref)
        moves = s.scalars(
            select(Event.data)
            .join(EventType, EventType.id == Event.event_type_id)
            .where(Event.incident_id == ref, EventType.code == "StatusChange")
        ).all()
        flags = s.scalars(
            select(IncidentWorkOrder.closed_incident).where(IncidentWorkOrder.incident_id == ref)
        ).all()
    assert incident is not None and incident.status == "closed"
    assert [(d["from"], d["to"]) for d in moves].count(("solved", "closed")) == 1
    assert [(d["from"], d["to"]) for d in moves].count(("transferred", "solved")) == 1
    assert sorted(flags) == [False, True]
