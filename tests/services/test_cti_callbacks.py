"""The callback list: missed calls by number (who, when, how often), only for the agents
they concern; calling back logs the call and records a CallOut event."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from cc_tui import clock
from cc_tui.errors import NotFound
from cc_tui.models import Event, EventType, Incident, PhoneCall
from cc_tui.services.context import resolve_actor
from cc_tui.services.cti.callbacks import call_back, callback_list
from cc_tui.services.cti.calls import CallEvent, record_event
from cc_tui.services.directory.agents import update_agent
from tests import factories as f

T0 = f.utc(2026, 3, 2, 9, 0)


@pytest.fixture
def world(db, admin, monkeypatch):
    moment = f.fake_clock(monkeypatch, T0)
    with db.session() as s:
        desk = f.department(s, "DESK", "Service desk")
        other = f.department(s, "FIELD", "Field service")
        acme = f.customer(s, "Acme AG", phone="+49 30 1234567")
        f.agent(s, "bob", department_id=desk.id)
        f.agent(s, "carol", department_id=other.id)
        f.agent(s, "sue", role="supervisor")
        update_agent(s, actor=admin, login="bob", extension="201")
        acme_id = acme.id
    return {"clock": moment, "acme": acme_id}


def ring(db, admin, call_id, number, *, queue=None, users=(), answer=False, at=None, clock_=None):
    with db.session() as s:
        base = {"callId": call_id, "from": number, "to": "4930555000"}
        if queue:
            base["queue"] = queue
        record_event(
            s,
            actor=admin,
            event=CallEvent.parse({**base, "event": "newCall", "user[]": list(users)}),
        )
        if answer:
            record_event(
                s,
                actor=admin,
                event=CallEvent.parse({**base, "event": "answer", "answeringNumber": "201"}),
            )
        record_event(s, actor=admin, event=CallEvent.parse({**base, "event": "hangup"}))


def listed(db, login):
    with db.session(write=False) as s:
        return callback_list(s, actor=resolve_actor(s, login))


def test_missed_calls_group_by_number_and_leave_when_reached(db, admin, world):
    moment = world["clock"]
    ring(db, admin, "a1", "+49301234567", queue="DESK")
    moment.now = T0.replace(minute=5)
    ring(db, admin, "a2", "030 1234567", queue="DESK")
    ring(db, admin, "b1", "+49 40 7777777", users=["carol"])
    sue = listed(db, "sue")
    assert [(c.number, c.customer, c.tries) for c in sue] == [
        ("+49301234567", "Acme AG", 2),
        ("+49407777777", None, 1),
    ]
    assert sue[0].first_at == T0 and sue[0].last_at == T0.replace(minute=5)
    assert sue[0].queue == "DESK"
    # bob's department is the DESK queue; carol was rung for the other number.
    assert [c.number for c in listed(db, "bob")] == ["+49301234567"]
    assert [c.number for c in listed(db, "carol")] == ["+49407777777"]
    # An answered call from the number reaches it: it leaves the list.
    moment.now = T0.replace(minute=10)
    ring(db, admin, "b2", "+49407777777", answer=True)
    assert [c.number for c in listed(db, "sue")] == ["+49301234567"]
    # A new missed call after that puts it back, counting only the new try.
    moment.now = T0.replace(minute=20)
    ring(db, admin, "b3", "+49407777777", users=["carol"])
    assert [(c.number, c.tries) for c in listed(db, "carol")] == [("+49407777777", 1)]


def test_calling_back_records_callout_on_the_open_incident(db, admin, world):
    with db.session() as s:
        incident = Incident(
            channel="phone",
            request_type="action",
            status="registered",
            customer_id=world["acme"],
            title="Printer",
            created_by_id=admin.id,
            updated_by_id=admin.id,
            opened_at=clock.now(),
            updated_at=clock.now(),
        )
        s.add(incident)
        s.flush()
        incident_id = incident.id
    ring(db, admin, "a1", "+49301234567", queue="DESK")
    with db.session() as s:
        bob = resolve_actor(s, "bob")
        done = call_back(s, actor=bob, number="030 1234567")
        assert done.new_contact is None
        assert done.incident == f"INC-{incident_id}"
        assert done.call.direction == "out" and done.call.agent == "bob"
    with db.session(write=False) as s:
        events = s.execute(
            select(EventType.code, Event.text)
            .join(EventType)
            .where(col(Event.incident_id) == incident_id)
        ).all()
        assert [(code, text.split(" (")[0]) for code, text in events] == [
            ("CallOut", "Called back +49301234567")
        ]
        assert s.get(Incident, incident_id).version > 1
    assert listed(db, "sue") == []


def test_calling_back_an_unknown_number_opens_a_contact_with_callout(db, admin, world):
    ring(db, admin, "b1", "+49 40 7777777", users=["carol"])
    with db.session() as s:
        carol = resolve_actor(s, "carol")
        done = call_back(s, actor=carol, number="+49407777777")
        assert done.new_contact is not None
        assert done.customer_id is None
    with db.session(write=False) as s:
        draft = s.get(Incident, done.new_contact.id)
        assert (draft.status, draft.channel, draft.caller_phone_e164) == (
            "draft",
            "cti",
            "+49407777777",
        )
        codes = s.scalars(
            select(EventType.code).join(Event).where(col(Event.incident_id) == draft.id)
        ).all()
        assert "CallOut" in codes
        calls = s.scalars(select(PhoneCall).where(col(PhoneCall.direction) == "out")).all()
        assert [c.incident_id for c in calls] == [draft.id]
    assert listed(db, "carol") == []


def test_calling_back_a_number_that_never_missed_is_refused(db, admin, world):
    with db.session() as s, pytest.raises(NotFound):
        call_back(s, actor=admin, number="+49 89 1111111")
    with db.session(write=False) as s:
        assert s.scalars(select(PhoneCall)).all() == []
