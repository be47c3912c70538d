"""The console's colour themes: the default one and a high-contrast one.

Escalation states, badges and overdue times are drawn in the theme's `success`, `accent`,
`warning` and `error` colours on the screen's backgrounds. The default theme is Textual's
dark theme with an error colour light enough to read (Textual's own red reaches about
2.8:1 on a tinted badge); the high-contrast theme is black and white with saturated state
colours, for bright rooms, projectors and weaker eyes. `tests/tui/test_contrast.py`
computes the WCAG contrast of every state colour on every one of those backgrounds.
"""

from __future__ import annotations

from textual.theme import Theme

DEFAULT_THEME = "cc-tui"
HIGH_CONTRAST_THEME = "cc-tui-high-contrast"

CC_TUI = Theme(
    name=DEFAULT_THEME,
    primary="#0178D4",
    secondary="#004578",
    accent="#FFA62B",
    warning="#FFA62B",
    error="#FF7A93",
    success="#4EBF71",
    foreground="#E0E0E0",
    dark=True,
)

HIGH_CONTRAST = Theme(
    name=HIGH_CONTRAST_THEME,
    primary="#5CB8FF",
    secondary="#A0D2FF",
    accent="#00E5FF",
    warning="#FFD600",
    error="#FF8A9E",
    success="#5CF08A",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    dark=True,
    variables={
        "text-muted": "#D0D0D0",
        "block-cursor-background": "#FFFFFF",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "footer-key-foreground": "#FFD600",
        "border": "#FFFFFF",
    },
)

THEMES = (CC_TUI, HIGH_CONTRAST)
# What the palette calls them.
THEME_LABELS = {DEFAULT_THEME: "default", HIGH_CONTRAST_THEME: "high contrast"}

# The state colours, and the backgrounds they are drawn on: a screen (`background`), a
# table or the incident summary (`surface`), the board's strip (`panel`); the badge
# widget's own tint of its colour (`EscalationBadge.DEFAULT_CSS`) over the first two.
STATUS_COLOURS = ("success", "accent", "warning", "error")
PLAIN_BACKGROUNDS = ("background", "surface", "panel")
TINTED_BACKGROUNDS = ("background", "surface")
# The least contrast each theme promises (WCAG AA for normal text; AAA for high contrast).
MINIMUM_CONTRAST = {DEFAULT_THEME: 4.5, HIGH_CONTRAST_THEME: 7.0}
