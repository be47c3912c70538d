"""The call log: events recorded once, callers identified, changes for the ringing agents."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from cc_tui.errors import NotFound, RuleViolation, UsageError
from cc_tui.models import Change, Incident, PhoneCall
from cc_tui.services.cti.calls import (
    CallEvent,
    call_pop,
    e164,
    list_calls,
    record_event,
    take_call,
)
from cc_tui.services.directory.agents import update_agent
from tests import factories as f


@pytest.fixture
def world(db, admin):
    with db.session() as s:
        acme = f.customer(s, "Acme AG", phone="+49 30 1234567", block="warn", reason="be brief")
        f.contact(s, acme, "Anna Nowak", phone="0171 5550001")
        bob = f.agent(s, "bob")
        carol = f.agent(s, "carol")
        update_agent(s, actor=admin, login="carol", extension="202")
    return {"acme": acme.id, "bob": bob.id, "carol": carol.id}


def event(kind, call_id="c-1", **fields):
    return CallEvent.parse({"event": kind, "callId": call_id, **fields})


def changes(s):
    return [
        (c.entity, c.action, c.agent_id)
        for c in s.scalars(select(Change).where(col(Change.entity) == "call").order_by(Change.id))
    ]


def test_numbers_with_or_without_plus():
    assert e164("+49301234567") == "+49301234567"
    assert e164("49301234567") == "+49301234567"
    assert e164("004930 1234567") == "+49301234567"
    assert e164("030 1234567") == "+49301234567"
    assert e164("201") is None
    assert e164("anonymous") is None


def test_new_call_identifies_contact_and_rings_for_the_named_agent(db, admin, world):
    with db.session() as s:
        result = record_event(
            s, actor=admin, event=event("newCall", **{"from": "491715550001", "user[]": ["bob"]})
        )
        assert result.changed
        assert result.call.customer is not None
        assert result.call.customer.name == "Acme AG"
        assert result.call.state == "ringing"
        assert changes(s) == [("call", "ringing", world["bob"])]
        pop = call_pop(s, call=result.call.id)
    assert (pop.contact_name, pop.block_level, pop.block_reason) == (
        "Anna Nowak",
        "warn",
        "be brief",
    )
    assert pop.open_incidents == 0


def test_replayed_events_change_nothing(db, admin, world):
    with db.session() as s:
        new = event("newCall", **{"from": "+49301234567", "user[]": ["bob"]})
        assert record_event(s, actor=admin, event=new).changed
        assert not record_event(s, actor=admin, event=new).changed
        answer = event("answer", answeringNumber="202", **{"user[]": ["bob"]})
        first = record_event(s, actor=admin, event=answer)
        assert first.changed and first.call.agent == "carol"
        assert not record_event(s, actor=admin, event=answer).changed
        hangup = event("hangup", cause="normalClearing")
        assert record_event(s, actor=admin, event=hangup).call.state == "ended"
        assert not record_event(s, actor=admin, event=hangup).changed
        assert len(s.scalars(select(PhoneCall)).all()) == 1
        assert [a for _e, a, _g in changes(s)] == [
            "ringing",
            "answered",
            "answered",
            "ended",
            "ended",
        ]


def test_unanswered_call_is_missed_and_listed(db, admin, world):
    with db.session() as s:
        record_event(s, actor=admin, event=event("newCall", **{"from": "030 999999", "to": "202"}))
        record_event(s, actor=admin, event=event("hangup", cause="cancel"))
        record_event(s, actor=admin, event=event("newCall", "c-2", **{"from": "+4930888888"}))
        missed = list_calls(s, missed=True)
        assert [(c.call_id, c.state, c.agent, c.customer) for c in missed] == [
            ("c-1", "missed", "carol", None)
        ]
        assert [c.call_id for c in list_calls(s, agent="carol")] == ["c-1"]
        assert len(list_calls(s)) == 2


def test_untrusted_text_is_cleaned_and_bad_events_refused(db, admin, world):
    parsed = CallEvent.parse(
        {"event": "newCall", "callId": "x\x1b[2J1", "from": "+49\x07 30\u202e1234567"}
    )
    assert parsed.call_id == "x[2J1"
    assert "\x07" not in parsed.from_number and "\u202e" not in parsed.from_number
    for bad in (
        {"event": "ring", "callId": "1"},
        {"event": "newCall"},
        {"event": "newCall", "callId": "1", "direction": "sideways"},
    ):
        with pytest.raises(UsageError):
            CallEvent.parse(bad)
    with db.session() as s, pytest.raises(NotFound):
        record_event(s, actor=admin, event=event("answer", "never-rang"))


def test_taking_a_call_records_a_cti_contact(db, admin, world):
    with db.session() as s:
        call = record_event(
            s, actor=admin, event=event("newCall", **{"from": "+49301234567", "user[]": ["admin"]})
        ).call
        taken = take_call(s, actor=admin, call=call.id)
        assert taken.customer_id == world["acme"]
        incident = s.get(Incident, taken.contact.id)
        assert incident is not None
        assert (incident.channel, incident.caller_phone_e164) == ("cti", "+49301234567")
        assert list_calls(s)[0].incident == taken.contact.number
        with pytest.raises(RuleViolation):
            take_call(s, actor=admin, call=call.id)


def test_extension_belongs_to_one_agent(db, admin, world):
    with db.session() as s:
        with pytest.raises(RuleViolation):
            update_agent(s, actor=admin, login="bob", extension="202")
        with pytest.raises(UsageError):
            update_agent(s, actor=admin, login="bob", extension="20 1; drop")
        assert update_agent(s, actor=admin, login="bob", extension="201").extension == "201"


def test_pop_counts_the_callers_open_incidents_only(db, admin, world):
    from cc_tui import clock

    with db.session() as s:
        for status in ("registered", "pending", "closed"):
            s.add(
                Incident(
                    channel="phone",
                    request_type="action",
                    status=status,
                    customer_id=world["acme"],
                    title=status,
                    created_by_id=admin.id,
                    updated_by_id=admin.id,
                    opened_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        call = record_event(
            s, actor=admin, event=event("newCall", **{"from": "+49301234567", "user[]": ["bob"]})
        ).call
        pop = call_pop(s, call=call.id)
        assert (pop.customer_name, pop.open_incidents, pop.agent_id) == ("Acme AG", 2, world["bob"])
        stranger = event("newCall", "c-2", **{"from": "+4940111"})
        unknown = record_event(s, actor=admin, event=stranger)
        assert call_pop(s, call=unknown.call.id).open_incidents == 0
        with pytest.raises(NotFound):
            call_pop(s, call=10**6)
