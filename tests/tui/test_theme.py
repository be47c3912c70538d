"""The high-contrast theme: chosen in the config file, or from the command palette (which
keeps the choice in the config file)."""

from __future__ import annotations

import tomllib

import pytest

from cc_tui.config import load_settings, remember_setting
from cc_tui.console.app import CcTuiApp
from cc_tui.errors import UsageError
from tests.tui.conftest import SIZE, signed_in, wait_until

pytestmark = pytest.mark.tui


def test_remember_setting_keeps_the_rest_of_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# mine\nagent = "maria"\n\n[keymap]\n"app.quit" = "ctrl+x"\n')
    remember_setting(path, "theme", "cc-tui-high-contrast")
    data = tomllib.loads(path.read_text())
    assert data == {
        "agent": "maria",
        "theme": "cc-tui-high-contrast",
        "keymap": {"app.quit": "ctrl+x"},
    }
    assert path.read_text().startswith("# mine\n")
    remember_setting(path, "theme", "cc-tui")
    assert tomllib.loads(path.read_text())["theme"] == "cc-tui"
    assert path.read_text().count("theme =") == 1
    broken = tmp_path / "broken.toml"
    broken.write_text("agent = \n")
    with pytest.raises(UsageError, match="cannot update"):
        remember_setting(broken, "theme", "cc-tui")
    assert broken.read_text() == "agent = \n"  # left as it was


async def test_the_config_file_chooses_the_theme(sqlite_db, sqlite_admin, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "cc-tui-high-contrast"\n')
    url = sqlite_db.url.render_as_string(hide_password=False)
    app = CcTuiApp(settings=load_settings(path, database_url=url, agent="admin"))
    async with app.run_test(size=SIZE):
        assert app.theme == "cc-tui-high-contrast"
        assert app.theme_variables["background"].upper() == "#000000"


async def test_the_palette_switches_to_high_contrast_and_keeps_it(
    sqlite_db, sqlite_admin, tmp_path, monkeypatch
):
    path = tmp_path / "new" / "config.toml"  # no config file yet: it is made
    monkeypatch.setenv("CC_TUI_CONFIG_FILE", str(path))
    url = sqlite_db.url.render_as_string(hide_password=False)
    app = CcTuiApp(settings=load_settings(database_url=url, agent="admin"))
    async with app.run_test(size=SIZE) as pilot:
        await signed_in(pilot)
        assert app.theme == "cc-tui"
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen.query("CommandInput"))
        await pilot.press(*"Theme: high")
        from textual.command import CommandList

        def first() -> str:
            found = app.screen.query(CommandList)
            if not found or not found.first().option_count:
                return ""
            return str(found.first().get_option_at_index(0).prompt)

        await wait_until(pilot, lambda: "Theme: high contrast" in first())
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.theme == "cc-tui-high-contrast")
    assert tomllib.loads(path.read_text())["theme"] == "cc-tui-high-contrast"
    # The next start reads it back.
    again = load_settings(database_url=url, agent="admin")
    assert again.theme == "cc-tui-high-contrast"
