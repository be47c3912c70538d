"""The Textual console's glue: the app, its modes, messages, service calls in workers and the
escalation watch. Screens, widgets and dialogs live beside it.
"""
