"""Incident handling (M1, M7, M8, M9): intake, the lifecycle (the one owner of an incident's
status), edits, the timeline and time tracking.
"""
