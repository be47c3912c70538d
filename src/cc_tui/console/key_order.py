"""Keys reach the field the agent saw focused, in the order they were typed.

Textual hands a key from the terminal to the focused widget's message queue and takes the
next key at once. A key the widget does not use itself (`tab`, `enter` in a drop-down, a
screen's binding) travels back up to the app, where its binding moves the focus, after the
keys typed behind it were already handed to the old field: "Jams", tab, "every page"
typed quickly became the title "Jamsevery page".

`KeyOrder` holds each key until the one before it has been handled (used by a field,
or its binding run) and what that started inside the screen (a drop-down closing, a
picked code filling two fields, the focus moving) has been processed; then the next key
goes to whatever has the focus by then. When nothing is pending, a key passes at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump
    from textual.widget import Widget

# A key waits at most this long for the screen to settle after the key before, and at
# most KEY_WAIT_SECONDS for the key before to be handled at all (a key that went to a
# widget removed meanwhile; a machine so busy the console crawls): then it goes on.
MAX_WAIT_SECONDS = 1.0
KEY_WAIT_SECONDS = 5.0
POLL_SECONDS = 0.0005


def _queue_empty(node: MessagePump) -> bool:
    return node.message_queue_size == 0 and getattr(node, "_pending_message", None) is None


class KeyOrder:
    """The gate between the terminal's keys and the focused widget (one per app)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._held: deque[events.Key] = deque()
        # The key handed on last, until it is used or its binding has run.
        self._last: events.Key | None = None
        self._last_done = True
        # A held key posted again to the app, admitted when it comes round.
        self._releasing: events.Key | None = None
        self._pump: asyncio.Task[None] | None = None
        self._last_target: Widget | None = None

    def admit(self, event: events.Key) -> bool:
        """Whether the app hands `event` on now; else it is held and handed on in turn."""
        if event is self._releasing:
            self._releasing = None
            return True
        if (
            self._held
            or self._releasing is not None
            or not (self.settled() or self.streams_text(event))
        ):
            self._held.append(event)
            if self._pump is None or self._pump.done():
                self._pump = asyncio.create_task(self._release())
            return False
        return True

    @property
    def busy(self) -> bool:
        """Keys are held, waiting for their turn."""
        return bool(self._held) or self._releasing is not None

    def handed_on(self, event: events.Key) -> None:
        """`event` went to a widget (or a priority binding took it)."""
        self._last = event
        self._last_done = not event.is_forwarded
        self._last_target = self.app.focused

    def streams_text(self, event: events.Key) -> bool:
        """`event` is one more letter for the text field the letter before went to (and
        still focused): the field takes them in order itself, nothing needs to wait."""
        from textual.widgets import Input, TextArea

        last, focused = self._last, self.app.focused
        if last is None or not (event.is_printable and last.is_printable):
            return False
        if focused is None or focused is not self._last_target:
            return False
        if isinstance(focused, TextArea):
            return not focused.read_only
        return isinstance(focused, Input)

    def reached_app(self, event: events.Key) -> None:
        """`event` came back up to the app and its binding (if any) has run."""
        if event is self._last:
            self._last_done = True

    def settled(self) -> bool:
        """The last key was handled and, if it ran a binding (which may move the focus,
        open a dialog, close a drop-down), the screen has nothing left to process."""
        if not self.last_handled():
            return False
        return self.typed_as_text() or self.screen_quiet()

    def typed_as_text(self) -> bool:
        """The last key was used by the focused field itself (a letter typed into it),
        not a binding: it moved nothing, so the next key needs no wait for the screen."""
        last = self._last
        return last is not None and not self._last_done and last._stop_propagation

    def last_handled(self) -> bool:
        last = self._last
        return last is None or self._last_done or last._stop_propagation

    def screen_quiet(self) -> bool:
        try:
            screen = self.app.screen
        except Exception:  # no screen yet, or the app is closing
            return True
        return all(_queue_empty(node) for node in screen.walk_children(with_self=True))

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        while self._held:
            start = loop.time()
            while (
                not self.streams_text(self._held[0])
                and not self.last_handled()
                and loop.time() < start + KEY_WAIT_SECONDS
            ):
                await asyncio.sleep(POLL_SECONDS)
            deadline = loop.time() + MAX_WAIT_SECONDS
            while (
                not self.typed_as_text()
                and not self.streams_text(self._held[0])
                and not self.screen_quiet()
                and loop.time() < deadline
            ):
                await asyncio.sleep(POLL_SECONDS)
            event = self._held.popleft()
            self._releasing = event
            if not self.app.post_message(event):  # the app is closing: nothing to hand on
                self._releasing = None
                self._held.clear()
                return
            while self._releasing is event:
                if not self.app.is_running:
                    self._releasing = None
                    self._held.clear()
                    return
                await asyncio.sleep(POLL_SECONDS)

    def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self._held.clear()
