"""Notifications (M13): the outbox, its templates and the sender."""
