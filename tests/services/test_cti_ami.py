"""The Asterisk AMI bridge against a small AMI server written here: it speaks the AMI text
protocol on a loopback port (banner, Login, Ping) and replays event transcripts written in
the format Asterisk 16+ documents for Newchannel, Newstate, DialBegin, BridgeEnter and
Hangup, including a connection that drops mid-call and events sent again after the
reconnect."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import pytest
from sqlmodel import col, select

from cc_tui.errors import Unavailable
from cc_tui.models import Agent, Change, PhoneCall
from cc_tui.services.context import resolve_actor
from cc_tui.services.cti.ami import AmiBridge, AmiTracker, extension_of
from tests import factories as f

pytestmark = pytest.mark.commits

CRLF = "\r\n"


def channel(event: str, name: str, uniqueid: str, linkedid: str, **more: str) -> dict[str, str]:
    """An event with the channel fields every Asterisk 16+ channel event carries."""
    fields = {
        "Event": event,
        "Privilege": "call,all",
        "Channel": name,
        "ChannelState": "0",
        "ChannelStateDesc": "Down",
        "CallerIDNum": "",
        "CallerIDName": "",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "en",
        "AccountCode": "",
        "Context": "from-trunk",
        "Exten": "4930555000",
        "Priority": "1",
        "Uniqueid": uniqueid,
        "Linkedid": linkedid,
    }
    fields.update(more)
    return fields


def inbound(lid: str, caller: str, *, answered_by: str | None, stamp: float) -> list[dict]:
    """A call from the trunk that rings extensions 201 and 202 through Local channels; one
    of them answers (or nobody, and the caller hangs up)."""
    trunk = f"PJSIP/trunk-{lid[-4:]}"
    up = {"ChannelState": "6", "ChannelStateDesc": "Up"}
    ts = iter(f"{stamp + i / 100:.6f}" for i in range(100))
    events = [
        channel(
            "Newchannel",
            trunk,
            lid,
            lid,
            CallerIDNum=caller,
            CallerIDName="[@click=app.quit]x[/]",
            ChannelState="4",
            ChannelStateDesc="Ring",
            Timestamp=next(ts),
        ),
        channel(
            "QueueCallerJoin",
            trunk,
            lid,
            lid,
            CallerIDNum=caller,
            Queue="DESK",
            Position="1",
            Count="1",
            Timestamp=next(ts),
        ),
    ]
    for n, ext in enumerate(("201", "202"), start=1):
        leg = f"{lid}{n}"
        events.append(
            channel(
                "DialBegin",
                trunk,
                lid,
                lid,
                CallerIDNum=caller,
                DestChannel=f"Local/{ext}@from-queue-0000000{n};1",
                DestUniqueid=leg,
                DestLinkedid=lid,
                DestExten=ext,
                DialString=f"{ext}@from-queue",
                Timestamp=next(ts),
            )
        )
        events.append(
            channel(
                "Newstate",
                f"PJSIP/{ext}-0000000{n}",
                f"{leg}9",
                lid,
                ChannelState="5",
                ChannelStateDesc="Ringing",
                Exten=ext,
                Timestamp=next(ts),
            )
        )
    if answered_by is not None:
        n = 1 if answered_by == "201" else 2
        events.append(
            channel(
                "Newstate",
                f"PJSIP/{answered_by}-0000000{n}",
                f"{lid}{n}9",
                lid,
                Exten=answered_by,
                Timestamp=next(ts),
                **up,
            )
        )
        events.append(
            channel(
                "BridgeEnter",
                f"PJSIP/{answered_by}-0000000{n}",
                f"{lid}{n}9",
                lid,
                BridgeUniqueid="bridge-" + lid,
                BridgeType="basic",
                BridgeTechnology="simple_bridge",
                BridgeNumChannels="2",
                Timestamp=next(ts),
                **up,
            )
        )
    events.append(
        channel(
            "Hangup",
            trunk,
            lid,
            lid,
            CallerIDNum=caller,
            Cause="16",
            **{"Cause-txt": "Normal Clearing"},
            Timestamp=next(ts),
        )
    )
    return events


def encode(fields: dict[str, str]) -> bytes:
    return (CRLF.join(f"{k}: {v}" for k, v in fields.items()) + CRLF + CRLF).encode()


class AmiServer:
    """Each connection gets, after a good Login, the next transcript of `sessions`; a
    transcript that ends with None is cut there (the server drops the connection).
    `drop_before_login` connections are closed right after the banner."""

    def __init__(self, sessions: list[list[dict | None]], *, drop_before_login: int = 0):
        self.sessions = sessions
        self.drop_before_login = drop_before_login
        self.connections = 0
        self.logins: list[tuple[str, str]] = []
        self.done = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        await writer.drain()
        if self.connections <= self.drop_before_login:
            writer.close()
            return
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in raw.decode().strip().split(CRLF) if ": " in line
                )
                reply = {"Response": "Success", "ActionID": action.get("ActionID", "")}
                if action["Action"] == "Login":
                    self.logins.append((action["Username"], action["Secret"]))
                    if action["Secret"] != "sekrit":
                        reply.update(Response="Error", Message="Authentication failed")
                        writer.write(encode(reply))
                        await writer.drain()
                        continue
                    reply["Message"] = "Authentication accepted"
                    writer.write(encode(reply))
                    writer.write(encode({"Event": "FullyBooted", "Privilege": "system,all"}))
                    if not self.sessions:
                        continue
                    for event in self.sessions.pop(0):
                        if event is None:
                            writer.close()
                            return
                        writer.write(encode(event))
                    await writer.drain()
                    if not self.sessions:
                        self.done.set()
                elif action["Action"] == "Ping":
                    reply["Ping"] = "Pong"
                    writer.write(encode(reply))
                else:
                    writer.write(encode(reply))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
def work(db, admin):
    with db.session() as s:
        f.customer(s, "Acme AG", phone="+49 30 1234567")
        bob = f.agent(s, "bob")
        carol = f.agent(s, "carol")
        s.get(Agent, bob.id).extension = "201"
        s.get(Agent, carol.id).extension = "202"

    @contextmanager
    def unit():
        with db.session() as session:
            yield session, resolve_actor(session, "admin")

    return unit


async def until(condition, seconds: float = 30.0) -> None:
    """Wait for the bridge to have done something (no timing is asserted)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the bridge did not get there")


