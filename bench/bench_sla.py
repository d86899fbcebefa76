#!/usr/bin/env python
"""SLA benchmark (issue 7): evaluation cost per ticket update, re-evaluating open tickets after
a policy change, and the breach scan's query plan.

Not a test: it prints figures for bench/RESULTS.md.

    .venv/bin/python bench/bench_sla.py                        # SQLite in a temp dir
    .venv/bin/python bench/bench_sla.py --tickets 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_bench_sla   # dropped, recreated

Steps: migrate a fresh database; a Shanghai office schedule with China's 2026 holidays and a
policy with four targets; ``--tickets`` open tickets (created with hooks paused, then given a
first SLA evaluation by the re-evaluation itself); then (a) p50/p99 of ``update_ticket``
(an agent's public reply) with and without the SLA hook, and of ``evaluate_ticket`` alone;
(b) ``reevaluate_tickets`` over all open tickets; (c) the breach scan's plan and time.

``--workers N`` adds (w): the whole re-evaluation a policy change starts, as it runs in
production — ``update_policy`` commits, its task is queued in the database, N worker
processes (``kefu worker``'s ``Background``, clock frozen at the bench's "now") take the run
and its chunk tasks — timed by the wall clock from the commit until the run is finished,
``--repeat`` times. ``--keep DIR`` then also keeps the database after the first evaluation
(SQLite: a copy; PostgreSQL: a template database), so 100,000 tickets are created once.

Before/after pairs: run another commit's code with this script and this venv through
``PYTHONPATH=/tmp/<export>/src`` (this checkout's ``src`` only comes after it on ``sys.path``;
the first output line names the code that ran), ideally both at the same time, and use
``--cpu --repeat 9`` for a median of nine (b2) runs.
"""

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--tickets", type=int, default=5_000, help="open tickets (5,000)")
    parser.add_argument("--runs", type=int, default=200, help="timed updates per measurement")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time with the process's CPU time (SQLite runs in-process): steadier on a shared "
        "machine than wall-clock time",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the re-evaluation after a target change"
    )
    parser.add_argument(
        "--profile-lines", type=int, default=25, help="lines of the cumulative profile (25)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run (b2) this many times, the targets doubled and halved in turn, and report "
        "each and the median (steadier)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="(w): time the re-evaluation after a policy change through the task queue with "
        "this many worker processes (0: skip)",
    )
    parser.add_argument("--only-workers", action="store_true", help="skip (a), (b2) and (c)")
    parser.add_argument("--as-worker", help=argparse.SUPPRESS)  # internal: run one worker
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="SQLite only: keep a copy of the database right after the tickets are created in "
        "DIR (kefu-N.sqlite3 for N tickets) and start from that copy when it exists (creating "
        "20,000 tickets takes minutes)",
    )
    return parser.parse_args()


def _maintenance(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"Refusing to drop database {name!r}")
    return parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://"), name


def _kept_name(name: str, tickets: int) -> str:
    return f"{name}_kept{tickets}"


def reset_postgres(url: str, *, keep: bool = False, tickets: int = 0) -> bool:
    """Drop and create the database; from the kept template when ``keep`` and there is one
    (returns whether it was)."""
    import psycopg
    from psycopg import sql

    maintenance, name = _maintenance(url)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        template = _kept_name(name, tickets)
        exists = (
            keep
            and connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [template]
            ).fetchone()
        )
        if exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
            return True
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return False


def keep_postgres(url: str, tickets: int) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    maintenance, name = _maintenance(url)
    template = _kept_name(name, tickets)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))
        )
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(template), sql.Identifier(name)
            )
        )


def kept_copy(args: argparse.Namespace, *, evaluated: bool = False) -> Path | None:
    if not args.keep or args.database_url:
        return None
    return Path(args.keep) / f"kefu-{args.tickets}{'-evaluated' if evaluated else ''}.sqlite3"


