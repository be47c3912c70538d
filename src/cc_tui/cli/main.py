"""The `cc-tui` entry point: the console straight away when that is all the command line asks
for, else the Typer app (`cli.app`); the console itself is started by `cli.start_console`.

Opening the console is the most frequent use of `cc-tui`, and agents open it many times a
day. When the command line asks for nothing but the console (`cc-tui [--db URL] [--as LOGIN]
[--config FILE] [queues]`), `open_console_fast` starts it without importing the CLI: Typer,
its parsing (which imports pydantic and builds every sub-command) and the settings cost
about as much as Textual's first frame. Anything else, `--help` included, goes to Typer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cc_tui.config import Settings

# The global options (see `cli.app.main_callback`) and the settings each one fills.
CONSOLE_OPTIONS = {"--db": "database_url", "--as": "agent", "--config": "config_file"}
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


def main() -> None:
    """`cc-tui`: the console straight away, or the command line for everything else."""
    if not open_console_fast(sys.argv[1:]):
        from cc_tui.cli.app import app

        app()


def open_console_fast(argv: Sequence[str]) -> bool:
    """Open the console if that is all `argv` asks for; False to let Typer handle it."""
    request = console_request(argv)
    if request is None:
        return False
    from cc_tui.cli.start_console import start_console
    from cc_tui.errors import CcError, UsageError

    options, mode = request
    config_file = options.get("config_file")
    if config_file is not None and not Path(config_file).exists():
        # Checked here, so a mistyped path is one line in the shell, not a dialog.
        error: CcError = UsageError(f"config file not found: {config_file}")
        sys.stderr.write(f"cc-tui: {error.message}\n")
        raise SystemExit(int(error.exit_code))

    def settings() -> Settings:
        from cc_tui.config import load_settings

        given = dict(options)  # called again if the agent retries after an error
        config_file = given.pop("config_file", None)
        return load_settings(config_file, **given)

    try:
        start_console(settings, mode=mode)
    except CcError as error:
        # The same line and exit code as every other command (commands.common.fail).
        sys.stderr.write(f"cc-tui: {error.message}\n")
        raise SystemExit(int(error.exit_code)) from None
    return True
