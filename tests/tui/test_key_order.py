"""Keys typed faster than the console answers go where the agent saw the cursor.

A terminal delivers a burst of keys at once (a fast typist, a paste of keystrokes, a slow
machine). Each test posts a burst the way the terminal driver does, without waiting between
keys, and checks that every key landed in the field that had the focus when it was typed.
"""

from __future__ import annotations

import pytest
from textual import events

from tests.tui.conftest import SIZE, console, settled, wait_until
from tests.tui.test_incident_screen import make_app, open_detail, world  # noqa: F401
from tests.tui.test_intake_screen import desk, pick_caller, take_call  # noqa: F401

pytestmark = pytest.mark.tui

NAMES = {" ": "space", "/": "slash", "-": "minus", ".": "full_stop", ",": "comma"}


def burst(app, *keys: str) -> None:
    """Post `keys` as the driver would: all at once, nothing waited for in between."""
    for key in keys:
        if len(key) == 1:
            name = NAMES.get(key, key)
            app.post_message(events.Key(name, key))
        else:
            app.post_message(events.Key(key, None))


async def test_text_typed_right_after_tab_goes_to_the_next_field(sqlite_db, desk):  # noqa: F811
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        assert app.focused.id == "title"
        burst(app, *"Jams", "tab", *"every page")
        await settled(pilot)
        assert intake.text_of("title") == "Jams"
        assert intake.text_of("description") == "every page"


async def test_code_taken_with_tab_then_text_goes_on(sqlite_db, desk):  # noqa: F811
    app = console(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        intake = await take_call(pilot)
        await pick_caller(pilot, "müller", name="Müller GmbH")
        intake.picker("reason-general").focus()
        burst(app, *"HW/PR", "tab", *"FAU", "tab")
        await settled(pilot)
        assert (intake.text_of("reason-general"), intake.text_of("reason-specific")) == (
            "HW",
            "PRINT",
        )
        assert intake.text_of("request-kind") == "FAULT"


async def test_keys_after_a_drop_down_closes_go_to_the_next_field(world):  # noqa: F811
    """The event dialog opens on its type (enter there never adds a line to the text);
    keys typed right after the type's list closes land in the text, then the duration."""
    from sqlmodel import select
    from textual.widgets import Input, Select, TextArea

    from cc_tui.models import Event

    app = make_app(world["url"])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, world["id"])
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen.query("#text"))
        dialog = app.screen
        await settled(pilot)
        assert app.focused is dialog.query_one("#type", Select)
        burst(app, "enter", "down", "enter", "tab", *"check rollers", "tab", "5")
        await settled(pilot)
        assert dialog.query_one("#text", TextArea).text == "check rollers"
        assert dialog.query_one("#minutes", Input).value == "5"
        chosen = dialog.query_one("#type", Select).value
        burst(app, "ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
    with world["db"].session(write=False) as session:
        event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert (event.text, event.duration_minutes) == ("check rollers", 5)
    assert event.event_type_id is not None and chosen
