#!/usr/bin/env python
"""Email benchmark (issue 5): SMTP ingest end to end, a big message among small ones, and IMAP
mailboxes drained in parallel. Not a test: it prints figures for bench/RESULTS.md.

    .venv/bin/python bench/bench_email.py                       # SQLite in a temp dir
    .venv/bin/python bench/bench_email.py \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_email_bench   # dropped, recreated

(a) SMTP: ``--messages`` messages (each from its own sender, so each opens a ticket and gets an
acknowledgement) sent by 4 smtplib clients to the in-process receiver; processing runs in
``--workers`` task-worker threads over the database queue (and the mail pump), as in
``kefu run``. Figures: the receiver's acceptance rate (250 answers/s), the end-to-end rate
(SMTP receipt → ticket) and the process's CPU time per message (everything runs in this
process; steadier than the rates on a shared machine).
With ``--processes N`` the receiver is a ``kefu smtpd`` process and processing runs in N
``kefu worker`` processes (N cores: one process's Python runs on one core at a time), as a
deployment runs them; the CPU figure is then theirs (read from /proc), plus PostgreSQL's
backends for this database, and this process's own (the clients, the sink) is shown apart.
(b) A ``--big-mb`` message sent first, small ones right behind it: how long the small ones wait
(``--big-mb 0`` skips it).
(c) IMAP: ``--mailboxes`` Dovecot mailboxes with ``--per-mailbox`` messages each, fetched by one
``poll_mailboxes`` call (concurrent threads); the drain time is fetch + store of all of them.
"""

import argparse
import os
import platform
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite; postgres:// is dropped first")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="task worker threads")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="N > 0: a `kefu smtpd` process and N `kefu worker` processes instead of threads",
    )
    parser.add_argument("--big-mb", type=int, default=20, help="0: skip the big-message part")
    parser.add_argument("--mailboxes", type=int, default=10)
    parser.add_argument("--per-mailbox", type=int, default=1000)
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--skip-smtp", action="store_true")
    parser.add_argument("--smtp-port", type=int, default=0, help="receiver; default: a free port")
    parser.add_argument("--sink-port", type=int, default=0, help="outbound sink; default: free")
    parser.add_argument("--dovecot-port", type=int, default=0, help="default: a free port")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure(args: argparse.Namespace, sink_port: int) -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-email-"))
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    if url.startswith("postgres"):
        reset_postgres(url)
    os.environ.update(
        KEFU_DATA_DIR=str(data_dir),
        KEFU_DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="kefu.settings",
        KEFU_EMAIL_URL=f"smtp://127.0.0.1:{sink_port}",
        KEFU_LOG_LEVEL="WARNING",
        KEFU_MAX_EMAIL_MB="25",
    )
    # Appended: a PYTHONPATH export of another commit (an A/B pair's "before") must win.
    sys.path.append(str(ROOT / "src"))
    import django

    django.setup()
    import logging

    logging.getLogger("django.tasks").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return data_dir


def start_sink(port: int = 0) -> tuple[object, int]:
    """A real SMTP server that swallows Kefu's outbound mail (acknowledgements)."""
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            Sink.count += 1
            return "250 OK"

    port = port or free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port


def message(n: int, *, body: str = "", prefix: str = "m") -> bytes:
    body = body or f"第 {n} 封测试邮件：打印机又坏了，请帮忙看看。Printer broken again."
    import base64

    encoded = base64.encodebytes(body.encode("utf-8")).decode().replace("\n", "\r\n")
    return (
        f"From: Customer {n} <{prefix}{n}@bench.example>\r\nTo: support@kefu.bench\r\n"
        f"Subject: =?utf-8?B?{base64.b64encode(f'测试 {n}'.encode()).decode()}?=\r\n"
        f"Message-ID: <{prefix}{n}@bench.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}\r\n"
    ).encode()


def send(port: int, raw: bytes, sender: str = "x@bench.example") -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
        client.sendmail(sender, ["support@kefu.bench"], raw)
    return time.perf_counter() - started


