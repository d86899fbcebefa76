#!/usr/bin/env python
"""Where the CPU of one inbound email goes end to end, stage by stage (issue 5's ingest rate).

    .venv/bin/python bench/profile_email_pipeline.py [--messages 300] [--database-url postgres://...]

The pipeline ``bench_email.py`` runs all at once, taken apart so that each stage's CPU can be
read exactly (on a shared machine, CPU time moves much less than rates do):

1. **receipt**: ``--messages`` new-ticket messages sent by smtplib clients *in a child process*
   to Kefu's SMTP receiver in this process, no worker running: this process's CPU is the
   receiver's (RCPT check, DATA, storing the raw bytes and queueing the processing).
2. **processing + sending**: the task worker's loop run in this thread until the queue is
   empty (django-tasks-db's ``Worker`` in batch mode, as ``kefu worker`` runs it; or Kefu's
   inbound claim loop when it has one): processing every message (a ticket + its
   acknowledgement) and sending the acknowledgements to an SMTP sink *in a child process*.
   Run twice: once plain (the CPU figure, and a sampling split: the stack every millisecond
   of CPU, ``ITIMER_PROF``, which barely slows the code down), once under cProfile (its
   deterministic overhead inflates code that makes many small calls, such as the ORM).

PostgreSQL: the server's CPU for this database (its backends' ``/proc`` times) is added per
stage. Statements are counted per stage (every statement Django sends).
"""

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""

CLIENTS = """
import smtplib, sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, sys.argv[1])
from bench_email import message
port, prefix, count = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def send(n):
    with smtplib.SMTP("127.0.0.1", port, timeout=300) as client:
        client.sendmail("x@bench.example", ["support@kefu.bench"], message(n, prefix=prefix))
with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(send, range(count)))
"""

# (label, file suffix, function name): cumulative times read from the profile.
STEPS = [
    ("process_inbound (a task)", "kefu/channels/email/inbound.py", "process_inbound"),
    ("_process_claimed", "kefu/channels/email/inbound.py", "_process_claimed"),
    ("  parse_email", "kefu/channels/email/parsing.py", "parse_email"),
    ("  _person (find/create the sender)", "kefu/channels/email/inbound.py", "_person"),
    ("  create_ticket_and_audit", "kefu/tickets/actions/tickets.py", "create_ticket_and_audit"),
    ("    hooks.run (all ticket hooks)", "kefu/tickets/hooks.py", "run"),
    ("      sla.evaluate", "kefu/sla/actions/live.py", "on_ticket_change"),
    ("      rules.triggers", "kefu/rules/engine.py", "run_triggers"),
    ("      rules.notifications", "kefu/rules/notifications.py", "notify_on_change"),
    ("      rules.ownership", "kefu/rules/ownership.py", "keep_ownership"),
    ("      rules.routing", "kefu/rules/routing.py", "route_on_change"),
    ("      email.deliver_replies", "kefu/channels/email/outbound.py", "deliver_reply"),
    ("  queue_acknowledgement", "kefu/channels/email/outbound.py", "queue_acknowledgement"),
    ("    rendering (context + templates)", "kefu/channels/email/rendering.py", "ticket_context"),
    ("    _create (row + task)", "kefu/channels/email/outbound.py", "_create"),
    ("  enqueue (task rows written)", "django_tasks_db/backend.py", "enqueue"),
    ("send_outbound (a task)", "kefu/channels/email/outbound.py", "send_outbound"),
    ("  compose", "kefu/channels/email/outbound.py", "compose"),
    ("  _deliver (SMTP to the sink)", "kefu/channels/email/outbound.py", "_deliver"),
    ("queue: claim a task (worker loop)", "django_tasks_db/models.py", "get_locked"),
    ("queue: claim (UPDATE)", "django_tasks_db/models.py", "claim"),
    ("queue: finish (set_successful)", "django_tasks_db/models.py", "set_successful"),
    ("pump: process_next (claim + process)", "kefu/channels/email/inbound.py", "process_next"),
    ("pump: send_due (claim + send)", "kefu/channels/email/outbound.py", "send_due"),
    ("  _send_claimed", "kefu/channels/email/outbound.py", "_send_claimed"),
]


