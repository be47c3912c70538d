"""A real IMAP server for the tests: Dovecot on a free loopback port, as an unprivileged
user, with its config, passwd file and Maildirs in a temporary folder; stopped by its pid.

`.ci/run` installs it (Debian's dovecot-imapd). Without it the tests are skipped on a
developer's machine and fail in CI.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
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
ssl = no
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
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Server:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{self.user.replace('@', '%40')}@{self.host}:{self.port}/{folder}"

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


@contextmanager
def dovecot_server() -> Iterator[Server]:
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
        for _attempt in range(3):  # another process may take the free port first
            port = free_port()
            for sub in ("run", "state", "home"):
                (root / sub).mkdir(exist_ok=True)
            (root / "dovecot.conf").write_text(
                CONFIG.format(root=root, user=user, group=group, port=port)
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
            if _answers(port):
                break
            _stop(root / "run" / "master.pid")
        else:
            log = (root / "dovecot.log").read_text(errors="replace")
            pytest.fail(f"Dovecot did not start:\n{log}")
        yield Server("127.0.0.1", port, USER, PASSWORD, root)
    finally:
        _stop(root / "run" / "master.pid")
        shutil.rmtree(root, ignore_errors=True)
