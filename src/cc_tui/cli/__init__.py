"""The command line: the `cc-tui` entry point (`main`), the Typer app and one module per noun."""