class Sampler:
    """Which steps are on the stack, sampled every ``interval`` s of this process's CPU."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.samples = 0
        self.hits = {label: 0 for label, _path, _name in STEPS}
        self.keys = {(path, name): label for label, path, name in STEPS}

    def _sample(self, signum, frame):  # type: ignore[no-untyped-def]
        self.samples += 1
        seen = set()
        while frame is not None:
            code = frame.f_code
            for (path, name), label in self.keys.items():
                if code.co_name == name and label not in seen and code.co_filename.endswith(path):
                    seen.add(label)
            frame = frame.f_back
        for label in seen:
            self.hits[label] += 1

    def __enter__(self) -> "Sampler":
        import signal

        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

    def report(self, ms_per_message: float) -> None:
        print(f"  sampled split of stage 2 ({self.samples} samples of 1 ms CPU):")
        for label, count in self.hits.items():
            if count:
                share = count / max(self.samples, 1)
                print(f"    {label:40} {share * 100:5.1f} %  {share * ms_per_message:6.2f} ms")


class GcClock:
    """CPU time spent in Python's cyclic garbage collector (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._started
            self.collections[info["generation"]] += 1

    def __enter__(self) -> "GcClock":
        import gc

        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc

        gc.callbacks.remove(self._callback)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from django.db.backends import utils

        original = utils.CursorWrapper._execute_with_wrappers
        counter = self

        def counted(self, sql, params, many, executor):  # type: ignore[no-untyped-def]
            counter.count += 1
            return original(self, sql, params, many, executor)

        utils.CursorWrapper._execute_with_wrappers = counted  # type: ignore[method-assign]


