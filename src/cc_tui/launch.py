"""Start the Textual console from the CLI (kept apart so the CLI imports no Textual).

Opening the console is the most frequent use of `cc-tui`, and agents open it many times a
day. When the command line asks for nothing but the console (`cc-tui [--db URL] [--as LOGIN]
[--config FILE] [queues]`), `open_console_fast` starts it without Typer's parsing, which
imports pydantic and builds every sub-command (about a quarter of a second); anything else,
`--help` included, goes through Typer as usual.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cc_tui.commands.common import CliState

# The global options (see `cli.main_callback`) and the CliState field each one fills.
CONSOLE_OPTIONS = {"--db": "db_url", "--as": "login", "--config": "config_file"}
CONSOLE_COMMANDS = {"queues": "queues"}


def console_request(argv: Sequence[str]) -> tuple[dict[str, str], str] | None:
    """The global options and the mode, if `argv` only opens the console; else None."""
    options: dict[str, str] = {}
    mode = "intake"
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, equals, value = arg.partition("=")
        if name in CONSOLE_OPTIONS:
            if not equals:
                if index + 1 >= len(argv):
                    return None  # Typer says what is missing
                index += 1
                value = argv[index]
            options[CONSOLE_OPTIONS[name]] = value
        elif arg in CONSOLE_COMMANDS and index == len(argv) - 1:
            mode = CONSOLE_COMMANDS[arg]
        else:
            return None
        index += 1
    return options, mode


def open_console_fast(argv: Sequence[str]) -> bool:
    """Open the console if that is all `argv` asks for; False to let Typer handle it."""
    request = console_request(argv)
    if request is None:
        return False
    from cc_tui.commands.common import CliState
    from cc_tui.errors import CcError

    options, mode = request
    try:
        run_console(CliState(**options), mode=mode)
    except CcError as error:
        # The same line and exit code as every other command (commands.common.fail).
        sys.stderr.write(f"cc-tui: {error.message}\n")
        raise SystemExit(int(error.exit_code)) from None
    return True


def run_console(state: CliState, *, mode: str) -> None:
    from cc_tui.app import CcTuiApp

    # The settings are read in the app's start-up worker, after the first frame.
    app = CcTuiApp(settings_loader=lambda: state.settings, start_mode=mode)
    app.run()
    if app.startup_error is not None:
        # Quit from the start-up error: the shell also gets the one line and the exit code.
        raise app.startup_error
