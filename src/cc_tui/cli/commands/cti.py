"""`cc-tui cti ...`: the telephone bridge, the call log, test calls."""

from __future__ import annotations

import contextlib

import typer

from cc_tui.cli.common import JSON_OPTION, command, emit, state, table

app = typer.Typer(help="Telephony: the webhook bridge, the call log, test calls.")


def _calls_text(rows) -> str:
    if not rows:
        return "no calls"
    return table(
        [
            [
                r["rang_at"],
                r["from"],
                r["state"],
                r["agent"],
                r["customer"]["name"] if r["customer"] else "",
                r["incident"],
            ]
            for r in rows
        ],
        ["rang at", "from", "state", "agent", "customer", "incident"],
    )


def _bridge_work(st):
    """The bridges' transactions: signed in once a minute, not once per event."""
    from cc_tui.services.context import sign_in
    from cc_tui.services.cti.webhook import signed_in_work

    settings = st.settings
    return signed_in_work(
        lambda: st.database().session(),
        lambda session: sign_in(session, settings.agent, settings.login),
    )


@app.command()
@command
def calls(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="ISO 8601 time (without an offset: display-zone time)."
    ),
    agent: str | None = typer.Option(
        None, "--agent", help="Only calls this agent took (or that rang for them, unanswered)."
    ),
    missed: bool = typer.Option(False, "--missed", help="Only calls that ended unanswered."),
    number: str | None = typer.Option(
        None, "--number", help="Only calls from or to this number (or a part of it)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The call log, newest first."""
    from cc_tui.services.cti.calls import list_calls
    from cc_tui.services.worktime.calendars import parse_instant

    st = state(ctx)
    start = parse_instant(since, default_tz=st.settings.timezone, field="since") if since else None
    with st.work(write=False) as (session, _actor):
        found = list_calls(
            session,
            since=start,
            agent=agent,
            missed=missed,
            number=number,
            default_country=st.settings.default_country,
        )
        rows = [c.contract() for c in found]
    emit(rows, as_json=as_json, human=_calls_text)


@app.command()
@command
def simulate(
    ctx: typer.Context,
    from_: str = typer.Option(..., "--from", help="The caller's number."),
    agent: str | None = typer.Option(None, "--agent", help="Ring for this agent (default: you)."),
    answer: bool = typer.Option(False, "--answer", help="Answer it as well."),
    hangup: bool = typer.Option(
        False, "--hangup", help="Hang up as well (unanswered: a missed call to call back)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """A test call, for demos and training: rings on the agent's console."""
    from cc_tui.services.cti.calls import simulate as simulate_call

    st = state(ctx)
    with st.work() as (session, actor):
        call = simulate_call(
            session,
            actor=actor,
            from_number=from_,
            agent=agent,
            answer=answer,
            hangup=hangup,
            default_country=st.settings.default_country,
        )
    emit(
        call.contract(),
        as_json=as_json,
        human=lambda c: f"call {c['call_id']} from {c['from']}: {c['state']}",
    )


@app.command()
@command
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8790, "--port", help="TCP port."),
    token_file: str = typer.Option(
        ..., "--token-file", help="File (mode 0600) holding the token the PBX puts in the URL."
    ),
) -> None:
    """Run the webhook bridge: POST /api/v1/cti/TOKEN (Zammad's generic CTI API)."""
    from cc_tui.cli.common import note
    from cc_tui.services.cti.webhook import CtiServer, read_token

    st = state(ctx)
    token = read_token(token_file)
    with st.work(write=False):
        pass  # the database answers and the agent signs in before anything listens
    server = CtiServer(
        (host, port),
        token=token,
        work=_bridge_work(st),
        default_country=st.settings.default_country,
        log=note,
    )
    note(f"cti: listening on http://{host}:{server.server_address[1]}/api/v1/cti/<token>")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
@command
def ami(
    ctx: typer.Context,
    host: str = typer.Option(..., "--host", help="The Asterisk server."),
    port: int = typer.Option(5038, "--port", help="Its AMI port."),
    user: str = typer.Option(..., "--user", help="The AMI user (manager.conf)."),
    secret_file: str = typer.Option(
        ..., "--secret-file", help="File (mode 0600) holding that user's secret."
    ),
) -> None:
    """Follow an Asterisk PBX over AMI: its calls go to the call log and pop on the consoles
    of the agents whose extensions ring."""
    import asyncio

    from cc_tui.cli.common import note
    from cc_tui.errors import UsageError
    from cc_tui.services.cti.ami import AmiBridge, read_secret

    if not 0 < port < 65536:
        raise UsageError("port must be 1..65535", field="port")
    st = state(ctx)
    secret = read_secret(secret_file)
    with st.work(write=False):
        pass  # the database answers and the agent signs in before the PBX is asked
    bridge = AmiBridge(
        host=host,
        port=port,
        user=user,
        secret=secret,
        work=_bridge_work(st),
        default_country=st.settings.default_country,
        log=note,
    )
    note(f"ami: connecting to {host}:{port} as {user}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(bridge.run())


@app.command()
@command
def callbacks(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Numbers whose calls ended unanswered and nobody reached since, waiting longest first
    (an agent sees the calls that rang for them or came through their department's queue)."""
    from cc_tui.services.cti.callbacks import callback_list

    st = state(ctx)
    with st.work(write=False) as (session, actor):
        rows = [c.contract() for c in callback_list(session, actor=actor)]

    def human(rows) -> str:
        if not rows:
            return "nobody to call back"
        return table(
            [
                [
                    r["number"],
                    r["customer"]["name"] if r["customer"] else "",
                    r["tries"],
                    r["first_at"],
                    r["last_at"],
                    r["queue"],
                ]
                for r in rows
            ],
            ["number", "customer", "tries", "first", "last", "queue"],
        )

    emit(rows, as_json=as_json, human=human)


@app.command("call-back")
@command
def call_back(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The number from the callback list."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Call a number of the callback list back: the call is logged and a CallOut event is
    recorded on the caller's open incident (or on a new contact)."""
    from cc_tui.services.cti.callbacks import call_back as call_back_number

    st = state(ctx)
    with st.work() as (session, actor):
        done = call_back_number(
            session, actor=actor, number=number, default_country=st.settings.default_country
        )
    emit(
        {
            "number": done.number,
            "incident": done.incident,
            "new_contact": done.new_contact is not None,
            "call": done.call.contract(),
        },
        as_json=as_json,
        human=lambda r: f"called back {r['number']}: CallOut on {r['incident']}",
    )
