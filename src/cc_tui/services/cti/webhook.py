"""The telephone bridge's HTTP side, in the shape of Zammad's generic CTI API, so PBX
connectors written for it can post here: `POST /api/v1/cti/TOKEN` with `event`, `from`,
`to`, `direction`, `callId`, `user[]`, `queue`, `answeringNumber`, `cause`, form-encoded
or JSON.

The token in the path authenticates (compared in constant time). A request that is not
authenticated or cannot be read gets a 4xx and changes nothing; each accepted event is
one transaction.
"""

from __future__ import annotations

import hmac
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from sqlmodel import Session

from cc_tui.errors import CcError, ExitCode, UsageError
from cc_tui.services.context import Actor
from cc_tui.services.cti.calls import CallEvent, record_event

PREFIX = "/api/v1/cti/"
MAX_BODY = 64 * 1024
STATUS = {
    ExitCode.USAGE: HTTPStatus.BAD_REQUEST,
    ExitCode.NOT_FOUND: HTTPStatus.NOT_FOUND,
    ExitCode.CONFLICT: HTTPStatus.CONFLICT,
    ExitCode.RULE: HTTPStatus.UNPROCESSABLE_ENTITY,
    ExitCode.UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
}

Work = Callable[[], AbstractContextManager[tuple[Session, Actor]]]
# How long a bridge trusts its sign-in before checking the agent again (deactivated?).
SIGN_IN_SECONDS = 60.0


def signed_in_work(
    open_session: Callable[[], AbstractContextManager[Session]],
    sign_in: Callable[[Session], Actor],
    *,
    seconds: float = SIGN_IN_SECONDS,
) -> Work:
    """One transaction per event on behalf of the bridge's agent, signed in once a minute
    rather than once per event (three queries fewer on each of a hundred events a
    second)."""
    import threading
    import time

    lock = threading.Lock()
    signed: list[tuple[float, Actor]] = []

    @contextmanager
    def work() -> Iterator[tuple[Session, Actor]]:
        with open_session() as session:
            now = time.monotonic()
            with lock:
                known = signed[0] if signed and now - signed[0][0] < seconds else None
            if known is None:
                actor = sign_in(session)
                with lock:
                    signed[:] = [(now, actor)]
            else:
                actor = known[1]
            yield session, actor

    return work


def read_token(path: str | Path) -> str:
    """The shared secret from a file only its owner may read (0600)."""
    file = Path(path)
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UsageError(f"cannot read the token file {file}: {error.strerror}") from error
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"the token file {file} is readable by others: chmod 600 it")
    if len(text) < 16 or any(c.isspace() or c == "/" for c in text):
        raise UsageError("the token must be at least 16 characters, no spaces or '/'")
    return text


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """The event's fields from a form-encoded or JSON body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError("the body is not UTF-8") from error
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            document = json.loads(text)
        except ValueError as error:
            raise UsageError("the body is not JSON") from error
        if not isinstance(document, dict):
            raise UsageError("the JSON body must be an object")
        return {str(k): v for k, v in document.items()}
    try:
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError as error:
        raise UsageError("too many form fields") from error
    data: dict[str, Any] = {name: values[-1] for name, values in fields.items()}
    users = fields.get("user[]", []) + fields.get("user", [])
    data["user[]"] = users
    data.pop("user", None)
    return data


class CtiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        token: str,
        work: Work,
        default_country: str = "DE",
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(address, CtiHandler)
        self.token = token
        self.work = work
        self.default_country = default_country
        self.log = log


class CtiHandler(BaseHTTPRequestHandler):
    server: CtiServer
    server_version = "cc-tui-cti"
    # Keep-alive: a PBX connector that keeps its connection open saves a TCP handshake and
    # a thread per event. A refused request closes it (its body may be left unread).
    protocol_version = "HTTP/1.1"
    # The answer's header and body go out at once, not after the client's delayed ACK.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        if not self.path.startswith(PREFIX):
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        given = unquote(self.path[len(PREFIX) :].split("?")[0])
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            self._answer(HTTPStatus.UNAUTHORIZED, {"error": "bad token"})
            return
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        try:
            data = parse_body(self.headers.get("Content-Type", ""), self.rfile.read(length))
            event = CallEvent.parse(data)
            with self.server.work() as (session, actor):
                result = record_event(
                    session,
                    actor=actor,
                    event=event,
                    default_country=self.server.default_country,
                )
        except CcError as error:
            status = STATUS.get(error.exit_code, HTTPStatus.BAD_REQUEST)
            self._answer(status, {"error": error.message})
            return
        self._answer(HTTPStatus.OK, {"changed": result.changed, "state": result.call.state})

    def do_GET(self) -> None:
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST only"})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status != HTTPStatus.OK:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Never the path: it holds the token.
        if self.server.log is not None:
            self.server.log(
                f"{self.address_string()} {self.command} {args[1] if len(args) > 1 else ''}"
            )
