#!/usr/bin/env python
"""Foundation benchmark (issue 2, part 8): demo data at scale, ticket creation, views, detail.

Not a test: it prints figures for bench/RESULTS.md. See bench/README.md for how to run it.

    .venv/bin/python bench/bench_foundation.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_foundation.py \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_bench  # dropped and recreated

Steps: migrate a fresh database, generate ``--tickets`` demo tickets with ``kefu.demo``, then
measure (a) ``create_ticket`` throughput, one ticket per transaction as the web does it;
(b) views' count and first page (25 tickets with requester, assignee and group) for an agent
and for an admin; (c) loading a ticket with 50 comments the way a ticket page would.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from kefu.accounts.models import User
    from kefu.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 25
WARMUP_RUNS = 3
TARGETS_MS = {"view page": 50.0, "detail": 20.0}
TARGET_CREATES_PER_SECOND = 300.0
# The persona the agent figures are for: a Tier 1 agent (one group), as most agents are.
BENCH_AGENT_EMAIL = "li.na@kefu-demo.example"
BENCH_ADMIN_EMAIL = "bench-admin@kefu-demo.example"


# --- Set-up -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="default: SQLite in the data dir; a postgres:// database is dropped and recreated",
    )
    parser.add_argument("--data-dir", help="KEFU_DATA_DIR (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--no-reset",
        action="store_true",
        help="PostgreSQL: keep the database; with --data-dir: reuse its SQLite file. Demo data "
        "is only generated when there are no tickets yet.",
    )
    parser.add_argument("--tickets", type=int, default=100_000, help="demo tickets (100,000)")
    parser.add_argument("--customers", type=int, default=1_000, help="demo customers (1,000)")
    parser.add_argument("--creates", type=int, default=1_000, help="create_ticket calls per kind")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per read measurement")
    parser.add_argument("--comments", type=int, default=50, help="comments on the detail ticket")
    parser.add_argument("--explain", action="store_true", help="print query plans of the views")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run ANALYZE on SQLite after generating (PostgreSQL is always analyzed)",
    )
    return parser.parse_args(argv)


def reset_postgres(url: str) -> None:
    """Drop and create the database named in ``url``, through the ``postgres`` database."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"Refusing to drop database {name!r}: name a throwaway database")
    maintenance = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure(args: argparse.Namespace) -> tuple[Path, bool]:
    """Point Kefu at the benchmark database (env vars only, as in production) and start Django.

    Returns the data dir and whether it is temporary.
    """
    temporary = args.data_dir is None
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="kefu-bench-")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    if url.startswith("sqlite") and not args.no_reset:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    if url.startswith("postgres") and not args.no_reset:
        reset_postgres(url)
    os.environ["KEFU_DATA_DIR"] = str(data_dir)
    os.environ["KEFU_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    # Appended: a PYTHONPATH export of another commit (an A/B pair's "before") must win.
    sys.path.append(str(ROOT / "src"))
    import django

    django.setup()
    # As a Kefu process starts (kefu.core.memory); absent from commits before 2026-12-07.
    try:
        from kefu.core.memory import freeze_startup
    except ImportError:
        pass
    else:
        freeze_startup()
    return data_dir, temporary


# --- Measuring --------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    p50: float
    p99: float
    queries: int
    rows: int | None = None


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def measure(name: str, fn: Callable[[], Any], runs: int) -> Timing:
    """p50/p99 of ``fn`` in ms over ``runs`` calls after a warm-up, and its query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP_RUNS):
        fn()
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    rows = (
        result if isinstance(result, int) else len(result) if hasattr(result, "__len__") else None
    )
    return Timing(name, percentile(samples, 50), percentile(samples, 99), len(captured), rows)


def print_timings(
    title: str, timings: list[Timing], *, target_ms: float, target_suffix: str = ""
) -> None:
    """A Markdown table; ⚠ marks a p50 over the target (for names ending ``target_suffix``)."""
    print(f"\n{title}\n")
    print("| measurement | p50 ms | p99 ms | queries | rows |")
    print("|---|---:|---:|---:|---:|")
    for t in timings:
        missed = " ⚠" if t.name.endswith(target_suffix) and t.p50 > target_ms else ""
        rows = "" if t.rows is None else f"{t.rows:,}"
        print(f"| {t.name}{missed} | {t.p50:.1f} | {t.p99:.1f} | {t.queries} | {rows} |")
    sys.stdout.flush()


# --- The steps --------------------------------------------------------------------------------


def generate(args: argparse.Namespace) -> float | None:
    """Demo data, as ``kefu run --demo`` makes it; returns seconds, None when it existed."""
    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role
    from kefu.demo import generate as generate_demo
    from kefu.tickets.models import Ticket

    if Ticket.objects.exists():
        print(f"Reusing the {Ticket.objects.count():,} tickets in the database.")
        return None
    # `kefu run` creates the first admin before the demo, so the demo's views are shared.
    accounts.create_user(name="Bench Admin", email=BENCH_ADMIN_EMAIL, role=Role.ADMIN)
    started = time.perf_counter()
    generate_demo(customers=args.customers, tickets=args.tickets, stdout=sys.stdout)
    return time.perf_counter() - started


def analyze(args: argparse.Namespace) -> None:
    """PostgreSQL's autovacuum would analyze the new tables within a minute; do it now so the
    figures do not depend on when it ran. SQLite never analyzes by itself (see --analyze)."""
    from django.db import connection

    if connection.vendor == "postgresql" or args.analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def bench_creates(count: int) -> list[tuple[str, float]]:
    """create_ticket as the portal (a customer) and as the agent UI, one transaction each."""
    from kefu.accounts.choices import Role
    from kefu.accounts.models import User
    from kefu.tickets.actions import NewComment, TicketData, create_ticket
    from kefu.tickets.choices import Channel, Priority

    customers = list(User.objects.filter(role=Role.END_USER).order_by("id")[:200])
    agent = User.objects.select_related("default_group").get(email=BENCH_AGENT_EMAIL)
    results = []

    started = time.perf_counter()
    for i in range(count):
        customer = customers[i % len(customers)]
        create_ticket(
            actor=customer,
            data=TicketData(subject=f"发票问题 Invoice question {i}", via_channel=Channel.PORTAL),
            comment=NewComment(
                body="您好，请问发票什么时候开具？\n\nWhen will the invoice be issued?"
            ),
        )
    results.append(("customer via portal", count / (time.perf_counter() - started)))

    started = time.perf_counter()
    for i in range(count):
        create_ticket(
            actor=agent,
            data=TicketData(
                subject=f"Phone call: delivery delayed {i}",
                requester=customers[i % len(customers)],
                assignee=agent,
                group=agent.default_group,
                priority=Priority.HIGH,
                tags=["phone", "delivery"],
            ),
            comment=NewComment(body="Customer called about a late parcel.", public=False),
        )
    results.append(("agent with assignee, group, tags", count / (time.perf_counter() - started)))
    return results


def bench_views(runs: int, *, explain: bool) -> list[Timing]:
    from kefu.accounts.models import User
    from kefu.tickets.actions import create_view, view_count, view_tickets
    from kefu.tickets.choices import Restriction
    from kefu.tickets.models import View

    admin = User.objects.get(email=BENCH_ADMIN_EMAIL)
    agent = User.objects.get(email=BENCH_AGENT_EMAIL)
    all_unsolved = View.objects.filter(title="Bench: all unsolved").first() or create_view(
        actor=admin,
        title="Bench: all unsolved",
        conditions={"all": [{"field": "status", "operator": "less_than", "value": "solved"}]},
        execution={"sort_by": "updated_at", "sort_order": "desc"},
    )
    views: list[tuple[str, View]] = [
        ("all unsolved, by updated", all_unsolved),
        ("unassigned, oldest first", View.objects.get(title="未分配 / Unassigned")),
        ("urgent", View.objects.get(title="紧急 / Urgent")),
        (
            "my open tickets",
            View.objects.get(title="我的待办 / My open tickets", restriction=Restriction.SHARED),
        ),
    ]

    def page(view: View, user: "User") -> list["Ticket"]:
        tickets = view_tickets(view, user=user).select_related("requester", "assignee", "group")
        return list(tickets[:PAGE_SIZE])

    timings = []
    for label, view in views:
        for who, user in (("agent", agent), ("admin", admin)):
            timings.append(
                measure(
                    f"{label} — {who} — count",
                    lambda v=view, u=user: view_count(v, user=u),  # type: ignore[misc]
                    runs,
                )
            )
            timings.append(
                measure(
                    f"{label} — {who} — first page",
                    lambda v=view, u=user: page(v, u),  # type: ignore[misc]
                    runs,
                )
            )
            if explain:
                tickets = view_tickets(view, user=user)
                related = tickets.select_related("requester", "assignee", "group")
                print_plan(f"{label} — {who} — first page", related[:PAGE_SIZE])
                print_plan(f"{label} — {who} — count", tickets.order_by())
    return timings


def print_plan(title: str, queryset: Any) -> None:
    from django.db import connection

    print(f"\n-- {title}\n{queryset.query}")
    if connection.vendor == "postgresql":
        print(queryset.explain(analyze=True, buffers=True))
    else:
        print(queryset.explain())


def build_detail_ticket(comments: int) -> "Ticket":
    """A long conversation written through the actions: replies, notes and attachments."""
    from kefu.accounts.models import User
    from kefu.tickets.actions import (
        NewComment,
        TicketData,
        add_comment,
        create_ticket,
        create_upload,
    )

    agent = User.objects.get(email=BENCH_AGENT_EMAIL)
    customer = User.objects.filter(role="end-user").order_by("id").first()
    assert customer is not None
    ticket = create_ticket(
        actor=customer,
        data=TicketData(subject="长对话 A long conversation"),
        comment=NewComment(body="第一条消息 First message"),
    )
    for i in range(1, comments):
        author = agent if i % 2 else customer
        attachments = []
        if i % 10 == 0:  # five files on a 50-comment ticket
            attachments = [
                create_upload(uploader=author, file_name=f"截图-{i}.png", content=b"\x89PNG" * 64)
            ]
        add_comment(
            ticket,
            actor=author,
            body=f"消息 {i}: message {i}",
            public=not (author == agent and i % 5 == 3),  # every fifth agent comment a note
            attachments=attachments,
        )
    return ticket


def load_ticket_page(user: "User", ticket_id: int) -> list[Any]:
    """What the ticket page needs: the ticket with its people, the comments the user may see
    with authors and attachments, and (agents) the audit trail with its events."""
    from kefu.tickets.access import visible_comments, visible_tickets

    # access_ticket's scope with the people the header shows, in one query.
    ticket = (
        visible_tickets(user)
        .select_related(
            "requester", "submitter", "assignee", "group", "organization", "custom_status"
        )
        .get(pk=ticket_id)
    )
    comments = list(
        visible_comments(user, ticket).select_related("author").prefetch_related("attachments")
    )
    audits = []
    if user.is_agent:
        audits = list(ticket.audits.select_related("author").prefetch_related("events"))
    followers = list(ticket.followers.all())
    ccs = list(ticket.email_ccs.all())
    return [ticket, *comments, *audits, *followers, *ccs]


def bench_detail(comments: int, runs: int) -> list[Timing]:
    from kefu.accounts.models import User

    ticket = build_detail_ticket(comments)
    agent = User.objects.get(email=BENCH_AGENT_EMAIL)
    requester = ticket.requester
    name = f"ticket with {comments} comments"
    return [
        measure(f"{name} — agent", lambda: load_ticket_page(agent, ticket.pk), runs),
        measure(f"{name} — requester", lambda: load_ticket_page(requester, ticket.pk), runs),
    ]


# --- Report -----------------------------------------------------------------------------------


def _command(*cmd: str) -> str:
    try:
        # Fixed commands (nproc, free) for the report header; no user input reaches them.
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        return result.stdout.strip()
    except OSError:
        return "?"


def environment() -> list[str]:
    import sqlite3

    import django
    from django.db import connection

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = _command("free", "-h").splitlines()
    database = f"SQLite {sqlite3.sqlite_version}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {_command('nproc')} CPUs ({cpu}), memory: "
        + (" ".join(memory[1].split()[1:2]) + " total" if len(memory) > 1 else "?"),
        f"- Python {platform.python_version()}, Django {django.get_version()}, {database}",
        f"- Command: {' '.join([Path(sys.executable).name, *sys.argv])}",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir, temporary = configure(args)
    try:
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(
            f"Migrated in {time.perf_counter() - started:.1f}s ({os.environ['KEFU_DATABASE_URL']})"
        )
        seconds = generate(args)
        analyze(args)
        print("\n".join(["", *environment()]))
        if seconds is not None:
            rate = args.tickets / seconds if seconds else 0
            print(
                f"\nDemo data: {args.tickets:,} tickets, {args.customers:,} customers in "
                f"{seconds:.1f}s ({rate:,.0f} tickets/s)"
            )

        from django.db import connection

        # The create target is for SQLite in one process; PostgreSQL has none here.
        on_sqlite = connection.vendor == "sqlite"
        target = "(target: 300/s on SQLite)" if on_sqlite else "(no target on PostgreSQL)"
        print(f"\n(a) create_ticket, one transaction per ticket {target}\n")
        print("| who creates | tickets/s |")
        print("|---|---:|")
        for label, per_second in bench_creates(args.creates):
            missed = " ⚠" if on_sqlite and per_second < TARGET_CREATES_PER_SECOND else ""
            print(f"| {label}{missed} | {per_second:,.0f} |")
        sys.stdout.flush()

        print_timings(
            f"(b) views over {args.tickets:,} tickets (target: first page < 50 ms)",
            bench_views(args.runs, explain=args.explain),
            target_ms=TARGETS_MS["view page"],
            target_suffix="first page",
        )
        print_timings(
            "(c) ticket page: ticket, comments + authors + attachments, audits + events "
            "(target < 20 ms)",
            bench_detail(args.comments, args.runs),
            target_ms=TARGETS_MS["detail"],
        )
    finally:
        if temporary and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        elif temporary:
            print(f"\nData kept in {data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
