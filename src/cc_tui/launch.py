"""Start the Textual console from the CLI (kept apart so the CLI imports no Textual)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cc_tui.commands.common import CliState


def run_console(state: CliState, *, mode: str) -> None:
    from cc_tui.app import CcTuiApp

    app = CcTuiApp(settings=state.settings, start_mode=mode)
    app.run()
    if app.startup_error is not None:
        # Quit from the start-up error: the shell also gets the one line and the exit code.
        raise app.startup_error
