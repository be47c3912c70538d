"""The agent console: modes, global keys, the command palette, the database and the change
feed behind every screen.

Start-up order matters for speed: the first frame is painted before anything of the
database layer (SQLAlchemy, SQLModel, Alembic, the services) is imported. Only then does a
thread worker open the database, check the schema and sign the agent in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.signal import Signal
from textual.worker import get_current_worker

from cc_tui import clock
from cc_tui.console import terminal_text
from cc_tui.console.calls import Connection, error_message
from cc_tui.console.key_order import KeyOrder
from cc_tui.console.messages import (
    ChangeBatch,
    ChangesArrived,
    DatabaseFailed,
    DatabaseReady,
    StartScreenShown,
)
from cc_tui.console.modes import MODE_BY_NAME
from cc_tui.console.modes import MODES as CONSOLE_MODES
from cc_tui.console.themes import DEFAULT_THEME, THEME_LABELS, THEMES
from cc_tui.errors import CcError, Unavailable

if TYPE_CHECKING:
    from datetime import datetime

    from textual.screen import Screen

    from cc_tui.config import Settings
    from cc_tui.console.call_pop import CallPops
    from cc_tui.console.escalation_watch import AlertsArrived, EscalationWatch
    from cc_tui.screens.incident_detail import OpenIncident
    from cc_tui.screens.kb import OpenKnowledgeBase

STYLES = Path(__file__).parent.parent / "styles"
# On PostgreSQL the feed blocks on LISTEN for at most this long, so the worker notices
# within that time that the console is closing.
LISTEN_SLICE_SECONDS = 0.5
# After a failed read of the change feed, wait this long before trying again.
FEED_RETRY_SECONDS = 3.0


class CcTuiApp(App[None]):
    """`cc-tui`: intake, incidents, queues and the knowledge base in one console."""

    TITLE = "cc-tui"
    # Every screen's .tcss, loaded once at start: a screen with its own CSS_PATH makes
    # Textual parse the whole stylesheet again when it is first shown. Absolute paths, so
    # that subclasses defined elsewhere (tests, benchmarks) find them too.
    CSS_PATH = [STYLES / "app.tcss", *sorted(set(STYLES.glob("*.tcss")) - {STYLES / "app.tcss"})]
    # Each mode's screen module is imported when the mode is first shown.
    MODES = {mode.name: mode.make_screen for mode in CONSOLE_MODES}
    BINDINGS = [
        Binding("f1", "toggle_help", "Help", id="app.help"),
        Binding("question_mark", "show_keys", "Keys", show=False, id="app.keys"),
        *(
            Binding(
                mode.key,
                f"switch_mode('{mode.name}')",
                mode.label,
                show=False,
                id=mode.binding_id,
            )
            for mode in CONSOLE_MODES
        ),
        Binding("f8", "call_log", "Call log", show=False, id="app.call_log"),
        Binding("f9", "outbox", "Outbox", show=False, id="app.outbox"),
        Binding("f10", "mail_quarantine", "Mail quarantine", show=False, id="app.mail_quarantine"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Commands",
            id="app.command_palette",
            show=False,  # the footer shows it at its right end
            priority=True,
            tooltip="Search every command: modes, themes, keys",
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        start_mode: str = "intake",
        settings_loader: Callable[[], Settings] | None = None,
        home: bool = False,
    ) -> None:
        """Give `settings`, or a `settings_loader` to read them after the first paint
        (pydantic's import alone costs about as much as painting the first frame).
        `home`: once signed in, an agent goes to their own work (Queues mode, My work)."""
        terminal_text.install()
        if start_mode not in MODE_BY_NAME:
            raise ValueError(f"unknown mode {start_mode!r}; one of: {', '.join(MODE_BY_NAME)}")
        if settings is None and settings_loader is None:
            raise TypeError("CcTuiApp needs settings or a settings_loader")
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.start_mode = start_mode
        self.settings: Settings | None = None
        self._settings_loader = settings_loader
        self.connection: Connection | None = None
        self.startup_error: CcError | None = None
        self.connection_signal: Signal[Connection | None] = Signal(self, "connection")
        self.changes_signal: Signal[ChangeBatch] = Signal(self, "changes")
        # Since when the database has not answered (None: it answers); every screen says so.
        self.offline_since: datetime | None = None
        self.health_signal: Signal[datetime | None] = Signal(self, "health")
        self.escalation_watch: EscalationWatch | None = None
        self.call_pops: CallPops | None = None
        self._user_keymap: dict[str, str] = {}
        self._home = home
        self.key_order = KeyOrder(self)
        if settings is not None:
            self._use_settings(settings)

    def _use_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._user_keymap = dict(settings.keymap)
        self.set_keymap(self._user_keymap)
        # An unknown name (a typo in the config file) keeps the default colours.
        if settings.theme in self.available_themes:
            self.theme = settings.theme

    def use_theme(self, name: str) -> None:
        """Switch the colours now and keep the choice in the config file."""
        from cc_tui.config import remember_setting

        self.theme = name
        path = self.settings.config_file if self.settings else None
        if path is None:
            return
        try:
            remember_setting(path, "theme", name)
        except CcError as exc:
            self.notify(str(exc), title="Theme not saved", severity="warning", timeout=6)
            return
        self.notify(f"Theme {THEME_LABELS.get(name, name)}, saved in {path}", timeout=4)

    # -- keys ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # Keys from the terminal go on in order, each after the one before was handled
        # (console/key_order.py): a key never lands in a field the agent did not see focused.
        if isinstance(event, events.Key) and not event.is_forwarded:
            if not self.key_order.admit(event) or not self._screen_stack:
                return  # held for its turn; or the console is closing
            await super().on_event(event)
            self.key_order.handed_on(event)
            return
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)
        self.key_order.reached_app(event)
        event.prevent_default()  # App._on_key has run (above): not a second time

    def key_display(self, binding_id: str, default_key: str) -> str:
        """How the key of a binding reads on screen, after the agent's keymap."""
        keys = self._user_keymap.get(binding_id) or default_key
        return self.get_key_display(Binding(keys.split(",")[0].strip(), ""))

    def get_key_display(self, binding: Binding) -> str:
        display = super().get_key_display(binding)
        # Function keys read as on the keyboard: F2, not f2.
        return display.upper() if display[:1] == "f" and display[1:].isdigit() else display

    async def action_switch_mode(self, mode: str) -> None:
        """A mode key. From another mode the intake key shows Intake (the call in
        progress, or the last call) and records nothing; pressed on Intake it takes a
        call: the contact starts then (the tabs and the command palette only show)."""
        looking = self.current_mode != mode
        await self.switch_mode(mode)
        take_call = getattr(self.screen, "take_call", None)
        if mode == "intake" and callable(take_call) and not looking:
            take_call()
        if mode == "incident":
            # The incident key always shows the list, not the last incident opened.
            from cc_tui.screens.incident_detail import IncidentDetailScreen

            while isinstance(self.screen, IncidentDetailScreen) and len(self.screen_stack) > 1:
                await self.pop_screen()

    def action_show_keys(self) -> None:
        """The current screen's own keys grouped by task, then the keys of every screen."""
        from cc_tui.dialogs.keys import KeysDialog

        screen = self.screen
        key_groups = getattr(screen, "key_groups", None)
        if not callable(key_groups):
            return  # a dialog or the start-up screen: their keys are on show already
        mode = next((m for m in CONSOLE_MODES if m.name == getattr(screen, "MODE", None)), None)
        everywhere = [(self.key_display(m.binding_id, m.key), m.label) for m in CONSOLE_MODES]
        everywhere += [
            (self.key_display("app.call_log", "f8"), "Call log (today's calls)"),
            (
                self.key_display("app.mail_quarantine", "f10"),
                "Mail quarantine (messages that could not be filed)",
            ),
            (self.key_display("app.command_palette", "ctrl+p"), "Commands (search every action)"),
            (self.key_display("app.keys", "question_mark"), "These keys"),
            (self.key_display("app.help", "f1"), "Every key, text fields included"),
            (self.key_display("app.quit", "ctrl+q"), "Quit"),
        ]
        title = mode.label if mode is not None else "this screen"
        self.push_screen(KeysDialog(title, [*key_groups(), ("Everywhere", everywhere)]))

    def action_call_log(self) -> None:
        """The caller log over the current screen (F8, or "Call log" in the palette)."""
        from cc_tui.screens.call_log import CallLogScreen

        self._push_over(CallLogScreen)

    def action_outbox(self) -> None:
        """Outgoing customer messages that failed or wait (F9, or "Outbox" in the palette)."""
        from cc_tui.screens.outbox import OutboxScreen

        self._push_over(OutboxScreen)

    def action_mail_quarantine(self) -> None:
        """Mail that could not be filed (F10, or "Mail quarantine" in the palette)."""
        from cc_tui.screens.mail_quarantine import MailQuarantineScreen

        self._push_over(MailQuarantineScreen)

    def _push_over(self, screen_type: type[Screen[Any]]) -> None:
        """Push a screen that lists from the database over the current one, once."""
        if isinstance(self.screen, screen_type):
            return
        if self.connection is None:
            self.notify("The database is not open yet.", severity="warning", timeout=4)
            return
        self.push_screen(screen_type())

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode in CONSOLE_MODES:
            yield SystemCommand(
                f"Go to {mode.label}",
                f"{mode.help} ({self.key_display(mode.binding_id, mode.key)})",
                lambda name=mode.name: self.switch_mode(name),
            )
        yield SystemCommand(
            "Call log",
            "Today's calls, by agent or number; missed ones to call back "
            f"({self.key_display('app.call_log', 'f8')})",
            self.action_call_log,
        )
        yield SystemCommand(
            "Outbox",
            "Customer e-mail and SMS that failed (with the error) or wait; try again "
            f"({self.key_display('app.outbox', 'f9')})",
            self.action_outbox,
        )
        yield SystemCommand(
            "Mail quarantine",
            "E-mails that could not be filed, with the reason; file one again "
            f"({self.key_display('app.mail_quarantine', 'f10')})",
            self.action_mail_quarantine,
        )
        yield from self._binding_commands(screen)
        for theme in THEMES:
            if theme.name != self.theme:
                label = THEME_LABELS[theme.name]
                yield SystemCommand(
                    f"Theme: {label}",
                    f"Console colours: {label} (kept in the config file)",
                    lambda name=theme.name: self.use_theme(name),
                )
        yield from super().get_system_commands(screen)

    def _binding_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action the screen offers now (its keys, the focused widget's, the app's),
        with its key: the palette finds an action without knowing where its key is."""
        seen: set[tuple[str, str]] = set()
        modes = {mode.binding_id for mode in CONSOLE_MODES}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.id in modes:
                continue
            if binding.action in {"command_palette", "app.command_palette"}:
                continue
            name = binding.description
            where = "" if active.node is self else f" · {type(active.node).__name__}"
            if (name, binding.action) in seen:
                continue
            seen.add((name, binding.action))
            display = self.get_key_display(Binding(key, ""))
            yield SystemCommand(
                name,
                f"Key {display}{where}" + (f" — {binding.tooltip}" if binding.tooltip else ""),
                lambda action=binding.action, node=active.node: self.run_action(action, node),
            )

    # -- the database ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        # The first frame is the console's frame (who, which database, the modes, the
        # keys); the start mode's screen, a form of a hundred widgets, follows at once.
        from cc_tui.screens.startup import StartingScreen

        return StartingScreen(self.start_mode)

    async def on_ready(self) -> None:
        # After the first frame: the database layer's imports would only delay it. The
        # start screen is built first: a thread importing SQLAlchemy meanwhile would hold
        # the interpreter lock for half the time and show the form later.
        await self.switch_mode(self.start_mode)
        self.open_database()
        self.call_after_refresh(self.post_message, StartScreenShown())

    @work(thread=True, exclusive=True, group="database", exit_on_error=False)
    def open_database(self) -> None:
        """Read the settings if not given, open the database (migrating the embedded one),
        sign the agent in."""
        try:
            settings = self.settings
            if settings is None:
                assert self._settings_loader is not None
                settings = self._settings_loader()
                self.call_from_thread(self._use_settings, settings)
            # Deferred imports: SQLAlchemy and the services load here, off the first paint.
            from cc_tui.config import default_database_url
            from cc_tui.db.engine import Database
            from cc_tui.services.context import sign_in
            from cc_tui.services.setup import prepare_database

            url = settings.effective_database_url
            if settings.database_url is None:
                # The embedded database's folder is ours to create on first start.
                _make_data_folder(default_database_url())
            db = Database(url)
            prepare_database(db, settings.login)
            with db.session(write=False) as session:
                actor = sign_in(session, settings.agent, settings.login)
        except CcError as error:
            self.post_message(DatabaseFailed(error))
            return
        except Exception as error:  # an unexpected failure still reads as one line
            self.log.error("opening the database failed", error)
            message = f"cannot open the database: {type(error).__name__}: {error}"
            self.post_message(DatabaseFailed(Unavailable(message)))
            return
        self.post_message(DatabaseReady(Connection(db=db, actor=actor, settings=settings)))

    def on_database_ready(self, message: DatabaseReady) -> None:
        self.connection = message.connection
        self.startup_error = None
        self.connection_signal.publish(message.connection)
        from cc_tui.console.call_pop import CallPops

        self.call_pops = CallPops(self, message.connection)
        self.follow_changes(message.connection)
        if message.connection.settings.escalation_watch:
            self.watch_escalations(message.connection)
        if self._home:
            self._home = False
            # An agent's home is "My work"; supervisors and admins start on intake.
            if message.connection.actor.role == "agent" and self.current_mode == "intake":
                self.switch_mode("queues")

    def on_database_failed(self, message: DatabaseFailed) -> None:
        from cc_tui.screens.startup import StartupErrorScreen

        self.startup_error = message.error
        self.connection_signal.publish(None)
        self.push_screen(StartupErrorScreen(message.error), self._after_startup_error)

    def _after_startup_error(self, choice: str | None) -> None:
        if choice == "retry":
            self.startup_error = None
            self.connection_signal.publish(None)
            self.open_database()
        else:
            self.exit()

    # -- the database's health ------------------------------------------------------------

    def database_unreachable(self) -> None:
        """A call or the change feed found the database down: say so until it answers."""
        if self.offline_since is None:
            self.offline_since = clock.now()
            self.health_signal.publish(self.offline_since)

    def database_answered(self) -> None:
        if self.offline_since is not None:
            self.offline_since = None
            self.health_signal.publish(None)

    def offline_text(self) -> str | None:
        """`offline since HH:MM, retrying` while the database does not answer."""
        if self.offline_since is None:
            return None
        zone = self.settings.display_zone if self.settings is not None else None
        return f"offline since {self.offline_since.astimezone(zone):%H:%M}, retrying"

    def _health_from_thread(self, answered: bool) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(self.database_answered if answered else self.database_unreachable)

    # -- the change feed -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="change-feed", exit_on_error=False)
    def follow_changes(self, connection: Connection) -> None:
        """Post `ChangesArrived` whenever anyone commits a change, until the app closes."""
        from cc_tui.db.changes import ChangeListener

        worker = get_current_worker()
        stop = worker.cancelled_event
        db = connection.db
        poll_seconds = connection.settings.poll_seconds
        listener: ChangeListener | None = None
        interrupted = False
        try:
            while not worker.is_cancelled:
                try:
                    if listener is None:
                        listener = ChangeListener(db, poll_seconds=poll_seconds)
                    # SQLite: one indexed read now, then sleep below (wakes on cancel).
                    changes = listener.wait(timeout=0 if db.is_sqlite else LISTEN_SLICE_SECONDS)
                except Exception as error:  # the feed must outlive a bad moment of the server
                    if not interrupted:
                        self._notify_from_feed(
                            f"Live updates paused: {error_message(error)}", "warning"
                        )
                        self._health_from_thread(answered=False)
                    interrupted = True
                    stop.wait(FEED_RETRY_SECONDS)
                    continue
                if interrupted or self.offline_since is not None:
                    if interrupted:
                        self._notify_from_feed("Live updates resumed.", "information")
                    interrupted = False
                    self._health_from_thread(answered=True)
                if changes and not worker.is_cancelled:
                    self.post_message(ChangesArrived(ChangeBatch(tuple(changes))))
                if db.is_sqlite:
                    stop.wait(poll_seconds)
        finally:
            if listener is not None:
                listener.close()

    def _notify_from_feed(self, text: str, severity: str) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(self.notify, text, severity=severity, markup=False)

    def on_changes_arrived(self, message: ChangesArrived) -> None:
        self.changes_signal.publish(message.batch)
        if self.escalation_watch is not None:
            self.escalation_watch.notice(message.batch)
        if self.call_pops is not None:
            self.call_pops.notice(message.batch)

    # -- escalation ------------------------------------------------------------------------

    def watch_escalations(self, connection: Connection) -> None:
        """A sweep every minute in a thread worker; this agent's alerts as toasts."""
        from cc_tui.console.escalation_watch import EscalationWatch

        self.escalation_watch = EscalationWatch(self, connection)
        self.run_worker(
            self.escalation_watch.run,
            name="escalation sweep",
            group="escalation",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def on_alerts_arrived(self, message: AlertsArrived) -> None:
        if self.escalation_watch is not None:
            self.escalation_watch.show(message.alerts)

    def on_open_incident(self, message: OpenIncident) -> None:
        """Any screen posts `OpenIncident` to show an incident in the Incident mode."""
        from cc_tui.screens.incident_detail import show_incident

        show_incident(self, message.incident_id)

    def on_open_knowledge_base(self, message: OpenKnowledgeBase) -> None:
        """Any screen posts `OpenKnowledgeBase` (intake: with its incident) to search."""
        from cc_tui.screens.kb import show_knowledge_base

        show_knowledge_base(self, message.context)

    def on_unmount(self) -> None:
        self.key_order.close()
        if self.connection is not None:
            self.connection.db.dispose()


def _make_data_folder(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = Path(url[len(prefix) :])
        try:
            # One person's data: the folder is the OS user's alone (0700).
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise Unavailable(f"cannot create the folder {path.parent}: {error}") from error
