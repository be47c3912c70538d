"""`cc-tui config show`."""

from __future__ import annotations

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state

app = typer.Typer(help="Settings: what is in effect and where it came from.", no_args_is_help=True)


@app.command()
@command
def show(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Print the effective settings (passwords masked)."""
    from cc_tui.config import mask_url

    settings = state(ctx).settings
    data = settings.model_dump(exclude={"config_file", "database_url"})
    data = {
        "database_url": mask_url(settings.effective_database_url),
        "agent": settings.login,
        **{k: v for k, v in data.items() if k != "agent"},
        "config_file": str(settings.config_file) if settings.config_file else None,
    }
    emit(data, as_json=as_json, human=lambda d: "\n".join(f"{k} = {v}" for k, v in d.items()))
