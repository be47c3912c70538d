"""Screen pop: when the change feed says a call rings for the agent at this console (and
only then), show the caller; taking it (the pop's key, or answering the phone: the PBX
says this agent's extension answered) opens intake with the contact recorded (channel
CTI) and the caller identified, or the number filled in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from cc_tui.console.calls import Connection
    from cc_tui.console.messages import ChangeBatch
    from cc_tui.dialogs.call_pop import CallPopDialog
    from cc_tui.services.cti.callbacks import CalledBack
    from cc_tui.services.cti.calls import CallPop, TakenCall

# What ends a ringing call's pop: someone took it, answered it, or it ended.
OVER = ("taken", "answered", "ended", "missed")


class CallPops:
    def __init__(self, app: App[None], connection: Connection) -> None:
        self.app = app
        self.connection = connection
        self.showing: CallPopDialog | None = None
        self.popped: list[int] = []  # call ids popped on this console, in order
        self.taken: set[int] = set()  # call ids taken into intake on this console
        self.seen = 0  # call changes for this agent read from the feed

    def notice(self, batch: ChangeBatch) -> None:
        me = self.connection.actor.id
        for change in batch.changes:
            if change.entity != "call" or change.agent_id != me or change.entity_id is None:
                continue
            self.seen += 1
            if change.action == "ringing":
                self._load(change.entity_id)
            elif change.action == "answered":
                # Answered at this agent's phone: intake opens as if the key were pressed.
                self._load(change.entity_id, answered=True)
            elif change.action in OVER and self._showing(change.entity_id):
                assert self.showing is not None
                self.showing.dismiss(False)

    def _showing(self, call: int) -> bool:
        shown = self.showing
        return shown is not None and shown.pop.id == call and shown.is_attached

    def _load(self, call: int, *, answered: bool = False) -> None:
        from cc_tui.console.calls import call_service
        from cc_tui.services.cti.calls import call_pop

        call_service(
            self.app,
            call_pop,
            on_result=self._answered_here if answered else self._show,
            group="call-pop",
            exclusive=False,
            call=call,
        )

    def _answered_here(self, pop: CallPop) -> None:
        if pop.agent_id != self.connection.actor.id:
            if self._showing(pop.id):
                assert self.showing is not None
                self.showing.dismiss(False)
            return
        if pop.incident is not None or pop.id in self.taken:
            return
        if self._showing(pop.id):
            assert self.showing is not None
            self.showing.dismiss(True)  # its callback takes the call
            return
        self.popped.append(pop.id)
        self._answered(pop, True)

    def _show(self, pop: CallPop) -> None:
        from cc_tui.dialogs.call_pop import CallPopDialog

        if pop.state not in ("ringing", "answered") or pop.id in self.popped:
            return
        if pop.incident is not None or pop.id in self.taken:
            return
        if self.showing is not None and self.showing.is_attached:
            self.showing.dismiss(False)
        self.popped.append(pop.id)
        self.showing = CallPopDialog(pop)
        self.app.bell()
        self.app.push_screen(self.showing, lambda take: self._answered(pop, bool(take)))

    def _answered(self, pop: CallPop, take: bool) -> None:
        self.showing = None
        if take and pop.id not in self.taken:
            self.taken.add(pop.id)
            self.app.call_later(self._take, pop)

    async def _take(self, pop: CallPop) -> None:
        from cc_tui.console.calls import call_service
        from cc_tui.services.cti.calls import take_call

        await self.app.switch_mode("intake")
        screen = self.app.screen
        if getattr(screen, "in_call", False):
            self.app.notify(
                "End the call in progress first (escape); the new one is in the call log.",
                title="Call",
                severity="warning",
                markup=False,
            )
            return

        def taken(result: TakenCall) -> None:
            take = getattr(self.app.screen, "take_phone_call", None)
            if callable(take):
                take(result)

        call_service(
            self.app,
            take_call,
            on_result=taken,
            write=True,
            group="call-take",
            actor=self.connection.actor,
            call=pop.id,
            default_country=self.connection.settings.default_country,
        )

    # -- calling back (the board's callback list, the caller log) ---------------------------

    def call_back(self, number: str) -> None:
        """Call a number of the callback list back: CallOut on the caller's open incident
        (shown), or a new contact that intake opens with the number filled in."""
        self.app.call_later(self._call_back, number)

    async def _call_back(self, number: str) -> None:
        from cc_tui.console.calls import call_service
        from cc_tui.services.cti.callbacks import call_back

        await self.app.switch_mode("intake")
        if getattr(self.app.screen, "in_call", False):
            self.app.notify(
                "End the call in progress first (escape), then call back.",
                title="Call back",
                severity="warning",
                markup=False,
            )
            return
        call_service(
            self.app,
            call_back,
            on_result=self._called_back,
            write=True,
            group="call-back",
            actor=self.connection.actor,
            number=number,
            default_country=self.connection.settings.default_country,
        )

    def _called_back(self, done: CalledBack) -> None:
        from cc_tui.services.cti.calls import TakenCall

        self.app.notify(
            f"Call {done.number} now: CallOut recorded on {done.incident}.",
            title="Call back",
            markup=False,
        )
        if done.new_contact is None:
            from cc_tui.screens.incident_detail import show_incident

            show_incident(self.app, done.incident_id)
            return
        take = getattr(self.app.screen, "take_phone_call", None)
        if callable(take):
            take(TakenCall(done.new_contact, done.number, done.customer_id, done.contact_id))
