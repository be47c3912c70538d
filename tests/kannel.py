"""A real SMS gateway for the tests: Kannel's bearerbox and smsbox on free loopback ports,
with a fake SMSC (Kannel's own `fakesmsc`) that prints every message the gateway hands
it. Config, logs and store are in a temporary folder; the boxes run as an unprivileged
user and are stopped by their pids.

`.ci/run` installs it (Debian's kannel and kannel-extras). Without it the tests are skipped
on a developer's machine and fail in CI.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.dovecot import IN_CI, free_port

USER = "desk"
PASSWORD = "sms-Passw0rd"
SENDER = "4930555"
# Numbers the gateway refuses (HTTP 400): they start with +BARRED.
BARRED = "88299"

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"

CONFIG = """\
group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = {admin_password}
admin-allow-ip = 127.0.0.1
smsbox-port = {smsbox_port}
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = 127.0.0.1
log-file = "{root}/bearerbox.log"
log-level = 0
access-log = "{root}/access.log"
store-type = file
store-location = "{root}/kannel.store"

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = {smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
sendsms-chars = "0123456789 +-"
global-sender = {sender}
log-file = "{root}/smsbox.log"
log-level = 0

group = sendsms-user
username = {user}
password = {password}
user-allow-ip = 127.0.0.1
max-messages = 10
concatenation = true
black-list-regex = "^\\+{barred}"

group = sms-service
keyword = default
text = "This number does not take replies."
"""

# fakesmsc prints what the gateway hands it: "Got message 3: <sender to text the text>".
_GOT = re.compile(r"Got message \d+: <(\S*) (\S+) (text|data|ucs2|udh) (.*)>\s*$")
# Its protocol is one message a line: a text with a line break comes as two "messages", the
# second only the text after the break.
_MORE = re.compile(r"Got message \d+: <(.*)>\s*$")


@dataclass(frozen=True)
class Sms:
    sender: str
    to: str
    kind: str
    text: str


@dataclass
class Gateway:
    host: str
    port: int
    user: str
    password: str
    root: Path
    received: list[Sms] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    # The message read last, published when the next one starts or no line follows (a text
    # with a line break comes in several lines).
    _pending: Sms | None = None
    _pending_at: float = 0.0

    @property
    def url(self) -> str:
        """The `[sms] url` template cc-tui is configured with."""
        return (
            f"http://{self.host}:{self.port}/cgi-bin/sendsms?username={{user}}"
            "&password={password}&to={to}&text={text}&charset=UTF-8"
        )

    def send(self, to: str, text: str) -> tuple[int, str]:
        """A sendsms request of the test's own (the gateway's answer)."""
        query = urllib.parse.urlencode(
            {"username": self.user, "password": self.password, "to": to, "text": text}
        )
        try:
            with urllib.request.urlopen(
                f"http://{self.host}:{self.port}/cgi-bin/sendsms?{query}", timeout=10
            ) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def seen(self) -> int:
        """How many messages arrived so far (for `wait_for(..., after=)`)."""
        with self._arrived:
            return len(self.received)

    def wait_for(self, count: int, *, after: int = 0, timeout: float = 20.0) -> list[Sms]:
        """The `count` messages that arrived after the first `after` (fails after
        `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < after + count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self.received) - after
                    log = "\n".join(self.lines[-20:])
                    pytest.fail(f"{got} of {count} SMS arrived; fakesmsc said:\n{log}")
                self._arrived.wait(left)
            return list(self.received[after : after + count])

    def _read(self, stream) -> None:
        """fakesmsc's output, line by line (a thread of its own)."""
        parts: dict[tuple[str, str, int], dict[int, bytes]] = {}
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            found = _GOT.search(line)
            sms = None
            if found:
                sender, to, kind, rest = found.groups()
                if kind == "udh":
                    # One part of a long message: "<udh> data <url-encoded part>".
                    udh, _, body = rest.partition(" ")
                    head = urllib.parse.unquote_to_bytes(udh)
                    data = urllib.parse.unquote_to_bytes(body.partition(" ")[2].replace("+", " "))
                    ref, total, seq = head[3], head[4], head[5]
                    pieces = parts.setdefault((sender, to, ref), {})
                    pieces[seq] = data
                    if len(pieces) == total:
                        del parts[(sender, to, ref)]
                        text = b"".join(pieces[i] for i in sorted(pieces)).decode()
                        sms = Sms(sender, to, "text", text)
                elif kind == "text":
                    sms = Sms(sender, to, kind, rest)
                else:
                    text = urllib.parse.unquote_to_bytes(rest.replace("+", " ")).decode(
                        "utf-16-be" if kind == "ucs2" else "utf-8", errors="replace"
                    )
                    sms = Sms(sender, to, kind, text)
            more = None if found else _MORE.search(line)
            with self._arrived:
                self.lines.append(line)
                if more is not None and self._pending is not None:
                    last = self._pending
                    self._pending = Sms(last.sender, last.to, last.kind, f"{last.text}\n{more[1]}")
                elif sms is not None:
                    self._publish()
                    self._pending = sms
                self._pending_at = time.monotonic()

    def _publish(self) -> None:
        """The message read last is complete (called holding the lock)."""
        if self._pending is not None:
            self.received.append(self._pending)
            self._pending = None
            self._arrived.notify_all()

    def _flush(self, stop: threading.Event) -> None:
        """A message is complete once no line has come for a moment (a thread of its own)."""
        while not stop.wait(0.05):
            with self._arrived:
                if self._pending is not None and time.monotonic() - self._pending_at > 0.2:
                    self._publish()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(predicate, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _logs(root: Path) -> str:
    parts = []
    for name in ("bearerbox.log", "smsbox.log"):
        path = root / name
        if path.exists():
            parts.append(
                f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:])
            )
    return "\n".join(parts)


@contextmanager
def kannel_gateway() -> Iterator[Gateway]:
    missing = [b for b in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(b, os.X_OK)]
    if missing:
        message = (
            f"Kannel is not installed ({', '.join(missing)}): apt-get install kannel kannel-extras"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="cc-tui-kannel-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # Never as root: the boxes run as nobody, owning their folder.
        account = pwd.getpwnam("nobody")
        user, group = account.pw_name, grp.getgrgid(account.pw_gid).gr_name
        prefix = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups"]
    processes: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()
    try:
        for _attempt in range(3):  # another process may take a free port first
            ports = {
                "admin_port": free_port(),
                "smsbox_port": free_port(),
                "smsc_port": free_port(),
                "sendsms_port": free_port(),
            }
            config = root / "kannel.conf"
            config.write_text(
                CONFIG.format(
                    root=root,
                    admin_password="admin-" + PASSWORD,
                    sender=SENDER,
                    barred=BARRED,
                    user=USER,
                    password=PASSWORD,
                    **ports,
                )
            )
            if os.geteuid() == 0:
                root.chmod(0o755)
                subprocess.run(["chown", "-R", f"{user}:{group}", str(root)], check=True)
            gateway = Gateway("127.0.0.1", ports["sendsms_port"], USER, PASSWORD, root)
            bearerbox = subprocess.Popen(
                [*prefix, BEARERBOX, "-v", "4", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=root,
            )
            processes.append(bearerbox)
            if not _wait(
                lambda p=ports: _listening(p["smsc_port"]) and _listening(p["smsbox_port"])
            ):
                for process in reversed(processes):
                    _stop(process)
                processes.clear()
                continue
            fake = subprocess.Popen(
                # -m 0: the fake phone network sends nothing itself, it only receives.
                [
                    *prefix,
                    FAKESMSC,
                    "-H",
                    "127.0.0.1",
                    "-r",
                    str(ports["smsc_port"]),
                    "-m",
                    "0",
                    "0 0 text nothing",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=root,
            )
            processes.append(fake)
            threading.Thread(target=gateway._read, args=(fake.stdout,), daemon=True).start()
            threading.Thread(target=gateway._flush, args=(stopping,), daemon=True).start()
            smsbox = subprocess.Popen(
                [*prefix, SMSBOX, "-v", "4", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=root,
            )
            processes.append(smsbox)
            if _wait(lambda p=ports: _listening(p["sendsms_port"])):
                break
            for process in reversed(processes):
                _stop(process)
            processes.clear()
        else:
            pytest.fail(f"Kannel did not start:\n{_logs(root)}")
        yield gateway
    finally:
        stopping.set()
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)
