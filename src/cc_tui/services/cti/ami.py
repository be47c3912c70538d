"""The telephone bridge's Asterisk side: an AMI client (panoramisk) that follows a call's
channels and feeds the same call log as the webhook.

Asterisk names channels, not people. A call is the set of channels sharing a `Linkedid`
(the Uniqueid of its oldest channel); the oldest channel is the caller's leg. The phones it
rings are the `DestChannel`s of `DialBegin` (or channels whose `Newstate` is Ringing), an
agent's phone is named by its extension (`PJSIP/201-00000001`, `Local/201@from-queue-...;1`
-> 201, matched against `agent.extension`), the call is answered when one of those legs
comes Up or enters a bridge, and it ends with the caller leg's `Hangup`. `QueueCallerJoin`
names the queue the caller waits in.

After a reconnect a proxy or Asterisk itself may send events again; each one is read once
(its event name, channel Uniqueid and timestamp, or its whole text when the server adds no
timestamp), and the call log ignores a second newCall, answer or hangup in any case.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from cc_tui.errors import CcError, Unavailable, UsageError
from cc_tui.models import Agent
from cc_tui.services.context import Actor
from cc_tui.services.cti.calls import CallEvent, clean, record_event

Work = Callable[[], AbstractContextManager[tuple[Session, Actor]]]

# PJSIP/201-0000001a, SIP/201-0a1b, IAX2/201-3, Local/201@from-queue-00000002;1
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/([^-@/;]+)")
RINGING = ("Ringing", "Ring")
FOLLOWED = ("Newchannel", "Newstate", "DialBegin", "BridgeEnter", "Hangup", "QueueCallerJoin")
SEEN_LIMIT = 20_000


def extension_of(channel: str | None) -> str | None:
    """The extension in a channel name: 'PJSIP/201-0000001a' -> '201'."""
    if not channel:
        return None
    found = _CHANNEL.match(channel.strip())
    return found.group(1) if found else None


def read_secret(path: str | Path) -> str:
    """The AMI secret from a file only its owner may read (0600)."""
    import os
    import stat

    file = Path(path)
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UsageError(f"cannot read the secret file {file}: {error.strerror}") from error
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"the secret file {file} is readable by others: chmod 600 it")
    if not text or "\n" in text or "\r" in text:
        raise UsageError(f"the secret file {file} must hold one line")
    return text


@dataclass
class _Call:
    linkedid: str
    caller: str
    dialed: str
    direction: str
    origin_extension: str | None
    ringing: set[str] = field(default_factory=set)
    answered: bool = False
    queue: str | None = None


class AmiTracker:
    """Turns AMI events into call-log events (no I/O: `is_agent_extension` answers whether
    an extension is an agent's phone)."""

    def __init__(self, is_agent_extension: Callable[[str], bool]) -> None:
        self.is_agent_extension = is_agent_extension
        self.calls: dict[str, _Call] = {}
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.replayed = 0

    def _first_time(self, event: Mapping[str, str]) -> bool:
        stamp = event.get("Timestamp")
        if stamp:
            names = ("Event", "Uniqueid", "DestUniqueid")
            key = "|".join([*(event.get(n, "") for n in names), stamp])
        else:
            text = "\n".join(
                f"{k}:{v}" for k, v in sorted(event.items()) if k.lower() != "actionid"
            )
            key = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()
        if key in self.seen:
            self.replayed += 1
            return False
        self.seen[key] = None
        if len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        return True

    def handle(self, event: Mapping[str, str]) -> list[CallEvent]:
        """The call-log events one AMI event means (most mean none)."""
        name = event.get("Event", "")
        if name not in FOLLOWED:
            return []
        if not self._first_time(event):
            return []
        uniqueid = event.get("Uniqueid", "")
        linkedid = event.get("Linkedid") or uniqueid
        if not linkedid:
            return []
        origin = uniqueid == linkedid
        call = self.calls.get(linkedid)
        if name == "Newchannel":
            return self._new_channel(event, linkedid) if origin and call is None else []
        if call is None:
            return []
        if name == "DialBegin":
            return self._ring(call, extension_of(event.get("DestChannel")))
        if name == "QueueCallerJoin":
            # The queue the caller waits in: the call log keeps it (whose callback it is).
            queue = event.get("Queue") or None
            if call.direction != "in" or not queue or queue == call.queue:
                return []
            call.queue = queue
            return [self._event(call, "newCall")]
        if name == "Hangup":
            if not origin:
                return []
            del self.calls[linkedid]
            cause = event.get("Cause-txt") or event.get("Cause")
            return [self._event(call, "hangup", cause=cause)]
        if origin:
            return []
        extension = extension_of(event.get("Channel"))
        if name == "Newstate" and event.get("ChannelStateDesc") in RINGING:
            return self._ring(call, extension)
        if name == "BridgeEnter" or (name == "Newstate" and event.get("ChannelStateDesc") == "Up"):
            return self._answer(call, extension)
        return []

    def _new_channel(self, event: Mapping[str, str], linkedid: str) -> list[CallEvent]:
        extension = extension_of(event.get("Channel"))
        outgoing = extension is not None and self.is_agent_extension(extension)
        call = _Call(
            linkedid=linkedid,
            caller=event.get("CallerIDNum", ""),
            dialed=event.get("Exten", ""),
            direction="out" if outgoing else "in",
            origin_extension=extension if outgoing else None,
        )
        self.calls[linkedid] = call
        if outgoing:
            return [self._event(call, "newCall", extensions=[extension] if extension else [])]
        return [self._event(call, "newCall")]

    def _ring(self, call: _Call, extension: str | None) -> list[CallEvent]:
        if call.direction != "in" or call.answered or not extension:
            return []
        if extension in call.ringing:
            return []
        call.ringing.add(extension)
        return [self._event(call, "newCall", extensions=[extension])]

    def _answer(self, call: _Call, extension: str | None) -> list[CallEvent]:
        if call.answered:
            return []
        if call.direction == "in":
            if not extension or not (
                extension in call.ringing or self.is_agent_extension(extension)
            ):
                return []
            answering = extension
        else:
            answering = call.origin_extension or ""
        call.answered = True
        return [self._event(call, "answer", answering=answering)]

    def _event(
        self,
        call: _Call,
        kind: str,
        *,
        extensions: Iterable[str] = (),
        answering: str | None = None,
        cause: str | None = None,
    ) -> CallEvent:
        if call.direction == "in":
            numbers = {"from": call.caller, "to": call.dialed}
        else:
            numbers = {"from": call.origin_extension or call.caller, "to": call.dialed}
        parsed = CallEvent.parse(
            {
                "event": kind,
                "callId": f"ami-{call.linkedid}",
                "direction": call.direction,
                "answeringNumber": answering,
                "cause": cause,
                "queue": call.queue,
                **numbers,
            }
        )
        return replace(parsed, extensions=[e for e in (clean(x, 40) for x in extensions) if e])


class AgentExtensions:
    """Which extensions are agents' phones, read again at most every `ttl` seconds."""

    def __init__(self, work: Work, ttl: float = 30.0) -> None:
        self.work = work
        self.ttl = ttl
        self.known: set[str] = set()
        self.read_at = float("-inf")

    def __call__(self, extension: str) -> bool:
        import time

        now = time.monotonic()
        if now - self.read_at > self.ttl or (
            extension not in self.known and now - self.read_at > 1
        ):
            with self.work() as (session, _actor):
                self.known = {
                    e
                    for e in session.scalars(
                        select(col(Agent.extension)).where(
                            col(Agent.extension).is_not(None), col(Agent.active).is_(True)
                        )
                    )
                    if e
                }
            self.read_at = now
        return extension in self.known


@dataclass
class AmiStats:
    events: int = 0
    recorded: int = 0
    replayed: int = 0
    refused: int = 0
    connects: int = 0


class AmiBridge:
    """Logs in, follows the call events and records them, one at a time in arrival order
    (a worker thread does the database work, so the connection keeps being read);
    reconnects with back-off (1 s doubling up to `max_delay`) when the connection drops."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        secret: str,
        work: Work,
        default_country: str = "DE",
        log: Callable[[str], None] | None = None,
        min_delay: float = 1.0,
        max_delay: float = 60.0,
        ping_seconds: int = 20,
    ) -> None:
        self.host, self.port, self.user, self.secret = host, port, user, secret
        self.work = work
        self.default_country = default_country
        self.say = log or (lambda _message: None)
        self.min_delay, self.max_delay = min_delay, max_delay
        self.ping_seconds = ping_seconds
        self.tracker = AmiTracker(AgentExtensions(work))
        self.stats = AmiStats()
        self.logged_in = asyncio.Event()
        self.failed: asyncio.Future[CcError] | None = None
        self.queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self.manager: Any = None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Until `stop` is set; raises Unavailable when the server refuses the login."""
        loop = asyncio.get_running_loop()
        self.failed = loop.create_future()
        self.manager = _manager(self, loop)
        self.manager.register_event("*", self._received)
        self.manager.connect()
        consumer = asyncio.create_task(self._consume())
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self.failed)]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            done, _pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if self.failed in done:
                raise self.failed.result()
        finally:
            for wait in waits:
                wait.cancel()
            self.manager.close()
            self.manager.closing = True
            await self.queue.join()
            consumer.cancel()

    def _received(self, _manager: Any, message: Any) -> None:
        event = {str(k): v if isinstance(v, str) else ",".join(v) for k, v in message.items()}
        self.queue.put_nowait(event)

    async def _consume(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                await asyncio.to_thread(self._apply, event)
            except Exception as error:
                self.say(f"ami: {event.get('Event', '?')} not recorded: {error}")
            finally:
                self.queue.task_done()

    def _apply(self, event: dict[str, str]) -> None:
        self.stats.events += 1
        before = self.tracker.replayed
        for call_event in self.tracker.handle(event):
            try:
                with self.work() as (session, actor):
                    result = record_event(
                        session,
                        actor=actor,
                        event=call_event,
                        default_country=self.default_country,
                    )
            except CcError as error:
                self.stats.refused += 1
                self.say(f"ami: {call_event.event} {call_event.call_id}: {error.message}")
                continue
            if result.changed:
                self.stats.recorded += 1
        self.stats.replayed += self.tracker.replayed - before

    # Connection callbacks (panoramisk calls them on the event loop).
    def connected(self) -> None:
        self.stats.connects += 1

    def logged(self, ok: bool, message: str) -> None:
        if ok:
            self.say(f"ami: logged in to {self.host}:{self.port}")
            self.logged_in.set()
        elif self.failed is not None and not self.failed.done():
            self.failed.set_result(
                Unavailable(f"the AMI server refused the login: {message or 'no reason'}")
            )

    def unreachable(self, delay: float, error: BaseException) -> None:
        self.say(f"ami: cannot reach {self.host}:{self.port} ({error}), again in {delay:g} s")

    def disconnected(self, delay: float) -> None:
        self.logged_in.clear()
        self.say(f"ami: connection lost, reconnecting in {delay:g} s")


def _manager(bridge: AmiBridge, loop: asyncio.AbstractEventLoop) -> Any:
    """A panoramisk Manager whose reconnect delay doubles while the server is away and is
    back to the minimum once a login succeeds."""
    from panoramisk import Manager  # type: ignore[import-untyped]

    class BackoffManager(Manager):  # type: ignore[misc]
        closing = False

        def connection_made(self, future: Any) -> None:
            if self.closing:
                return
            if future.exception() is None:
                bridge.connected()
            else:
                self._grow()
                bridge.unreachable(self.reconnect_timeout, future.exception())
            super().connection_made(future)

        def login(self, future: Any) -> bool:
            ok = bool(super().login(future))
            if ok:
                self.reconnect_timeout = bridge.min_delay
                self.attempt_delay = bridge.min_delay / 2
            else:
                response = future.result()
                bridge.logged(False, clean(response.get("Message", ""), 200))
            return ok

        def connection_lost(self, exc: Any) -> None:
            if self.closing:
                return
            self._grow()
            bridge.disconnected(self.reconnect_timeout)
            super().connection_lost(exc)

        def connect(self, *args: Any, **kwargs: Any) -> Any:
            if self.closing:
                return None
            return super().connect(*args, **kwargs)

        def _grow(self) -> None:
            self.attempt_delay = getattr(self, "attempt_delay", bridge.min_delay / 2)
            self.attempt_delay = min(self.attempt_delay * 2, bridge.max_delay)
            self.reconnect_timeout = self.attempt_delay

    manager = BackoffManager(
        host=bridge.host,
        port=bridge.port,
        username=bridge.user,
        secret=bridge.secret,
        events="call,agent",
        loop=loop,
        ping_delay=bridge.ping_seconds,
        ping_interval=bridge.ping_seconds,
        log=logging.getLogger("cc_tui.cti.ami"),
        on_login=lambda _m: bridge.logged(True, ""),
    )
    manager.reconnect_timeout = bridge.min_delay
    return manager
