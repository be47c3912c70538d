"""Bringing data over from other systems (`cc-tui import ...`)."""
