"""Opening the Textual console from the command line: the one place the command line
reaches the console (imported only once the console is what was asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from cc_tui.cli.common import CliState
    from cc_tui.config import Settings


def run_console(state: CliState, *, mode: str) -> None:
    """The console for the Typer path (`cc-tui --db URL queues` and the like)."""
    start_console(lambda: state.settings, mode=mode)


def start_console(settings: Callable[[], Settings], *, mode: str) -> None:
    from cc_tui.console.app import CcTuiApp

    # The settings are read in the app's start-up worker, after the first frame.
    app = CcTuiApp(settings_loader=settings, start_mode=mode, home=mode == "intake")
    app.run()
    if app.startup_error is not None:
        # Quit from the start-up error: the shell also gets the one line and the exit code.
        raise app.startup_error
