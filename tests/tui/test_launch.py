"""The `cc-tui` entry point: the console without the CLI's cost, everything else via Typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cc_tui.cli.main import console_request


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ({}, "intake")),
        (["queues"], ({}, "queues")),
        (
            ["--db", "sqlite:///x.db", "--as", "maria", "queues"],
            ({"database_url": "sqlite:///x.db", "agent": "maria"}, "queues"),
        ),
        (["--db=postgresql://h/d"], ({"database_url": "postgresql://h/d"}, "intake")),
        (["--config", "c.toml"], ({"config_file": "c.toml"}, "intake")),
        (["--as", "a", "--as", "b"], ({"agent": "b"}, "intake")),  # the last one wins
    ],
)
def test_console_invocations_take_the_fast_path(argv, expected):
    assert console_request(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h"],
        ["incident", "list"],
        ["queues", "--help"],
        ["queues", "--db", "x"],  # global options go before the command: Typer says so
        ["--db"],  # missing value: Typer says so
        ["--bogus"],
        ["demo"],
    ],
)
def test_everything_else_goes_to_typer(argv):
    assert console_request(argv) is None


def run_entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from cc_tui.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )


def test_entry_point_imports_neither_the_cli_nor_textual_up_front():
    code = (
        "import sys, cc_tui.cli.main; "
        "print(sorted(m for m in ('typer', 'textual', 'pydantic', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_missing_config_file_is_one_line_and_exit_2(tmp_path):
    result = run_entry_point("--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert result.stderr == f"cc-tui: config file not found: {tmp_path / 'nope.toml'}\n"


def test_help_still_comes_from_typer():
    result = run_entry_point("--help")
    assert result.returncode == 0
    assert "Usage: " in result.stdout and "incident" in result.stdout
