"""A real Dovecot IMAP server on 127.0.0.1 with a throwaway config: the tests' fixture and
bench/bench_email.py both start it through ``running_dovecot`` (``apt-get install
dovecot-imapd``). Users are written at start with the password "secret"."""

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator


class DovecotNotInstalled(Exception):
    pass


class DovecotNotStarted(Exception):
    pass


DOVECOT_CONF = """
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
first_valid_uid = 100
first_valid_gid = 100
log_path = {root}/dovecot.log
mail_location = maildir:~/Maildir
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextlib.contextmanager
def running_dovecot(
    *, users: Iterable[str], port: int, oauth_port: int | None = None
) -> Iterator[tuple[pathlib.Path, int]]:
    """Start Dovecot for ``users`` on ``port``; yield (its directory, port); stop it after."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if binary is None:
        raise DovecotNotInstalled("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under pytest's tmp dir: Dovecot's unprivileged processes must reach the files.
    root = pathlib.Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own users read the config and passwd
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    shutil.chown(root / "home", "dovecot", "dovecot")
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}secret::::::\n" for u in users))
    (root / "oauth2.conf.ext").write_text(
        f"tokeninfo_url = http://127.0.0.1:{oauth_port or 9}/tokeninfo?access_token=\n"
        "introspection_mode = get\nusername_attribute = email\n"
    )
    (root / "dovecot.conf").write_text(DOVECOT_CONF.format(root=root, port=port))
    process = subprocess.Popen(  # noqa: S603 - the system's dovecot
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    log_file = root / "dovecot.log"
                    log = log_file.read_text() if log_file.exists() else ""
                    raise DovecotNotStarted(f"dovecot did not start: {output}\n{log}") from None
                time.sleep(0.1)
        yield root, port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
