"""Reusable pieces of the console (header, mode tabs, pickers, badges)."""