def wait_processed(count: int, *, timeout: float = 1800) -> float:
    from kefu.channels.email.models import InboundMessage

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if InboundMessage.objects.exclude(state="received").count() >= count:
            return time.perf_counter()
        time.sleep(0.05)
    raise SystemExit(f"not processed within {timeout}s")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_backend_cpu(dbname: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (their process titles name
    it); backends that ended are not counted (Kefu's connections live 60 s)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if cmdline.startswith(b"postgres:") and f" {dbname} ".encode() in cmdline:
                total += proc_cpu(int(pid))
        except OSError:
            continue
    return total


class Processes:
    """``kefu smtpd`` + N ``kefu worker`` processes on the bench's database."""

    def __init__(self, count: int, port: int) -> None:
        env = dict(os.environ)
        # This checkout's code (or an A/B pair's export given as PYTHONPATH) in the children.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.environ.get("PYTHONPATH"), str(ROOT / "src")) if p
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        kefu = [sys.executable, "-m", "kefu.cli"]
        self.children = [
            self._start([*kefu, "smtpd", "--listen", f"127.0.0.1:{port}"], env, "listening")
        ]
        for n in range(count):
            scheduler = [] if n == 0 else ["--no-scheduler"]
            self.children.append(self._start([*kefu, "worker", *scheduler], env, "running"))

    @staticmethod
    def _start(command: list[str], env: dict[str, str], ready: str) -> "subprocess.Popen[bytes]":
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        while ready not in (line := process.stdout.readline().decode()):
            if not line and process.poll() is not None:
                raise SystemExit(f"{command[3]} did not start")
        # Keep reading its output, so a chatty child never blocks on a full pipe.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        return process

    def cpu(self) -> float:
        return sum(proc_cpu(child.pid) for child in self.children)

    def stop(self) -> None:
        for child in self.children:
            child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()


def wait_sent(count: int, *, timeout: float = 1800) -> float:
    from kefu.channels.email.models import OutboundMessage

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if OutboundMessage.objects.filter(state="sent").count() >= count:
            return time.perf_counter()
        time.sleep(0.05)
    raise SystemExit(f"not sent within {timeout}s")


def bench_smtp(args: argparse.Namespace) -> None:
    from django.db import connection

    from kefu.channels.email.actions import create_support_address, update_email_settings
    from kefu.channels.email.models import InboundMessage
    from kefu.channels.email.smtpd import Receiver
    from kefu.cli import Background
    from kefu.tickets.models import Ticket

    create_support_address(email="support@kefu.bench")
    update_email_settings(sender_rate_limit=0)
    port = args.smtp_port or free_port()
    dbname = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else ""
    processes: Processes | None = None
    if args.processes:
        processes = Processes(args.processes, port)
        stop = processes.stop
    else:
        receiver = Receiver(host="127.0.0.1", port=port)
        receiver.start()
        background = Background(worker_threads=args.workers, scheduler=False)
        background.start()

        def stop() -> None:
            background.stop()
            receiver.stop()

    try:
        # (a) ingest
        raws = [message(n) for n in range(args.messages)]
        cpu_started = time.process_time()
        children_started = processes.cpu() if processes else 0.0
        db_started = pg_backend_cpu(dbname) if dbname else 0.0
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            latencies = list(pool.map(lambda raw: send(port, raw), raws))
        accepted = time.perf_counter()
        done = wait_processed(args.messages)
        sent = wait_sent(args.messages)
        own = (time.process_time() - cpu_started) / args.messages * 1000
        children = ((processes.cpu() - children_started) if processes else 0.0) / args.messages
        db = ((pg_backend_cpu(dbname) - db_started) if dbname else 0.0) / args.messages
        assert Ticket.objects.count() == args.messages
        where = (
            f"a `kefu smtpd` process, {args.processes} `kefu worker` processes"
            if processes
            else f"{args.workers} worker threads + the mail pump in this process"
        )
        print(f"SMTP ingest, {args.messages} messages, 4 clients, {where}:")
        print(
            f"  accepted (250 after commit): {args.messages / (accepted - started):7.1f} msg/s"
            f"  (p50 {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms per message)"
        )
        print(
            f"  end to end (SMTP -> ticket):  {args.messages / (done - started):7.1f} msg/s"
            f"  ({done - started:.1f} s; acknowledgements all sent at {sent - started:.1f} s)"
        )
        if processes:
            print(
                f"  CPU per message: receiver + workers {children * 1000:.1f} ms"
                f" + database server {db * 1000:.1f} ms = {(children + db) * 1000:.1f} ms"
                f"  (this process: clients, sink, polling {own:.1f} ms; load {_load()})"
            )
        else:
            print(
                f"  CPU time of the process:       {own:7.1f} ms per message"
                f" + database server {db * 1000:.1f} ms (load {_load()})"
            )
        if args.big_mb <= 0:
            return

        # (b) a big message in front of small ones
        big = message(10**6, prefix="big", body="大" * (args.big_mb * 1024 * 1024 // 4))
        small = [message(n, prefix="s") for n in range(50)]
        base = InboundMessage.objects.count()
        from kefu.core import clock

        t0_clock = clock.now()
        t0 = time.perf_counter()
        big_thread = threading.Thread(target=send, args=(port, big))
        big_thread.start()
        time.sleep(0.2)  # the big one is on the wire first
        with ThreadPoolExecutor(max_workers=4) as pool:
            small_latencies = list(pool.map(lambda raw: send(port, raw), small))
        small_accepted = time.perf_counter() - t0
        wait_small = 0.0
        while InboundMessage.objects.filter(message_id__startswith="<s").exclude(
            state="received"
        ).count() < len(small):
            time.sleep(0.05)
        wait_small = time.perf_counter() - t0
        big_thread.join()
        big_accepted = time.perf_counter() - t0
        wait_processed(base + len(small) + 1)
        all_done = time.perf_counter() - t0
        smalls = InboundMessage.objects.filter(message_id__startswith="<s").defer("raw")
        processed = sorted((m.processed_at - t0_clock).total_seconds() for m in smalls)
        big_row = InboundMessage.objects.filter(message_id__startswith="<big").defer("raw").get()
        print(f"A {len(big) / 1048576:.0f} MB message first, 50 small ones behind it:")
        print(
            f"  from the database: small ones processed at p50 {processed[len(processed) // 2]:.2f}"
            f" s, last {processed[-1]:.2f} s; the big one stored at"
            f" {(big_row.received_at - t0_clock).total_seconds():.2f} s, processed at"
            f" {(big_row.processed_at - t0_clock).total_seconds():.2f} s ({big_row.state})"
        )
        print(
            f"  small ones accepted within {small_accepted:.2f} s (max {max(small_latencies):.2f}"
            f" s each), processed within {wait_small:.2f} s;"
            f" the big one accepted at {big_accepted:.2f} s, everything processed at"
            f" {all_done:.2f} s"
        )
    finally:
        stop()


def bench_imap(args: argparse.Namespace) -> None:
    import imaplib

    from kefu.channels.email.actions import create_mailbox, create_support_address
    from kefu.channels.email.imap import poll_mailboxes
    from kefu.channels.email.models import InboundMessage, Mailbox
    from kefu.core import clock

    sys.path.insert(0, str(ROOT))
    from tests.channels.email.dovecot import running_dovecot  # the tests' Dovecot setup

    users = [f"bench{n}" for n in range(args.mailboxes)]
    with running_dovecot(users=users, port=args.dovecot_port or free_port()) as (_root, port):
        started = time.perf_counter()

        def fill(user: str) -> None:
            conn = imaplib.IMAP4("127.0.0.1", port)
            conn.login(user, "secret")
            for n in range(args.per_mailbox):
                conn.append("INBOX", None, None, message(n, prefix=f"{user}-"))
            conn.logout()

        with ThreadPoolExecutor(max_workers=args.mailboxes) as pool:
            list(pool.map(fill, users))
        print(f"(filled {len(users)} Dovecot mailboxes in {time.perf_counter() - started:.0f} s)")
        address = create_support_address(email="imap@kefu.bench")
        for user in users:
            create_mailbox(support_address=address, host="127.0.0.1", port=port,
                           security="none", username=user, password="secret")  # fmt: skip
        before = InboundMessage.objects.count()
        started_at = clock.now()
        started = time.perf_counter()
        results = poll_mailboxes()
        drained = time.perf_counter() - started
        finished = sorted(
            (m.last_success_at - started_at).total_seconds()
            for m in Mailbox.objects.filter(support_address=address)
            if m.last_success_at
        )
        stored = InboundMessage.objects.count() - before
        print(f"IMAP: {len(users)} mailboxes x {args.per_mailbox} messages, one concurrent poll:")
        print(
            f"  drained (fetched + stored + marked) {stored} messages in {drained:.1f} s "
            f"= {stored / drained:.0f} msg/s; results: {sorted(set(results.values()))}"
        )
        if finished:
            print(
                f"  mailboxes finished between {finished[0]:.1f} s and {finished[-1]:.1f} s "
                "(side by side, not one after another)"
            )


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return "?"


def main() -> None:
    args = parse_args()
    sink, sink_port = start_sink(args.sink_port)
    data_dir = configure(args, sink_port)
    from django.db import connection

    print(
        f"Kefu email bench — {connection.vendor}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    try:
        if not args.skip_smtp:
            bench_smtp(args)
        if not args.skip_imap:
            bench_imap(args)
    finally:
        sink.stop()  # type: ignore[attr-defined]
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
