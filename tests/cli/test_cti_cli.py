"""`cc-tui cti simulate` and `cc-tui cti calls`: the JSON contract."""

from __future__ import annotations

import json

from tests import factories as f

KEYS = {
    "call_id",
    "from",
    "to",
    "direction",
    "state",
    "agent",
    "customer",
    "incident",
    "rang_at",
    "answered_at",
    "ended_at",
}


def test_simulate_then_calls_json(db, admin, cli):
    with db.session() as s:
        f.customer(s, "Acme AG", phone="+49 30 1234567")
        f.agent(s, "bob")
    result = cli("agent", "update", "bob", "--extension", "201", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["extension"] == "201"

    result = cli(
        "cti", "simulate", "--from", "+49301234567", "--agent", "bob", "--answer", "--json"
    )
    assert result.exit_code == 0, result.output
    answered = json.loads(result.stdout)
    assert set(answered) == KEYS
    assert (answered["state"], answered["agent"]) == ("answered", "bob")
    assert answered["customer"]["name"] == "Acme AG"

    assert cli("cti", "simulate", "--from", "0171 999999", "--json").exit_code == 0
    rows = json.loads(cli("cti", "calls", "--json").stdout)
    assert [set(r) for r in rows] == [KEYS, KEYS]
    assert [r["from"] for r in rows] == ["0171 999999", "+49301234567"]
    assert rows[0]["customer"] is None and rows[0]["incident"] is None
    assert rows[0]["direction"] == "in" and rows[0]["answered_at"] is None

    bobs = json.loads(cli("cti", "calls", "--agent", "bob", "--json").stdout)
    assert [r["call_id"] for r in bobs] == [answered["call_id"]]
    assert json.loads(cli("cti", "calls", "--missed", "--json").stdout) == []
    future = cli("cti", "calls", "--since", "2999-01-01T00:00Z", "--json")
    assert json.loads(future.stdout) == []


def test_simulate_for_an_unknown_agent_is_refused(db, admin, cli):
    result = cli("cti", "simulate", "--from", "+49301234567", "--agent", "nobody")
    assert result.exit_code == 3
    assert cli("cti", "calls", "--since", "yesterday-ish").exit_code == 2


def test_serve_refuses_a_token_file_others_may_read(db, admin, cli, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token-0123456789")
    token.chmod(0o644)
    result = cli("cti", "serve", "--port", "0", "--token-file", str(token))
    assert result.exit_code == 2
    assert "chmod 600" in result.stderr


def test_ami_refuses_a_secret_file_others_may_read(db, admin, cli, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("sekrit")
    secret.chmod(0o644)
    result = cli("cti", "ami", "--host", "127.0.0.1", "--user", "u", "--secret-file", str(secret))
    assert result.exit_code == 2
    assert "chmod 600" in result.stderr


def test_ami_reports_a_refused_login(db, admin, cli, tmp_path):
    """Against the test AMI server (run on a loop of its own): a wrong secret ends the
    command with the server's reason and the 'unavailable' exit code."""
    import asyncio
    import threading

    from tests.services.test_cti_ami import AmiServer

    loop = asyncio.new_event_loop()
    server = AmiServer([])
    port = loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        secret = tmp_path / "secret"
        secret.write_text("wrong\n")
        secret.chmod(0o600)
        result = cli(
            "cti", "ami", "--host", "127.0.0.1", "--port", str(port), "--user", "cctui",
            "--secret-file", str(secret),
        )  # fmt: skip
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
    assert result.exit_code == 5, result.output
    assert "refused the login: Authentication failed" in result.stderr
    assert server.logins == [("cctui", "wrong")]


def test_callbacks_and_call_back_json(db, admin, cli):
    from cc_tui.services.cti.calls import CallEvent, record_event

    with db.session() as s:
        f.customer(s, "Acme AG", phone="+49 30 1234567")
        for n in (1, 2):
            base = {"callId": f"m-{n}", "from": "030 1234567", "queue": "DESK"}
            record_event(s, actor=admin, event=CallEvent.parse({**base, "event": "newCall"}))
            record_event(s, actor=admin, event=CallEvent.parse({**base, "event": "hangup"}))
    rows = json.loads(cli("cti", "callbacks", "--json").stdout)
    assert [(r["number"], r["customer"]["name"], r["tries"], r["queue"]) for r in rows] == [
        ("+49301234567", "Acme AG", 2, "DESK")
    ]
    assert set(rows[0]) == {
        *("number", "customer", "tries", "first_at", "last_at", "queue", "ringing")
    }
    done = cli("cti", "call-back", "+49301234567", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["new_contact"] is True and result["incident"].startswith("INC-")
    assert result["call"]["direction"] == "out"
    assert json.loads(cli("cti", "callbacks", "--json").stdout) == []
    again = cli("cti", "call-back", "+4940111111")
    assert again.exit_code == 3
    assert "no missed call" in again.stderr


def test_calls_by_number(db, admin, cli):
    with db.session() as s:
        f.agent(s, "bob")
    for number in ("+49 30 1234567", "040 7777777"):
        assert cli("cti", "simulate", "--from", number, "--agent", "bob").exit_code == 0
    by_e164 = json.loads(cli("cti", "calls", "--number", "030 1234567", "--json").stdout)
    assert [r["from"] for r in by_e164] == ["+49 30 1234567"]
    by_part = json.loads(cli("cti", "calls", "--number", "7777", "--json").stdout)
    assert [r["from"] for r in by_part] == ["040 7777777"]
    assert json.loads(cli("cti", "calls", "--number", "999", "--json").stdout) == []
