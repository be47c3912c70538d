"""The command line under hostile and unlucky input, in-process, on both databases.

A generated table: every command template below is run with values of `VALUES` in the
`{v}` slot (hostile text, invalid UTF-8, huge and negative numbers, impossible dates
and zones, over-long text). Whatever the value: no traceback, an exit code of 0-5, and no
control character on stdout or stderr (tab and newline aside).
"""

from __future__ import annotations

import pytest

from cc_tui.untrusted import CONTROL
from tests import factories

VALUES = [
    "\x1b[31mRED\x1b[0m \x1b]0;pwned\x07",
    "\x1b]52;c;cHduZWQ=\x07",
    "a\x9b2Jb",
    "nul\x00byte",
    "bad\udcffname",  # what Python makes of an argument that is not UTF-8
    "[@click=app.quit]x[/]",
    "",
    " ",
    "x" * 5000,
    "-1",
    "0",
    "2147483648",
    "99999999999999999999",
    "-99999999999999999999",
    "9223372036854775807m",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00",
    "0001-01-01T00:00+14:00",
    "2026-02-30",
    "2026-12-20",  # and some that are fine, so the commands also go all the way
    "2026-12-20T10:00:00Z",
    "7",
    "2026-13-45T25:61+99:00",
    "Mars/Olympus_Mons",
    "../../../etc/passwd",
    "'; DROP TABLE incident; --",
    "%s%n%x",
]

TEMPLATES = [
    "customer add --name {v}",
    "customer add --name Acme --phone {v}",
    "customer add --name Acme --email {v}",
    "customer add --name Acme --country {v} --city {v}",
    "customer find {v}",
    "customer show {v}",
    "customer contact-add 1 --name {v}",
    "incident open --channel phone --type action --customer {v} --title T --reason HW/DISK",
    "incident open --channel phone --type action --customer 1 --title {v} --reason HW/DISK",
    "incident open --channel web --type comment --customer 1 --description {v} --name {v}",
    "incident open --channel {v} --type {v}",
    "incident open --channel phone --type action --customer 1 --title T --reason {v}",
    "incident open --channel phone --type action --customer 1 --title T --expected-close {v}",
    "incident show {v}",
    "incident list --limit {v}",
    "incident list --before {v}",
    "incident list --customer {v}",
    "incident update 1 --expected-close {v}",
    "incident update 1 --title {v} --description {v}",
    "incident status 1 {v} --note {v}",
    "incident deadline 1 --resolve-due {v}",
    "incident deadline 1 --late {v}",
    "incident event 1 --type Note --text {v}",
    "incident event 1 --type {v} --text x --minutes {v}",
    "incident timeline {v} --limit 5",
    "incident assign 1 --to {v} --reason {v}",
    "calendar add cal1 --tz {v} --hours mon-fri",
    "calendar add cal2 --hours {v}",
    "calendar due office --start {v} --minutes 60",
    "calendar due office --start 2026-01-05T09:00Z --minutes {v}",
    "priority add PX --name X --response {v}",
    "priority add {v} --name {v} --rank 3",
    "escalate --at {v}",
    "queue list --agent {v}",
    "queue list --after {v}",
    "kb import {v}",
    "kb search {v}",
    "kb show {v}",
    "code add reason {v}",
    "unit add --serial {v} --item {v} --customer 1",
    "unit add --serial S1 --item I --customer 1 --warranty-until {v}",
    "agent add {v} --name {v}",
    "department add {v} --name {v}",
    "time add 1 --minutes {v} --note {v}",
    "timer start {v}",
    "import incidents {v}",
    "import incidents {v} --map {v} --json",
    "import incidents /etc/hostname --zone {v} --date-format {v}",
    "--db {v} incident list",
    "--as {v} incident list",
]


@pytest.fixture(scope="module")
def click_command():
    """Typer builds the command tree anew on each `invoke` (most of an in-process run's
    time); built once here, the table runs several times faster."""
    import typer.main

    from cc_tui.cli.app import app

    return typer.main.get_command(app)


@pytest.fixture
def fast_cli(cli, click_command, monkeypatch):
    monkeypatch.setattr("typer.testing._get_command", lambda _app: click_command)
    return cli


def _args(template: str, value: str) -> list[str]:
    return [value if word == "{v}" else word for word in template.split()]


def _world(cli, db, admin) -> None:
    with db.session() as session:
        factories.codes(session, admin)
        factories.normal_priority(session, admin)
        acme = factories.customer(session, "Acme", number="K-1")
    hours = "mon-fri 08:00-17:00"
    added = cli("calendar", "add", "office", "--tz", "Europe/Berlin", "--hours", hours)
    assert added.exit_code == 0, added.output
    opened = cli(
        "incident", "open", "--channel", "phone", "--type", "action", "--customer",
        str(acme.id), "--title", "Disk full", "--reason", "HW/DISK",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output


def _harmless(text: str) -> bool:
    return CONTROL.search(text.replace("\n", "").replace("\t", "")) is None


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_input_breaks_a_command(fast_cli, db, admin, template: str) -> None:
    cli = fast_cli
    _world(cli, db, admin)
    # Every other value, a different half for neighbouring templates (CI time); the escape
    # sequence and the undecodable bytes go to every template.
    index = TEMPLATES.index(template)
    values = [v for i, v in enumerate(VALUES) if i < 5 or (i + index) % 2 == 0]
    for value in values:
        args = _args(template, value)
        result = cli(*args)  # a global option given again: the last one wins
        shown = f"{template!r} with {value[:60]!r}"
        error = result.exception
        assert error is None or isinstance(error, SystemExit), f"{shown}: {error!r}"
        assert 0 <= result.exit_code <= 5, f"{shown}: exit {result.exit_code}"
        assert "Traceback" not in result.output, f"{shown}: {result.output}"
        assert _harmless(result.stdout), f"{shown}: {result.stdout!r}"
        assert _harmless(result.stderr), f"{shown}: {result.stderr!r}"
