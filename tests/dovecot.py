"""A real IMAP server for the tests: Dovecot on a free loopback port, as an unprivileged
user, with its config, passwd file and Maildirs in a temporary folder; stopped by its pid.

`.ci/run` installs it (Debian's dovecot-imapd). Without it the tests are skipped on a
developer's machine and fail in CI.

With `tls=True` it also speaks TLS (STARTTLS on the IMAP port, and an IMAPS port) with a
self-signed certificate for 127.0.0.1 made for it by the `openssl` command line; nobody
trusts it unless told to (`Server.certificate`, for SSL_CERT_FILE).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

USER = "desk@example.test"
PASSWORD = "s3cret-Passw0rd"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
mailbox_list_index = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


TLS = """\
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
"""


@dataclass
class Server:
    host: str
    port: int
    user: str
    password: str
    root: Path
    imaps_port: int | None = None  # with tls=True
    certificate: Path | None = None  # its self-signed certificate (PEM), with tls=True

    def url(self, folder: str = "INBOX", *, secure: bool = False) -> str:
        """imap:// (STARTTLS when the server speaks TLS), or imaps:// with `secure`."""
        user = self.user.replace("@", "%40")
        if secure:
            return f"imaps://{user}@{self.host}:{self.imaps_port}/{folder}"
        return f"imap://{user}@{self.host}:{self.port}/{folder}"

    @contextmanager
    def imap(self) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        try:
            yield client
        finally:
            client.logout()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.imap() as client:
            status, _ = client.append(folder, None, None, raw)
            assert status == "OK"

    def unseen(self, folder: str = "INBOX") -> list[int]:
        with self.imap() as client:
            client.select(folder)
            _, data = client.uid("SEARCH", "UNSEEN")
            return [int(u) for u in data[0].split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def self_signed_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for `host` (as its IP address or DNS name) signed by its own key:
    (cert.pem, key.pem) in `folder`, made by the openssl command line."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if IN_CI:
            pytest.fail("the openssl command is not installed (.ci/run installs it)")
        pytest.skip("the openssl command is not installed (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    name = f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}"
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host}"]
    command += ["-addext", f"subjectAltName={name}"]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return cert, key


@contextmanager
def dovecot_server(*, tls: bool = False) -> Iterator[Server]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        if IN_CI:
            pytest.fail("Dovecot is not installed (.ci/run installs dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="cc-tui-dovecot-"))
    command = [binary, "-c", str(root / "dovecot.conf")]
    if os.geteuid() == 0:
        # Never as root: the server runs as nobody, owning its folder.
        account = pwd.getpwnam("nobody")
        user, group = account.pw_name, grp.getgrgid(account.pw_gid).gr_name
        command = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", *command]
    else:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    try:
        certificate = self_signed_certificate(root / "tls")[0] if tls else None
        for _attempt in range(3):  # another process may take the free port first
            port = free_port()
            imaps_port = free_port() if tls else 0
            for sub in ("run", "state", "home"):
                (root / sub).mkdir(exist_ok=True)
            (root / "dovecot.conf").write_text(
                CONFIG.format(
                    root=root,
                    user=user,
                    group=group,
                    port=port,
                    imaps_port=imaps_port,
                    ssl=TLS.format(root=root) if tls else "ssl = no",
                )
            )
            (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
            if os.geteuid() == 0:
                root.chmod(0o755)
                subprocess.run(["chown", "-R", f"{user}:{group}", str(root)], check=True)
            subprocess.run(command, check=True, timeout=30)
            for _ in range(100):
                if _answers(port):
                    break
                time.sleep(0.05)
            if _answers(port) and (not tls or _listens(imaps_port)):
                break
            _stop(root / "run" / "master.pid")
        else:
            log = (root / "dovecot.log").read_text(errors="replace")
            pytest.fail(f"Dovecot did not start:\n{log}")
        yield Server("127.0.0.1", port, USER, PASSWORD, root, imaps_port or None, certificate)
    finally:
        _stop(root / "run" / "master.pid")
        shutil.rmtree(root, ignore_errors=True)


class Relay:
    """A loopback TCP relay to a server, whose open connections a test can cut (the
    connection lost in the middle of a conversation); new ones are relayed as before."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", int(self.listener.getsockname()[1])
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return  # closed
            far = socket.create_connection(self.target)
            with self.lock:
                self.open += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every connection relayed so far, both ways."""
        with self.lock:
            ends, self.open = self.open, []
        for end in ends:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def url(self, server: Server, folder: str = "INBOX") -> str:
        return f"imap://{server.user.replace('@', '%40')}@{self.host}:{self.port}/{folder}"