def pg_backend_cpu(dbname: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (their process titles name it)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if not cmdline.startswith(b"postgres:") or f" {dbname} ".encode() not in cmdline:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--dump", help="write the profile (pstats) to this file")
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--sink-port", type=int, default=0)
    args = parser.parse_args()

    import bench_email

    sink_port = args.sink_port or bench_email.free_port()
    sink = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, "-c", SINK, str(sink_port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    bench_args = argparse.Namespace(database_url=args.database_url)
    data_dir = bench_email.configure(bench_args, sink_port)
    try:
        run(args, data_dir)
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(10)


def run(args: argparse.Namespace, data_dir: Path) -> None:
    import bench_email
    from django.db import connection, connections

    from kefu.channels.email.actions import create_support_address, update_email_settings
    from kefu.channels.email.models import InboundMessage
    from kefu.channels.email.smtpd import Receiver
    from kefu.tickets.models import Ticket

    counter = Counter()
    counter.install()
    dbname = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else ""

    def pg_cpu() -> float:
        return pg_backend_cpu(dbname) if dbname else 0.0

    create_support_address(email="support@kefu.bench")
    update_email_settings(sender_rate_limit=0)
    port = args.smtp_port or bench_email.free_port()
    receiver = Receiver(host="127.0.0.1", port=port)
    receiver.start()
    drain = drainer()
    print(
        f"Kefu email pipeline profile — {connection.vendor}, {args.messages} messages per round,"
        f" drained by {drain.__doc__}"
    )
    try:
        # Warm-up, as in a running worker: imports, the URL resolver (its first reverse()
        # builds it: ~0.4 s), compiled templates, the configuration.
        subprocess.run(  # noqa: S603 - our own script
            [sys.executable, "-c", CLIENTS, str(ROOT / "bench"), str(port), "warm-", "5"],
            check=True,
        )
        drain()
        for round_number, profiled in enumerate([False, True]):
            prefix = f"r{round_number}-"
            # 1. receipt
            statements, cpu, db = counter.count, time.process_time(), pg_cpu()
            wall = time.perf_counter()
            subprocess.run(  # noqa: S603 - our own script
                [sys.executable, "-c", CLIENTS, str(ROOT / "bench"), str(port), prefix,
                 str(args.messages)],
                check=True,
            )  # fmt: skip
            wall = time.perf_counter() - wall
            receipt = (time.process_time() - cpu, pg_cpu() - db, counter.count - statements)
            stored = InboundMessage.objects.filter(message_id__startswith=f"<{prefix}").count()
            assert stored == args.messages, stored
            # 2. processing + sending
            statements, cpu, db = counter.count, time.process_time(), pg_cpu()
            # CPU time of this thread, not wall time: waiting for the sink or an fsync is not CPU.
            profile = cProfile.Profile(time.thread_time) if profiled else None
            started = time.perf_counter()
            sampler = Sampler()
            if profile:
                profile.enable()
                drain()
                profile.disable()
            else:
                with sampler, GcClock() as collector:
                    drain()
            elapsed = time.perf_counter() - started
            work = (time.process_time() - cpu, pg_cpu() - db, counter.count - statements)
            n = args.messages
            done = InboundMessage.objects.filter(
                message_id__startswith=f"<{prefix}", state="processed"
            ).count()
            assert done == n, done
            label = "profiled" if profiled else "plain"
            print(f"\nround {round_number + 1} ({label}):")
            print(
                f"  1. receipt (receiver in this process):  {receipt[0] / n * 1000:6.2f} ms CPU"
                f"  + db server {receipt[1] / n * 1000:5.2f} ms  {receipt[2] / n:5.1f} statements"
                f"   ({n / wall:.0f} msg/s accepted)"
            )
            print(
                f"  2. processing + sending (worker loop):  {work[0] / n * 1000:6.2f} ms CPU"
                f"  + db server {work[1] / n * 1000:5.2f} ms  {work[2] / n:5.1f} statements"
                f"   ({n / elapsed:.0f} msg/s in one thread)"
            )
            total = receipt[0] + receipt[1] + work[0] + work[1]
            print(f"  total CPU per message (Kefu + database): {total / n * 1000:6.2f} ms")
            if not profile:
                print(
                    f"  garbage collector: {collector.seconds / n * 1000:.2f} ms per message"
                    f" (collections of generation 0/1/2: {collector.collections})"
                )
                sampler.report(work[0] / n * 1000)
            if profile:
                report(profile, n, args.top)
                if args.dump:
                    profile.dump_stats(args.dump)
        assert Ticket.objects.count() >= 2 * args.messages
    finally:
        receiver.stop()
        connections.close_all()


def drainer() -> Callable[[], None]:
    """Run the queue(s) until empty, in this thread."""
    try:
        from kefu.channels.email import pump  # the mail pump, when there is one
    except ImportError:
        pump = None  # type: ignore[assignment]
    from django_tasks_db.management.commands.db_worker import Worker

    def drain() -> None:
        while True:
            worked = pump.drain() if pump is not None else 0
            worker = Worker(
                queue_names=["*"], excluded_queue_names=[], interval=0, batch=True,
                backend_name="default", startup_delay=False, max_tasks=None, worker_id="prof",
            )  # fmt: skip
            before = worker._run_tasks
            worker.run()
            if not worked and worker._run_tasks == before:
                return

    drain.__doc__ = "the mail pump + the task worker" if pump is not None else "the task worker"
    return drain


def report(profile: cProfile.Profile, n: int, top: int) -> None:
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"  profiled split of stage 2 (cProfile total {total / n * 1000:.1f} ms per message):")
    for label, path, name in STEPS:
        found = [
            value
            for key, value in stats.stats.items()  # type: ignore[attr-defined]
            if key[0].endswith(path) and key[2] == name
        ]
        if found:
            cumulative = sum(value[3] for value in found)
            calls = sum(value[1] for value in found)
            print(f"    {label:40} {cumulative / total * 100:5.1f} %  ({calls / n:.2f} calls/msg)")
    if top:
        stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    main()
