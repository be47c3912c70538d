"""The console's screens, one module per main area (see `cc_tui.console.modes`)."""
