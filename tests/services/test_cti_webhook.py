"""The webhook bridge over real HTTP on loopback: good, unauthenticated, malformed and
replayed requests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from sqlmodel import col, func, select

from cc_tui.errors import UsageError
from cc_tui.models import Change, PhoneCall
from cc_tui.services.context import resolve_actor
from cc_tui.services.cti.webhook import CtiServer, read_token
from tests import factories as f

TOKEN = "s3cret-token-0123456789"

pytestmark = pytest.mark.commits


@pytest.fixture
def bridge(db, admin):
    with db.session() as s:
        f.customer(s, "Acme AG", phone="+49 30 1234567")
        f.agent(s, "bob")

    @contextmanager
    def work():
        with db.session() as session:
            yield session, resolve_actor(session, "admin")

    server = CtiServer(("127.0.0.1", 0), token=TOKEN, work=work)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def post(base, body, *, token=TOKEN, json_body=False, path=None):
    if json_body:
        data, kind = json.dumps(body).encode(), "application/json"
    elif isinstance(body, bytes):
        data, kind = body, "application/x-www-form-urlencoded"
    else:
        data, kind = (
            urllib.parse.urlencode(body, doseq=True).encode(),
            ("application/x-www-form-urlencoded"),
        )
    request = urllib.request.Request(
        base + (path or f"/api/v1/cti/{token}"),
        data=data,
        headers={"Content-Type": kind},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def counts(db):
    with db.session(write=False) as s:
        calls = s.scalar(select(func.count()).select_from(PhoneCall))
        changes = s.scalar(
            select(func.count()).select_from(Change).where(col(Change.entity) == "call")
        )
    return calls, changes


def test_form_events_ring_answer_hang_up(db, bridge):
    new = {"event": "newCall", "from": "49301234567", "to": "4930999", "direction": "in"}
    status, body = post(bridge, {**new, "callId": "a1", "user[]": ["bob", "nobody"]})
    assert (status, body) == (200, {"changed": True, "state": "ringing"})
    status, body = post(bridge, {"event": "answer", "callId": "a1", "user[]": ["bob"]})
    assert (status, body["state"]) == (200, "answered")
    status, body = post(bridge, {"event": "hangup", "callId": "a1", "cause": "normalClearing"})
    assert (status, body["state"]) == (200, "ended")
    with db.session(write=False) as s:
        call = s.scalars(select(PhoneCall)).one()
        assert (call.from_e164, call.ringing, call.cause) == (
            "+49301234567",
            ["bob"],
            "normalClearing",
        )
        assert call.customer_id is not None


def test_json_body_and_number_with_plus(db, bridge):
    body = {"event": "newCall", "callId": "j1", "from": "+49301234567", "user": ["bob"]}
    status, answer = post(bridge, body, json_body=True)
    assert (status, answer["changed"]) == (200, True)
    assert counts(db) == (1, 1)


def test_replayed_requests_change_nothing(db, bridge):
    new = {"event": "newCall", "callId": "r1", "from": "+49301234567", "user[]": ["bob"]}
    assert post(bridge, new)[1]["changed"] is True
    assert post(bridge, new) == (200, {"changed": False, "state": "ringing"})
    hangup = {"event": "hangup", "callId": "r1", "cause": "cancel"}
    assert post(bridge, hangup)[1] == {"changed": True, "state": "missed"}
    assert post(bridge, hangup)[1] == {"changed": False, "state": "missed"}
    assert counts(db) == (1, 2)


def test_unauthenticated_and_malformed_requests_change_nothing(db, bridge):
    good = {"event": "newCall", "callId": "u1", "from": "+49301234567"}
    assert post(bridge, good, token="wrong-token-0123456789")[0] == 401
    assert post(bridge, good, path="/api/v1/cti/")[0] == 401
    assert post(bridge, good, path="/elsewhere")[0] == 404
    assert post(bridge, {"event": "ring", "callId": "u1"})[0] == 400
    assert post(bridge, {"event": "newCall"})[0] == 400
    assert post(bridge, b"\xff\xfe")[0] == 400
    assert post(bridge, {"event": "answer", "callId": "never"})[0] == 404
    status, _ = post(bridge, ["not", "an", "object"], json_body=True)
    assert status == 400
    request = urllib.request.Request(bridge + f"/api/v1/cti/{TOKEN}", method="GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    assert counts(db) == (0, 0)


def test_token_file_must_be_private(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    assert read_token(token) == TOKEN
    token.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        read_token(token)
    token.write_text("short")
    token.chmod(0o600)
    with pytest.raises(UsageError):
        read_token(token)
    with pytest.raises(UsageError):
        read_token(tmp_path / "missing")


def test_a_kept_connection_carries_many_events_and_a_refusal_closes_it(db, bridge):
    import http.client

    parts = urllib.parse.urlsplit(bridge)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    path = f"/api/v1/cti/{TOKEN}"
    for kind in ("newCall", "answer", "hangup"):
        body = urllib.parse.urlencode({"event": kind, "callId": "k1", "from": "+49301234567"})
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Connection") != "close"
        response.read()
    connection.request("POST", "/api/v1/cti/wrong-token-0123456789", body=b"x", headers=headers)
    refused = connection.getresponse()
    assert (refused.status, refused.getheader("Connection")) == (401, "close")
    refused.read()
    connection.close()
    with db.session(write=False) as s:
        assert s.scalars(select(PhoneCall)).one().state == "ended"


def test_a_bridge_signs_in_once_a_minute_not_per_event(db, admin):
    from cc_tui.services.context import sign_in
    from cc_tui.services.cti.webhook import signed_in_work

    signs: list[str] = []

    def sign(session):
        signs.append("in")
        return sign_in(session, "admin", "admin")

    work = signed_in_work(lambda: db.session(), sign, seconds=60)
    for _ in range(3):
        with work() as (_session, actor):
            assert actor.login == "admin"
    assert signs == ["in"]
    again = signed_in_work(lambda: db.session(), sign, seconds=0)
    for _ in range(2):
        with again():
            pass
    assert signs == ["in", "in", "in"]
