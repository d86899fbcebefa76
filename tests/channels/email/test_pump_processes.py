"""The mail pump across processes: real ``kefu worker`` processes on their own database (a
SQLite file; a PostgreSQL database of its own when the suite runs on PostgreSQL), the default
task queue (the database's), a real SMTP server for the acknowledgements.

- Two workers take mail from the same table at once: every message becomes one ticket and one
  acknowledgement, none twice.
- A worker killed (SIGKILL) in the middle of a batch, twice: after a restart every message is
  a ticket exactly once.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import Captured, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

STORE = """
import os
from kefu.channels.email import actions
actions.create_support_address(email="support@kefu.test")
actions.update_email_settings(sender_rate_limit=0, default_locale="en")
# The acknowledgement links the request on the processing worker's KEFU_BASE_URL.
actions.update_email_template(
    key="acknowledgement", locale="en", subject="[#{{ ticket.id }}]", body="{{ ticket.url }}"
)
for n in range(int(os.environ["PUMP_MESSAGES"])):
    raw = (
        f"From: Customer {n} <c{n}@acme.test>\\r\\nTo: support@kefu.test\\r\\n"
        f"Subject: pump {n}\\r\\nMessage-ID: <pump-{n}@acme.test>\\r\\n\\r\\nHello {n}\\r\\n"
    ).encode()
    actions.store_inbound(raw=raw, recipients=["support@kefu.test"])
"""


class Site:
    """A Kefu data dir + database and the ``kefu`` processes that use it."""

    def __init__(self, database_url: str, data_dir: Path, sink_port: int) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.sink_port = sink_port

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "KEFU_DATA_DIR": str(self.data_dir),
            "KEFU_DATABASE_URL": self.database_url,
            "KEFU_SECRET_KEY": "pump-test-secret-key-" + "x" * 30,
            "KEFU_EMAIL_URL": f"smtp://127.0.0.1:{self.sink_port}",
            "KEFU_LOG_LEVEL": "WARNING",
            **extra,
        }
        for name in ("KEFU_TEST_DATABASE_URL", "DJANGO_SETTINGS_MODULE", "KEFU_TASKS_BACKEND"):
            env.pop(name, None)
        return env

    def start(self, *args: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "kefu.cli", *args],
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def run(self, *args: str, **extra: str) -> str:
        process = self.start(*args, **extra)
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output.decode()
        return output.decode()

    def query(self, sql: str) -> list[tuple]:
        if self.database_url.startswith("sqlite"):
            import sqlite3

            with contextlib.closing(sqlite3.connect(self.data_dir / "kefu.sqlite3")) as db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(sql).fetchall()  # type: ignore[arg-type]

    def processed(self) -> int:
        return self.query("SELECT COUNT(*) FROM email_inboundmessage WHERE state = 'processed'")[0][
            0
        ]

    def wait(self, condition, *, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)


@contextlib.contextmanager
def site(sink_port: int) -> Iterator[Site]:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-pump-"))
    test_url = os.environ.get("KEFU_TEST_DATABASE_URL", "")
    if not test_url.startswith("postgres"):
        yield Site(f"sqlite:///{data_dir / 'kefu.sqlite3'}", data_dir, sink_port)
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(test_url)
    name = f"{parts.path.lstrip('/')}_pump_{uuid.uuid4().hex[:8]}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Site(parts._replace(path=f"/{name}").geturl(), data_dir, sink_port)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def sink() -> Iterator[tuple[Captured, int]]:
    from aiosmtpd.controller import Controller

    captured = Captured()
    port = free_port()
    controller = Controller(captured, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield captured, port
    finally:
        controller.stop()


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker(place: Site, name: str) -> subprocess.Popen:
    # Each worker builds its links with its own base URL: the acknowledgement (see STORE)
    # tells which process processed the message.
    process = place.start("worker", "--no-scheduler", KEFU_BASE_URL=f"http://{name}.test")
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    assert "mail pump on" in line, line + process.stdout.read().decode()
    return process


def test_two_workers_take_every_message_once(sink):  # type: ignore[no-untyped-def]
    captured, sink_port = sink
    count = 120
    with site(sink_port) as place:
        place.run("migrate")
        # given two workers waiting for mail
        workers = [worker(place, "w1"), worker(place, "w2")]
        try:
            # when the messages arrive
            place.run("manage", "shell", "-c", STORE, PUMP_MESSAGES=str(count))
            place.wait(lambda: place.processed() == count)
            place.wait(lambda: len(captured.messages) >= count)
            time.sleep(0.5)  # a duplicate would arrive now
        finally:
            for process in workers:
                stop(process)

        # then each message is one ticket, one comment, one acknowledgement sent once
        rows = place.query("SELECT state, ticket_id FROM email_inboundmessage")
        assert len(rows) == count and {r[0] for r in rows} == {"processed"}
        assert len({r[1] for r in rows}) == count
        subjects = [r[0] for r in place.query("SELECT subject FROM tickets_ticket")]
        assert sorted(subjects) == sorted(f"pump {n}" for n in range(count))
        assert place.query("SELECT COUNT(*) FROM tickets_comment") == [(count,)]
        outbound = place.query("SELECT state, body_text FROM email_outboundmessage")
        assert len(outbound) == count and {r[0] for r in outbound} == {"sent"}
        recipients = sorted(to[0] for _f, to, _raw in captured.messages)
        assert recipients == sorted(f"c{n}@acme.test" for n in range(count))
        # and both workers did some of it
        assert {"w1" if "http://w1.test" in r[1] else "w2" for r in outbound} == {"w1", "w2"}


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(sink):  # type: ignore[no-untyped-def]
    _captured, sink_port = sink
    count = 150
    with site(sink_port) as place:
        place.run("migrate")
        place.run("manage", "shell", "-c", STORE, PUMP_MESSAGES=str(count))
        process = worker(place, "w1")
        try:
            # when the worker is killed twice in the middle of the batch
            for kill_at in (count // 4, count // 2):
                place.wait(lambda kill_at=kill_at: place.processed() >= kill_at)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                process = worker(place, "w1")
            place.wait(lambda: place.processed() == count)
        finally:
            stop(process)

        # then every message is a ticket exactly once, with one acknowledgement
        rows = place.query("SELECT state, ticket_id FROM email_inboundmessage")
        assert {r[0] for r in rows} == {"processed"}
        assert len({r[1] for r in rows}) == count
        subjects = [r[0] for r in place.query("SELECT subject FROM tickets_ticket")]
        assert sorted(subjects) == sorted(f"pump {n}" for n in range(count))
        assert place.query("SELECT COUNT(*) FROM tickets_comment") == [(count,)]
        assert place.query("SELECT COUNT(*) FROM email_outboundmessage") == [(count,)]
