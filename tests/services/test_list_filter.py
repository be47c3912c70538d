"""The `/` filter of incident lists: one parser, the same answer in SQL and in memory."""

from __future__ import annotations

import pytest

from cc_tui.errors import UsageError
from cc_tui.models import Agent, Customer, Department, Incident, Priority
from cc_tui.services.incidents.list_filter import matches, parse_filter
from cc_tui.services.incidents.records import list_incidents
from tests.factories import fake_clock  # noqa: F401


def test_terms_words_and_alternatives_are_parsed():
    f = parse_filter('printer status:open prio:P1,p2 owner:none dept:FS customer:"Müller GmbH"')
    assert f.words == ("printer",)
    assert "registered" in f.status and "closed" not in f.status
    assert (f.prio, f.owner, f.dept, f.customer) == (("p1", "p2"), ("",), ("fs",), ("müller gmbh",))
    assert parse_filter("").empty


@pytest.mark.parametrize(
    ("text", "says"),
    [("colour:red", "unknown filter term 'colour'"), ("status:lost", "unknown status 'lost'")],
)
def test_a_bad_filter_says_what_is_allowed(text, says):
    with pytest.raises(UsageError, match=says):
        parse_filter(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("printer", {"jam", "toner"}),
        ("status:assigned", {"toner"}),
        ("owner:none", {"jam", "vpn"}),
        ("owner:bob prio:p1", set()),
        ("owner:bob", {"toner"}),
        ("customer:muller", {"jam", "toner"}),
        ("dept:net", {"vpn"}),
        ("müller printer status:registered", {"jam"}),
        ("INC-{vpn}", {"vpn"}),
    ],
)
def test_sql_and_memory_agree(db, admin, text, expected):
    with db.session() as s:
        net = Department(code="NET", name="Network")
        bob = Agent(login="bob", name="Bob Berger")
        p1 = Priority(code="P1", name="Urgent", rank=1)
        muller = Customer(number="K-1", name="Müller GmbH", search_name="muller gmbh")
        s.add_all([net, bob, p1, muller])
        s.flush()
        rows = {
            "jam": Incident(channel="phone", request_type="action", status="registered",
                            title="Printer jams", customer_id=muller.id, priority_id=p1.id,
                            created_by_id=admin.id),
            "toner": Incident(channel="phone", request_type="action", status="assigned",
                              title="Printer toner", customer_id=muller.id, owner_id=bob.id,
                              created_by_id=admin.id),
            "vpn": Incident(channel="web", request_type="action", status="registered",
                            title="VPN down", department_id=net.id, created_by_id=admin.id),
        }  # fmt: skip
        s.add_all(rows.values())
        s.flush()
        ids = {name: row.id for name, row in rows.items()}
    f = parse_filter(text.format(**ids))
    with db.session(write=False) as s:
        in_sql = {row.id for row in list_incidents(s, where=f)}
        every = list_incidents(s)
    in_memory = {row.id for row in every if matches(f, row)}
    assert in_sql == in_memory == {ids[name] for name in expected}
