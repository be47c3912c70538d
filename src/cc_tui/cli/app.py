"""The `cc-tui` command: with no command it opens the agent console."""

from __future__ import annotations

import typer

from cc_tui.cli.commands import (
    agent,
    calendar,
    code,
    config,
    contract,
    cti,
    customer,
    db,
    demo,
    department,
    escalate,
    event_type,
    importing,
    incident,
    kb,
    mail,
    mailbox,
    notify,
    priority,
    queue,
    report,
    rule,
    time,
    timer,
    unit,
    wo,
)
from cc_tui.cli.common import CliState, command

app = typer.Typer(
    name="cc-tui",
    help="Call-center console: intake, incidents, queues, escalation, knowledge base.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(config.app, name="config")
app.add_typer(notify.app, name="notify")
app.add_typer(incident.app, name="incident")
app.add_typer(customer.app, name="customer")
app.add_typer(unit.app, name="unit")
app.add_typer(contract.app, name="contract")
app.add_typer(code.app, name="code")
app.add_typer(priority.app, name="priority")
app.add_typer(agent.app, name="agent")
app.add_typer(department.app, name="department")
app.add_typer(demo.app, name="demo")
app.add_typer(event_type.app, name="event-type")
app.add_typer(timer.app, name="timer")
app.add_typer(time.app, name="time")
app.add_typer(calendar.app, name="calendar")
app.add_typer(escalate.app, name="escalate")
app.add_typer(kb.app, name="kb")
app.add_typer(rule.app, name="rule")
app.add_typer(queue.app, name="queue")
app.add_typer(wo.app, name="wo")
app.add_typer(report.app, name="report")
app.add_typer(mail.app, name="mail")
app.add_typer(cti.app, name="cti")
app.add_typer(mailbox.app, name="mailbox")
app.add_typer(importing.app, name="import")


@app.callback()
@command
def main_callback(
    ctx: typer.Context,
    db_url: str | None = typer.Option(
        None, "--db", help="Database URL (sqlite:///PATH or postgresql+psycopg://...)."
    ),
    login: str | None = typer.Option(None, "--as", help="Agent login (default: OS login)."),
    config_file: str | None = typer.Option(None, "--config", help="Settings file (TOML)."),
) -> None:
    ctx.obj = CliState(db_url=db_url, login=login, config_file=config_file)
    # The command's connections are closed when it ends (also when run in-process, as tests
    # and scripts do: no pool is left holding server connections).
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        from cc_tui.cli.start_console import run_console

        run_console(ctx.obj, mode="intake")


@app.command()
@command
def queues(ctx: typer.Context) -> None:
    """Open the console on the supervisor board (assignment queues)."""
    from cc_tui.cli.start_console import run_console

    run_console(ctx.obj, mode="queues")