async def run_bridge(server: AmiServer, work, *, secret: str = "sekrit", **options):
    port = await server.start()
    notes: list[str] = []
    bridge = AmiBridge(
        host="127.0.0.1",
        port=port,
        user="cctui",
        secret=secret,
        work=work,
        log=notes.append,
        min_delay=0.05,
        max_delay=0.4,
        **options,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    return bridge, stop, task, notes


def calls(db) -> dict[str, PhoneCall]:
    with db.session(write=False) as s:
        return {c.call_id: c for c in s.scalars(select(PhoneCall))}


def pops(db) -> list[tuple[str, int | None]]:
    with db.session(write=False) as s:
        rows = s.scalars(select(Change).where(col(Change.entity) == "call").order_by(Change.id))
        return [(r.action, r.agent_id) for r in rows]


async def test_an_answered_and_a_missed_call_are_logged_and_pop_for_the_extensions(db, work):
    server = AmiServer(
        [
            inbound("1700000000.10", "+49301234567", answered_by="202", stamp=1.0)
            + inbound("1700000000.20", "004940777777", answered_by=None, stamp=2.0)
        ]
    )
    bridge, stop, task, _notes = await run_bridge(server, work)
    await server.done.wait()
    await until(lambda: len(calls(db)) == 2 and all(c.ended_at for c in calls(db).values()))
    stop.set()
    await task
    await server.close()
    assert server.logins == [("cctui", "sekrit")]
    logged = calls(db)
    answered = logged["ami-1700000000.10"]
    assert answered.state == "ended"
    assert answered.direction == "in"
    assert answered.from_e164 == "+49301234567"
    assert answered.customer_id is not None
    assert answered.ringing == ["bob", "carol"]
    assert answered.cause == "Normal Clearing"
    assert answered.queue == "DESK"
    with db.session(write=False) as s:
        carol = s.scalars(select(Agent).where(col(Agent.login) == "carol")).one()
        bob = s.scalars(select(Agent).where(col(Agent.login) == "bob")).one()
    assert answered.agent_id == carol.id
    assert answered.extension == "202"
    missed = logged["ami-1700000000.20"]
    assert missed.state == "missed"
    assert missed.from_e164 == "+4940777777"
    assert missed.answered_at is None
    changes = pops(db)
    # newCall (nobody yet), then one ringing row per extension, as the dial reached it.
    assert changes[:3] == [("ringing", None), ("ringing", bob.id), ("ringing", carol.id)]
    assert ("answered", carol.id) in changes
    assert changes.count(("ringing", bob.id)) == 2  # once per call
    assert bridge.stats.replayed == 0


async def test_a_dropped_connection_reconnects_and_replayed_events_count_once(db, work):
    call = inbound("1700000100.30", "+49301234567", answered_by="201", stamp=5.0)
    # The first connection is cut after the phones started ringing; the second one sends
    # those events again before the rest of the call.
    server = AmiServer([[*call[:6], None], call])
    bridge, stop, task, notes = await run_bridge(server, work)
    await server.done.wait()
    await until(lambda: any(c.ended_at for c in calls(db).values()))
    stop.set()
    await task
    await server.close()
    assert bridge.stats.connects == 2
    assert len(server.logins) == 2
    assert bridge.stats.replayed == 6
    assert any("connection lost, reconnecting in 0.05 s" in n for n in notes)
    (only,) = calls(db).values()
    assert only.state == "ended"
    assert only.ringing == ["bob", "carol"]
    changes = pops(db)
    with db.session(write=False) as s:
        bob = s.scalars(select(Agent).where(col(Agent.login) == "bob")).one()
    assert changes.count(("ringing", bob.id)) == 1
    assert changes.count(("answered", bob.id)) == 1


async def test_reconnect_backs_off_while_the_server_is_away_and_resets_after_login(db, work):
    call = inbound("1700000200.40", "+49301234567", answered_by="201", stamp=9.0)
    server = AmiServer([[*call[:2], None], call], drop_before_login=3)
    _bridge, stop, task, notes = await run_bridge(server, work)
    await server.done.wait()
    await until(lambda: any(c.ended_at for c in calls(db).values()))
    stop.set()
    await task
    await server.close()
    delays = [n.rsplit(" in ", 1)[1] for n in notes if "reconnecting" in n]
    # Three drops before any login: 0.05, 0.1, 0.2; after the login, back to the minimum.
    assert delays == ["0.05 s", "0.1 s", "0.2 s", "0.05 s"]


async def test_a_refused_login_stops_with_a_clear_message(db, work):
    server = AmiServer([])
    _bridge, _stop, task, _notes = await run_bridge(server, work, secret="wrong")
    with pytest.raises(Unavailable, match="refused the login: Authentication failed"):
        await task
    await server.close()
    assert calls(db) == {}


def test_extensions_are_read_from_channel_names():
    assert extension_of("PJSIP/201-0000001a") == "201"
    assert extension_of("SIP/alice-0a1b") == "alice"
    assert extension_of("Local/202@from-queue-00000002;1") == "202"
    assert extension_of("garbage") is None
    assert extension_of("") is None


def test_an_agent_dialling_out_is_an_outgoing_call_answered_when_the_far_end_bridges():
    tracker = AmiTracker(lambda ext: ext == "201")
    lid = "1700000300.1"
    out = tracker.handle(channel("Newchannel", "PJSIP/201-00000009", lid, lid, Exten="0401234"))
    assert [(e.event, e.direction, e.from_number, e.to_number) for e in out] == [
        ("newCall", "out", "201", "0401234")
    ]
    assert out[0].extensions == ["201"]
    ring = channel("DialBegin", "PJSIP/201-00000009", lid, lid, DestChannel="PJSIP/trunk-1")
    assert tracker.handle(ring) == []
    bridged = channel("BridgeEnter", "PJSIP/trunk-00000010", "1700000300.2", lid)
    assert [(e.event, e.answering_number) for e in tracker.handle(bridged)] == [("answer", "201")]
    hangup = channel("Hangup", "PJSIP/201-00000009", lid, lid, Cause="16")
    assert [(e.event, e.cause) for e in tracker.handle(hangup)] == [("hangup", "16")]
    assert tracker.calls == {}


async def test_the_cti_ami_command_records_the_calls_of_the_server(db, work, tmp_path):
    """`cc-tui cti ami` as its own process, as an installation runs it."""
    import sys

    server = AmiServer([inbound("1700000400.50", "+49301234567", answered_by="201", stamp=20.0)])
    port = await server.start()
    secret = tmp_path / "ami.secret"
    secret.write_text("sekrit\n")
    secret.chmod(0o600)
    url = db.url.render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cc_tui", "--db", url, "--as", "admin", "cti", "ami",
        "--host", "127.0.0.1", "--port", str(port), "--user", "cctui",
        "--secret-file", str(secret),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await until(lambda: any(c.ended_at for c in calls(db).values()), seconds=60)
    finally:
        process.terminate()
        _out, err = await process.communicate()
        await server.close()
    (call,) = calls(db).values()
    assert (call.call_id, call.state, call.queue) == ("ami-1700000400.50", "ended", "DESK")
    assert server.logins == [("cctui", "sekrit")]
    assert "logged in" in err.decode()
