"""Kill the SMTP receiver (SIGKILL) in the middle of a batch; after a restart every message is
a ticket exactly once. The receiver runs as a real `kefu smtpd` process on its own SQLite file;
the sender behaves like a mail server: what was not acknowledged with 250 is sent again."""

import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from .conftest import free_port, raw_mail

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

MESSAGES = 30


def kefu(data_dir: Path, *args: str, **popen: object) -> subprocess.Popen:
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_DATABASE_URL": f"sqlite:///{data_dir / 'kefu.sqlite3'}",
        "KEFU_SECRET_KEY": "crash-test-secret-key-" + "x" * 30,
        # Process inside the receiver, right after each commit: a kill lands mid-processing too.
        "KEFU_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "KEFU_EMAIL_URL": "console://",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("KEFU_TEST_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "kefu.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,  # type: ignore[arg-type]
    )


def run(data_dir: Path, *args: str) -> str:
    process = kefu(data_dir, *args)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output.decode()
    return output.decode()


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the receiver did not start")


def test_a_killed_receiver_loses_nothing_and_duplicates_nothing():
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-crash-"))
    run(data_dir, "migrate")
    run(data_dir, "email", "add-address", "support@kefu.test")
    port = free_port()
    messages = {
        f"<crash-{n}@acme.test>": raw_mail(
            message_id=f"<crash-{n}@acme.test>", subject=f"crash {n}", sender=f"c{n}@acme.test"
        )
        for n in range(MESSAGES)
    }
    acknowledged: set[str] = set()
    done = threading.Event()

    def sender() -> None:
        # A mail server's behaviour: retry whatever was not acknowledged, until all were.
        while not done.is_set() and len(acknowledged) < len(messages):
            for message_id, raw in messages.items():
                if message_id in acknowledged:
                    continue
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                        client.sendmail("bob@acme.test", ["support@kefu.test"], raw)
                    acknowledged.add(message_id)
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)

    receiver = kefu(data_dir, "smtpd", "--listen", f"127.0.0.1:{port}")
    wait_for_port(port, receiver)
    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        # when: the receiver is killed twice in the middle of the batch
        for kill_at in (MESSAGES // 4, MESSAGES // 2):
            while len(acknowledged) < kill_at:
                time.sleep(0.01)
            receiver.send_signal(signal.SIGKILL)
            receiver.wait(timeout=10)
            receiver = kefu(data_dir, "smtpd", "--listen", f"127.0.0.1:{port}")
            wait_for_port(port, receiver)
        thread.join(timeout=600)
        assert len(acknowledged) == MESSAGES
    finally:
        done.set()
        receiver.send_signal(signal.SIGTERM)
        try:
            receiver.wait(timeout=60)
        except subprocess.TimeoutExpired:
            receiver.kill()
            receiver.wait()

    # then: what a kill left unprocessed is processed at the next sweep
    run(data_dir, "email", "process")
    db = sqlite3.connect(data_dir / "kefu.sqlite3")
    rows = db.execute("SELECT message_id, state, ticket_id FROM email_inboundmessage").fetchall()
    assert sorted(r[0] for r in rows) == sorted(messages)  # each stored exactly once
    assert {r[1] for r in rows} == {"processed"}
    subjects = [r[0] for r in db.execute("SELECT subject FROM tickets_ticket")]
    assert sorted(subjects) == sorted(f"crash {n}" for n in range(MESSAGES))
    (comments,) = db.execute("SELECT count(*) FROM tickets_comment").fetchone()
    assert comments == MESSAGES
    assert len({r[2] for r in rows}) == MESSAGES