def configure(args: argparse.Namespace) -> tuple[Path, bool]:
    """Set up Django on a fresh database; True when it is a kept, evaluated one."""
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-sla-"))
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    kept, evaluated = kept_copy(args), kept_copy(args, evaluated=True)
    started_evaluated = False
    if evaluated is not None and evaluated.exists():
        shutil.copyfile(evaluated, data_dir / "kefu.sqlite3")
        started_evaluated = True
    elif kept is not None and kept.exists():
        shutil.copyfile(kept, data_dir / "kefu.sqlite3")
    os.sync()  # the copy written out now, not by SQLite's first checkpoint during a timing
    if url.startswith("postgres"):
        started_evaluated = reset_postgres(url, keep=bool(args.keep), tickets=args.tickets)
    os.environ["KEFU_DATA_DIR"] = str(data_dir)
    os.environ["KEFU_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    # Appended, not inserted first: a PYTHONPATH export of another commit (the "before" of an
    # A/B pair) must win over this checkout's code (the venv's editable install is this one).
    sys.path.append(str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir, started_evaluated


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def machine_figure() -> str:
    """bench/machine.py's figure: the best of three 10**7-step loops, CPU seconds."""
    sys.path.insert(0, str(ROOT / "bench"))
    from machine import loop

    return f"{min(loop() for _ in range(3)):.2f} s (10**7 loop, best of 3)"


def run_worker(args: argparse.Namespace) -> None:
    """One ``kefu worker`` (its ``Background``: one task worker thread, no scheduler) with the
    clock frozen at the bench's "now", until SIGTERM."""
    import datetime as dt
    import signal
    import threading

    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    sys.path.append(str(ROOT / "src"))
    import django

    django.setup()
    from kefu.cli import Background
    from kefu.core import clock

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with clock.frozen_at(dt.datetime.fromisoformat(args.as_worker)):
        background = Background(worker_threads=1, scheduler=False)
        background.start()
        stop.wait()
        background.stop()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``); NaN once it
    has ended (a worker's database connection is renewed after ``KEFU_DB_CONN_MAX_AGE``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_wait(pid: int) -> float:
    """Seconds a process's threads have waited for a CPU so far (Linux ``schedstat``): the
    wall clock a busy machine takes from it, beside its CPU time; NaN once it has ended."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return float("nan")
    return total / 1e9


def server_pids() -> list[int]:
    """The PostgreSQL backends of the other connections to this database (the workers')."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return [pid for (pid,) in cursor.fetchall() if Path(f"/proc/{pid}").exists()]


def time_workers(args: argparse.Namespace, now: "object", factor_turns: int) -> None:
    """(w): a policy change re-evaluated by ``args.workers`` worker processes through the
    task queue, wall clock from the commit until the run is finished."""
    import subprocess

    from django.db import connections
    from django_tasks_db.models import DBTaskResult

    from kefu.sla import actions as sla
    from kefu.sla.models import SlaPolicy, SlaReevaluation

    DBTaskResult.objects.all().delete()  # what the other steps' policy changes queued
    connections.close_all()
    workers = [
        subprocess.Popen(  # noqa: S603 - this script, with its own arguments
            [sys.executable, __file__, "--as-worker", now.isoformat()],  # type: ignore[attr-defined]
            env=os.environ.copy(),
        )
        for _ in range(args.workers)
    ]
    try:
        time.sleep(3)  # the workers start (Django setup) and begin polling
        figures = []
        for turn in range(args.repeat):
            policy = SlaPolicy.objects.get()
            factor = 2 if (turn + factor_turns) % 2 == 0 else 0.5
            last = SlaReevaluation.objects.order_by("-id").values_list("id", flat=True).first()
            cpu = time.process_time()
            workers_cpu = [process_cpu(w.pid) for w in workers]
            workers_waited = [run_queue_wait(w.pid) for w in workers]
            servers = server_pids()  # PostgreSQL: the workers' backends (their CPU is theirs)
            servers_cpu = {pid: process_cpu(pid) for pid in servers}
            sla.update_policy(  # commits; its task is queued on commit
                policy,
                policy_metrics=[
                    {**m, "target": round(m["target"] * factor)} for m in policy.policy_metrics
                ],
            )
            began = time.perf_counter()
            while True:
                run = SlaReevaluation.objects.filter(id__gt=last or 0).order_by("-id").first()
                if run is not None and run.finished_at is not None:
                    break
                time.sleep(0.1)
            wall = time.perf_counter() - began
            used = [process_cpu(w.pid) - c for w, c in zip(workers, workers_cpu, strict=True)]
            waited = [
                run_queue_wait(w.pid) - c for w, c in zip(workers, workers_waited, strict=True)
            ]
            served = [process_cpu(pid) - c for pid, c in servers_cpu.items()]
            chunks = run.chunks.count()
            figures.append(wall)
            print(
                f"(w) policy change, {args.workers} worker processes: {run.done} tickets "
                f"re-evaluated in {wall:.2f} s wall clock from the commit ({chunks} chunks; "
                f"{wall / max(run.done, 1) * 1000:.3f} ms/ticket; "
                f"100,000 would take ~{wall / max(run.done, 1) * 100_000:.1f} s)"
                f" [CPU of the workers {' + '.join(f'{u:.1f}' for u in used)} s, "
                f"their wait for a CPU {' + '.join(f'{u:.1f}' for u in waited)} s; "
                + (
                    f"of their PostgreSQL backends {' + '.join(f'{u:.1f}' for u in served)} s; "
                    if served
                    else ""
                )
                + f"of the bench process {time.process_time() - cpu:.2f} s; "
                f"load average {os.getloadavg()[0]:.1f}]"
            )
        if len(figures) > 1:
            print(f"(w) median of {len(figures)}: {statistics.median(figures):.2f} s")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(60)


def main() -> None:
    args = parse_args()
    if args.as_worker:
        run_worker(args)
        return
    data_dir, started_evaluated = configure(args)
    kept = kept_copy(args)
    reused = started_evaluated or (kept is not None and kept.exists())
    import datetime as dt

    from django.db import connection

    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role
    from kefu.core import clock
    from kefu.sla import actions as sla
    from kefu.sla.models import SlaMetricState, SlaPolicy, SlaTicketState
    from kefu.tickets import hooks
    from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
    from kefu.tickets.models import Ticket

    timer = time.process_time if args.cpu else time.perf_counter
    import kefu

    print(
        f"database: {connection.vendor}, tickets: {args.tickets}, "
        f"timing: {'CPU time' if args.cpu else 'wall clock'}, code: {Path(kefu.__file__).parent}"
    )
    print(f"machine: {machine_figure()}; load average {os.getloadavg()[0]:.2f}")
    if reused:
        from kefu.accounts.models import User

        agent = User.objects.get(email="agent@bench.test")
        customer = User.objects.get(email="customer@bench.test")
    else:
        group = accounts.create_group(name="Support", default=True)
        agent = accounts.create_user(
            name="Agent", email="agent@bench.test", role=Role.AGENT, groups=[group]
        )
        customer = accounts.create_user(name="Customer", email="customer@bench.test")
    day = 24 * 60
    if not reused:
        schedule = sla.create_schedule(
            name="Office",
            time_zone="Asia/Shanghai",
            intervals=[
                {"start_time": d * day + 540, "end_time": d * day + 1080} for d in range(1, 6)
            ],
        )
        sla.load_china_holidays(schedule, years=[2026])
    metrics = {
        "first_reply_time": 60,
        "next_reply_time": 120,
        "requester_wait_time": 960,
        "agent_work_time": 960,
    }
    policy_metrics = [
        {"priority": p, "metric": m, "target": t, "business_hours": True}
        for p in ("low", "normal", "high", "urgent")
        for m, t in metrics.items()
    ]
    start = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    if reused:
        print(f"started from {kept} ({Ticket.objects.count()} tickets)")
    else:
        sla.create_policy(title="Standard", filter={}, policy_metrics=policy_metrics)
        created = time.perf_counter()
        with hooks.paused(), clock.frozen_at(start):
            for n in range(args.tickets):
                create_ticket(
                    actor=customer,
                    data=TicketData(subject=f"Ticket {n}", priority="normal"),
                    comment=NewComment(body="Help"),
                )
        print(f"created {args.tickets} tickets in {time.perf_counter() - created:.1f} s (no hooks)")
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(data_dir / "kefu.sqlite3", kept)

    if started_evaluated:
        done = Ticket.objects.count()
        print(f"started from the kept database after its first evaluation ({done} tickets)")
    else:
        # (b) re-evaluate every open ticket (the first evaluation of each: the costliest case).
        with clock.frozen_at(start + dt.timedelta(hours=1)):
            began = timer()
            done = sla.reevaluate_tickets(open_only=True)
            took = timer() - began
        print(
            f"(b) reevaluate_tickets: {done} tickets in {took:.1f} s "
            f"({took / max(done, 1) * 1000:.2f} ms per ticket; "
            f"100,000 would take ~{took / max(done, 1) * 100_000:.0f} s)"
        )
        with clock.frozen_at(start + dt.timedelta(hours=1)):
            began = timer()
            sla.reevaluate_tickets(open_only=True)
            again = timer() - began
        print(
            f"    again, nothing changed: {again:.1f} s "
            f"({again / max(done, 1) * 1000:.2f} ms/ticket)"
        )
        if args.keep:
            if args.database_url:
                keep_postgres(args.database_url, args.tickets)
            else:
                evaluated = kept_copy(args, evaluated=True)
                assert evaluated is not None
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                shutil.copyfile(data_dir / "kefu.sqlite3", evaluated)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # a running database has statistics

    if args.workers:
        time_workers(args, start + dt.timedelta(hours=1), 0)
        print(f"machine: {machine_figure()}; load average {os.getloadavg()[0]:.2f}")
        if args.only_workers:
            return

    # (b2) a policy's targets change: every open ticket gets new deadlines (no new audits).
    # With --cpu the profile counts CPU time too (its default clock is the wall clock).
    profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    figures: list[float] = []
    for turn in range(args.repeat):
        policy = SlaPolicy.objects.get()
        factor = 2 if turn % 2 == 0 else 0.5
        sla.update_policy(
            policy,
            policy_metrics=[
                {**m, "target": round(m["target"] * factor)} for m in policy.policy_metrics
            ],
        )
        with clock.frozen_at(start + dt.timedelta(hours=1)):
            wall = time.perf_counter()
            began = timer()
            if args.profile:
                profiler.enable()
            # What the task after a policy change runs (tasks.reevaluate_open_tickets).
            sla.reevaluate_tickets(open_only=True, ticket_metrics=False)
            profiler.disable()
            changed = timer() - began
            wall = time.perf_counter() - wall
        figures.append(changed / max(done, 1) * 1000)
        print(
            f"(b2) after a target change: {changed:.2f} s "
            f"({changed / max(done, 1) * 1000:.3f} ms/ticket; "
            f"100,000 would take ~{changed / max(done, 1) * 100_000:.0f} s)"
            + (f"; wall clock {wall:.2f} s" if args.cpu else "")
            + (" under cProfile" if args.profile else "")
        )
    if args.repeat > 1:
        print(
            f"(b2) median of {args.repeat}: {statistics.median(figures):.3f} ms/ticket "
            f"(~{statistics.median(figures) * 100:.0f} s per 100,000)"
        )
    if args.profile:
        stats = io.StringIO()
        pstats.Stats(profiler, stream=stats).sort_stats("tottime").print_stats(12)
        cumulative = pstats.Stats(profiler, stream=stats).sort_stats("cumulative")
        cumulative.print_stats(args.profile_lines)
        print("\n".join(line for line in stats.getvalue().splitlines() if line.strip()))

    # (a) an agent's public reply, with and without the SLA hook.
    tickets = list(Ticket.objects.order_by("pk")[: args.runs * 2])
    with_hook: list[float] = []
    without_hook: list[float] = []
    evaluate_only: list[float] = []
    at = start + dt.timedelta(hours=2)
    for index, ticket in enumerate(tickets):
        at += dt.timedelta(seconds=1)
        with clock.frozen_at(at):
            began = timer()
            if index % 2:
                update_ticket(ticket, actor=agent, comment=NewComment(body="Reply"))
                with_hook.append((timer() - began) * 1000)
                began = timer()
                sla.evaluate_ticket(ticket)
                evaluate_only.append((timer() - began) * 1000)
            else:
                # Every other hook (rules, notifications, email) still runs: the difference
                # is what the SLA hook adds. (Bench-only use of the registry's internals.)
                sla_hook = hooks._hooks.pop("sla.evaluate")
                try:
                    began = timer()
                    update_ticket(ticket, actor=agent, comment=NewComment(body="Reply"))
                    without_hook.append((timer() - began) * 1000)
                finally:
                    hooks._hooks["sla.evaluate"] = sla_hook
    print(
        f"(a) update_ticket p50 {statistics.median(with_hook):.2f} ms with the SLA hook, "
        f"{statistics.median(without_hook):.2f} ms without: "
        f"+{statistics.median(with_hook) - statistics.median(without_hook):.2f} ms p50 "
        "(all other hooks run in both); "
        f"evaluate_ticket alone p50 {statistics.median(evaluate_only):.2f} ms, "
        f"p99 {pct(evaluate_only, 99):.2f} ms"
    )

    # (c) the scan for due warnings and breaches reads only the tickets whose due time has
    # come, through the partial index on the ticket's SLA state.
    due = (
        SlaTicketState.objects.filter(next_event_at__lte=start)
        .order_by("next_event_at")
        .values_list("ticket_id", flat=True)[:500]
    )
    print("(c) breach scan plan:", due.explain())
    with clock.frozen_at(start + dt.timedelta(hours=1)):
        began = time.perf_counter()
        sla.record_due_events()
        print(
            f"    record_due_events with nothing due: {(time.perf_counter() - began) * 1000:.2f} ms"
            f" over {SlaMetricState.objects.count()} metric rows"
        )


if __name__ == "__main__":
    main()
