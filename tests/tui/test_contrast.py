"""Every escalation colour is readable: WCAG contrast ratios computed from the themes."""

from __future__ import annotations

import re

import pytest
from textual.color import Color, ColorParseError

from cc_tui.console.themes import (
    DEFAULT_THEME,
    HIGH_CONTRAST_THEME,
    MINIMUM_CONTRAST,
    PLAIN_BACKGROUNDS,
    STATUS_COLOURS,
    THEMES,
    TINTED_BACKGROUNDS,
)
from cc_tui.widgets.escalation_badge import STYLE, EscalationBadge

pytestmark = pytest.mark.tui


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.r) + 0.7152 * channel(colour.g) + 0.0722 * channel(colour.b)


def contrast(a: Color, b: Color) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def badge_tints() -> dict[str, float]:
    """The badge widget's background per colour, as its CSS says (`$error 15%`)."""
    found = re.findall(r"background: \$(\w[\w-]*) (\d+)%", EscalationBadge.DEFAULT_CSS)
    return {name: int(percent) / 100 for name, percent in found}


def variables(theme) -> dict[str, Color]:
    generated = theme.to_color_system().generate()
    colours = {}
    for name, value in generated.items():
        try:
            colours[name] = Color.parse(value)
        except ColorParseError:  # not a colour (a text style, `auto 60%`)
            continue
    return colours


def test_the_contrast_formula():
    black, white = Color.parse("#000000"), Color.parse("#FFFFFF")
    assert contrast(black, white) == pytest.approx(21.0)
    assert contrast(Color.parse("#777777"), white) == pytest.approx(4.48, abs=0.01)


def test_the_badge_uses_the_checked_colours():
    assert {style.removeprefix("bold ").removeprefix("$") for style in STYLE.values()} <= set(
        STATUS_COLOURS
    )
    assert set(badge_tints()) <= set(STATUS_COLOURS)


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_every_state_colour_reads_on_every_background(theme):
    colours = variables(theme)
    least = MINIMUM_CONTRAST[theme.name]
    tints = badge_tints()
    weak = []
    for name in STATUS_COLOURS:
        text = colours[name]
        backgrounds = {bg: colours[bg] for bg in PLAIN_BACKGROUNDS}
        if name in tints:
            for bg in TINTED_BACKGROUNDS:
                backgrounds[f"{bg} + {name} {tints[name]:.0%}"] = colours[bg].blend(
                    text, tints[name]
                )
        for where, background in backgrounds.items():
            ratio = contrast(text, background)
            if ratio < least:
                weak.append(f"{name} {text.hex} on {where} {background.hex}: {ratio:.2f}:1")
    assert not weak, f"below {least}:1 in {theme.name}:\n" + "\n".join(weak)


def test_textuals_own_red_was_too_faint():
    """The reason the console has a theme of its own: the finding this test keeps fixed."""
    from textual.theme import BUILTIN_THEMES

    dark = variables(BUILTIN_THEMES["textual-dark"])
    tinted = dark["background"].blend(dark["error"], 0.25)
    assert contrast(dark["error"], tinted) < 3.0
    assert {DEFAULT_THEME, HIGH_CONTRAST_THEME} == {t.name for t in THEMES}
