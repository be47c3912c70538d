"""The command-line face: one module per noun, assembled in `cc_tui.cli.app`.

Modules here import only Typer at load time; services and the database are imported inside
the commands, so `cc-tui --help` stays fast.
"""
