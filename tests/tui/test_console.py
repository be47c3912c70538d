"""The console shell: start-up, modes, keys, identity, refusals, quitting."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from cc_tui.errors import NotFound
from cc_tui.screens.incidents import IncidentListScreen
from cc_tui.screens.intake import IntakeScreen
from cc_tui.screens.kb import KnowledgeBaseScreen
from cc_tui.screens.queues import QueuesScreen
from cc_tui.screens.startup import StartupErrorScreen
from tests.tui.conftest import SIZE, agent_row, console, signed_in, wait_until

pytestmark = pytest.mark.tui


async def refused(pilot) -> None:
    """Wait until the start-up error dialog is shown (pushed and composed)."""
    app = pilot.app
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, StartupErrorScreen) and app.screen.query("#quit"),
    )


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).visual)


async def test_starts_signed_in_with_modes_identity_and_database(db, admin):
    """Runs on SQLite and on PostgreSQL."""
    app = console(db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.current_mode == "intake"
        assert isinstance(app.screen, IntakeScreen)
        assert app.connection.actor.login == "admin"
        assert text_of(app, "#header-identity") == "admin · admin"
        kind = "SQLite" if db.is_sqlite else "PostgreSQL"
        assert text_of(app, "#header-database") == f"{kind} {db.describe()}"
        tabs = [str(tab.visual) for tab in app.screen.query("ModeTab")]
        assert tabs == [
            "F2 Intake",
            "F3 Incident",
            "F4 Queues",
            "F5 Knowledge base",
            "F6 Work orders",
            "F7 Reports",
        ]
        footer_keys = {key.description for key in app.screen.query("FooterKey")}
        assert {"Help", "Quit"} <= footer_keys


async def test_function_keys_switch_modes(sqlite_db, sqlite_admin):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        expected = {
            "f3": ("incident", IncidentListScreen),
            "f4": ("queues", QueuesScreen),
            "f5": ("kb", KnowledgeBaseScreen),
            "f2": ("intake", IntakeScreen),
        }
        for key, (mode, screen) in expected.items():
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert isinstance(app.screen, screen)
            active = app.screen.query_one("ModeTab.-active")
            assert active.id == f"tab-{mode}"


async def test_starts_in_the_requested_mode(sqlite_db, sqlite_admin):
    app = console(sqlite_db, mode="queues")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert isinstance(app.screen, QueuesScreen)


async def test_keymap_from_settings_moves_a_mode_key(sqlite_db, sqlite_admin):
    app = console(sqlite_db, keymap={"mode.queues": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert str(app.screen.query_one("#tab-queues", Static).visual) == "F9 Queues"
        await pilot.press("f4")
        await pilot.pause()
        assert app.current_mode == "intake"
        await pilot.press("f9")
        await pilot.pause()
        assert app.current_mode == "queues"


async def test_command_palette_offers_every_mode(sqlite_db, sqlite_admin):
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for label in ("Intake", "Incident", "Queues", "Knowledge base"):
            assert f"Go to {label}" in titles
        go_to_kb = next(c for c in app.get_system_commands(app.screen) if "Knowledge" in c.title)
        go_to_kb.callback()
        await pilot.pause()
        assert app.current_mode == "kb"


async def test_unknown_login_is_refused_with_the_message(sqlite_db, sqlite_admin):
    app = console(sqlite_db, login="nobody")
    async with app.run_test(size=SIZE) as pilot:
        await refused(pilot)
        assert isinstance(app.startup_error, NotFound)
        message = text_of(app, "#startup-message")
        assert "agent 'nobody' is not known to this database" in message
        assert "cc-tui agent add nobody" in message
        assert app.connection is None
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0
    assert not app.is_running


async def test_retry_after_the_admin_adds_the_agent(sqlite_db, sqlite_admin):
    app = console(sqlite_db, login="maria")
    async with app.run_test(size=SIZE) as pilot:
        await refused(pilot)
        agent_row(sqlite_db, "maria", "Maria Lopez", role="supervisor")
        await pilot.press("r")
        # Not `signed_in`: the refusal before the retry is still there until it has run.
        await wait_until(pilot, lambda: app.connection is not None)
        await signed_in(pilot)
        assert isinstance(app.screen, IntakeScreen)
        assert text_of(app, "#header-identity") == "maria · Maria Lopez · supervisor"


async def test_a_short_header_keeps_the_role_and_drops_the_name(sqlite_db, sqlite_admin):
    """At 80 columns "katrin.vogel · Katrin Vogel · superv…": the role was the part cut."""
    agent_row(sqlite_db, "katrin.vogel", "Katrin Vogel", role="supervisor")
    app = console(sqlite_db, login="katrin.vogel")
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in(pilot)
        header = "#header-identity"
        await wait_until(pilot, lambda: text_of(app, header) == "katrin.vogel · supervisor")
        await pilot.resize_terminal(120, 35)
        full = "katrin.vogel · Katrin Vogel · supervisor"
        await wait_until(pilot, lambda: text_of(app, header) == full)


async def test_unreachable_database_is_explained(tmp_path):
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    app = CcTuiApp(settings=load_settings(database_url=url, agent="admin"))
    async with app.run_test(size=SIZE) as pilot:
        await refused(pilot)
        message = text_of(app, "#startup-message")
        assert message.startswith("database 127.0.0.1/nothing unavailable:")
        assert "Traceback" not in message
        assert text_of(app, "#startup-kind") == "The database is unavailable"
        await pilot.press("q")
        await pilot.pause()
    assert app.startup_error is not None and app.startup_error.exit_code == 5


async def test_corrupt_sqlite_file_is_named(tmp_path):
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 300)
    app = CcTuiApp(settings=load_settings(database_url=f"sqlite:///{path}", agent="admin"))
    async with app.run_test(size=SIZE) as pilot:
        await refused(pilot)
        assert text_of(app, "#startup-message").startswith(
            f"{path} is not a usable SQLite database"
        )


async def test_new_embedded_database_is_created_with_its_first_admin(tmp_path):
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = CcTuiApp(settings=load_settings(database_url=url, agent="olga"))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.connection.actor.role == "admin"
        assert text_of(app, "#header-identity") == "olga · admin"


async def test_ctrl_q_quits_from_a_focused_input(sqlite_db, sqlite_admin):
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("colon")
        assert isinstance(app.focused, Input)
        await pilot.press("1", "2")
        assert app.focused.value == "12"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0
    assert not app.is_running


async def test_agent_name_with_markup_shows_literally(sqlite_db, sqlite_admin):
    agent_row(sqlite_db, "eve", "[@click=app.quit]x[/]", role="agent")
    app = console(sqlite_db, login="eve")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert text_of(app, "#header-identity") == "eve · [@click=app.quit]x[/] · agent"
        await pilot.click("#header-identity")
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_settings_can_be_read_after_the_first_paint(sqlite_db, sqlite_admin):
    """What `cc-tui` does: the settings (pydantic) load in the start-up worker."""
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    url = sqlite_db.url.render_as_string(hide_password=False)
    app = CcTuiApp(
        settings_loader=lambda: load_settings(database_url=url, agent="admin"),
        start_mode="incident",
    )
    assert app.settings is None
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.settings is not None and app.settings.login == "admin"
        assert text_of(app, "#header-identity") == "admin · Ada Admin · admin"


async def test_f1_shows_and_hides_the_keys(sqlite_db, sqlite_admin):
    app = console(sqlite_db, mode="incident")
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        await pilot.press("f1")
        assert app.screen.query("HelpPanel")
        await pilot.press("f1")
        assert not app.screen.query("HelpPanel")


async def test_default_embedded_database_is_created_in_the_data_folder(tmp_path, monkeypatch):
    from cc_tui.config import load_settings
    from cc_tui.console.app import CcTuiApp

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = CcTuiApp(settings=load_settings(agent="olga"))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert text_of(app, "#header-database") == (
            f"SQLite {tmp_path / 'data' / 'cc-tui' / 'cc-tui.sqlite3'}"
        )
    assert (tmp_path / "data" / "cc-tui" / "cc-tui.sqlite3").is_file()


def test_first_paint_loads_no_database_layer(tmp_path):
    """Measured in a fresh process through the real entry point: when Textual reports its
    first frame, neither SQLAlchemy/SQLModel nor pydantic (settings) has been imported."""
    import json
    import subprocess
    import sys

    code = """
import json, sys
import cc_tui.console.app

class Probe(cc_tui.console.app.CcTuiApp):
    def run(self, **options):
        return super().run(headless=True, **options)

    def on_ready(self):  # runs before CcTuiApp.on_ready starts the database worker
        heavy = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "pydantic", "phonenumbers")
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
        self.exit()

cc_tui.console.app.CcTuiApp = Probe
from cc_tui.cli.main import main
main()
"""
    url = f"sqlite:///{tmp_path / 'paint.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-c", code, "--db", url, "--as", "admin"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
