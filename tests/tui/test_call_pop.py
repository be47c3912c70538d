"""Screen pop: a call posted by another process rings on the console of the agent it rings
for (and no other); enter takes it into intake as a CTI contact with the caller identified."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sqlmodel import select

from cc_tui.dialogs.call_pop import CallPopDialog
from cc_tui.models import Incident, PhoneCall
from cc_tui.screens.intake import IntakeScreen
from cc_tui.services.context import bootstrap_admin
from tests import factories as f
from tests.tui.conftest import SIZE, console, settled, signed_in, wait_until

pytestmark = pytest.mark.tui


def seed(db) -> None:
    with db.session() as s:
        admin = bootstrap_admin(s, "admin")
        assert admin is not None
        acme = f.customer(s, "Acme AG", phone="+49 30 1234567", block="warn", reason="be brief")
        f.contact(s, acme, "Anna Nowak", phone="0171 5550001")
        f.agent(s, "bob")
        f.agent(s, "carol")


async def simulate(db, number: str, agent: str, *more: str) -> None:
    """`cc-tui cti simulate` in a process of its own, as a PBX bridge would post."""
    url = db.url.render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cc_tui",
        "--db",
        url,
        "--as",
        "admin",
        "cti",
        "simulate",
        "--from",
        number,
        "--agent",
        agent,
        *more,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()


def popped(app) -> CallPopDialog | None:
    return app.screen if isinstance(app.screen, CallPopDialog) else None


async def test_call_pops_for_its_agent_and_enter_takes_it(db):
    seed(db)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await simulate(db, "+4917155500 01", "bob")
        await wait_until(pilot, lambda: popped(app) is not None)
        text = str(app.screen.query_one("#call-pop-text").render())
        assert "Acme AG (Anna Nowak)" in text
        assert "open incidents: 0" in text
        assert "WARN: be brief" in text
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, IntakeScreen)
                and app.screen.contact is not None
                and app.screen.caller is not None
            ),
        )
        screen = app.screen
        assert screen.channel == "cti"
        assert screen.caller.customer.name == "Acme AG"
        assert screen.contact_person is not None
        await settled(pilot)
    with db.session(write=False) as s:
        call = s.scalars(select(PhoneCall)).one()
        incident = s.get(Incident, call.incident_id)
        assert incident is not None and incident.channel == "cti"


async def test_unknown_number_fills_the_caller_field(db):
    seed(db)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await simulate(db, "+49 40 7777777", "bob")
        await wait_until(pilot, lambda: popped(app) is not None)
        assert "caller not known" in str(app.screen.query_one("#call-pop-text").render())
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, IntakeScreen) and app.screen.contact is not None
        )
        assert app.screen.caller_search.text == "+49 40 7777777"
        assert app.screen.caller is None
        await settled(pilot)


async def test_another_agents_call_does_not_pop(db):
    seed(db)
    app = console(db, login="carol")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await simulate(db, "+49301234567", "bob")
        await simulate(db, "+49 40 7777777", "carol")
        # Bob's call came first on the feed: by the time carol's pops, it was passed over.
        await wait_until(pilot, lambda: popped(app) is not None)
        with db.session(write=False) as s:
            calls = {c.ringing[0]: c.id for c in s.scalars(select(PhoneCall))}
        assert app.call_pops is not None
        assert app.call_pops.popped == [calls["carol"]]
        await pilot.press("escape")
        await wait_until(pilot, lambda: popped(app) is None)
        await settled(pilot)


async def test_answering_at_the_phone_opens_intake_without_a_key(db):
    seed(db)
    app = console(db, login="bob")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await app.switch_mode("incident")
        await simulate(db, "0171 5550001", "bob", "--answer")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, IntakeScreen)
                and app.screen.contact is not None
                and app.screen.caller is not None
            ),
        )
        assert app.screen.channel == "cti"
        assert app.screen.caller.customer.name == "Acme AG"
        assert popped(app) is None
        await settled(pilot)
    with db.session(write=False) as s:
        call = s.scalars(select(PhoneCall)).one()
        assert call.state == "answered"
        assert call.incident_id is not None
        assert s.scalars(select(Incident)).one().channel == "cti"


async def test_a_bridge_process_posts_new_calls_and_only_their_agent_pops(db, tmp_path):
    """`cc-tui cti serve` in a process of its own takes the PBX's newCall over HTTP; the
    console of the agent it rings for pops, a call for another agent does not, and a
    number written as console markup is shown as text."""
    import json
    import socket
    import urllib.parse
    import urllib.request

    seed(db)
    token = tmp_path / "token"
    token.write_text("pilot-token-0123456789")
    token.chmod(0o600)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = db.url.render_as_string(hide_password=False)
    bridge = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cc_tui", "--db", url, "--as", "admin", "cti", "serve",
        "--port", str(port), "--token-file", str(token),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip

    def post(fields: dict) -> dict:
        data = urllib.parse.urlencode(fields, doseq=True).encode()
        address = f"http://127.0.0.1:{port}/api/v1/cti/pilot-token-0123456789"
        with urllib.request.urlopen(urllib.request.Request(address, data=data), timeout=30) as r:
            return json.loads(r.read())

    async def posted(fields: dict) -> dict:
        for _ in range(600):  # until the bridge listens
            try:
                return await asyncio.to_thread(post, fields)
            except OSError:
                assert bridge.returncode is None, "the bridge stopped"
                await asyncio.sleep(0.05)
        raise AssertionError("the bridge did not listen")

    try:
        app = console(db, login="carol")
        async with app.run_test(size=SIZE) as pilot:
            await signed_in(pilot)
            bobs = {"event": "newCall", "callId": "b-1", "from": "+49301234567", "user[]": "bob"}
            assert (await posted(bobs))["changed"] is True
            hostile = "[@click=app.quit]x[/]"
            carols = {"event": "newCall", "callId": "c-1", "from": hostile, "user[]": "carol"}
            assert (await posted(carols))["changed"] is True
            await wait_until(pilot, lambda: popped(app) is not None)
            assert popped(app).pop.call_id == "c-1"
            assert hostile in str(app.screen.query_one("#call-pop-text").render())
            assert app.call_pops is not None and len(app.call_pops.popped) == 1
            await pilot.press("escape")
            await wait_until(pilot, lambda: popped(app) is None)
            assert app.is_running
            await settled(pilot)
    finally:
        bridge.terminate()
        await bridge.wait()


async def test_a_call_answered_by_another_agent_leaves_this_console(db):
    from cc_tui.services.context import resolve_actor
    from cc_tui.services.cti.calls import CallEvent, record_event

    seed(db)

    def send(**fields) -> None:
        with db.session() as s:
            record_event(s, actor=resolve_actor(s, "admin"), event=CallEvent.parse(fields))

    app = console(db, login="carol", mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        send(event="newCall", callId="g-1", **{"from": "+49301234567", "user[]": ["bob", "carol"]})
        await wait_until(pilot, lambda: popped(app) is not None)
        send(event="answer", callId="g-1", **{"user[]": ["bob"]})
        await wait_until(pilot, lambda: popped(app) is None)
        assert app.current_mode == "queues"  # not taken here: bob answered
        await settled(pilot)
    with db.session(write=False) as s:
        call = s.scalars(select(PhoneCall)).one()
        assert call.state == "answered" and call.incident_id is None
