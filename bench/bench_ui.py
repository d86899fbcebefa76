#!/usr/bin/env python
"""Agent UI benchmark (issue 4): server-side render time of the agent's screens at 100k tickets.

Not a test: it prints figures for bench/RESULTS.md. It reuses the foundation benchmark's set-up
(fresh database, ``kefu.demo`` data, ``ANALYZE``) and measures full requests through Django's
test client — middleware, session, permission scopes, queries and template rendering; no
network, no browser.

    .venv/bin/python bench/bench_ui.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_ui.py --data-dir /tmp/kefu-bench --keep   # keep the data
    .venv/bin/python bench/bench_ui.py --data-dir /tmp/kefu-bench --no-reset  # reuse it
    .venv/bin/python bench/bench_ui.py \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_bench_ui

Measured for a Tier 1 agent (one group) and for an admin: each shared view's first page
(30 tickets), the sidebar counts, the ticket page of a 50-comment ticket and its history.
Target (issue 4): view list and ticket page < 50 ms p50.
"""

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_foundation as foundation

TARGET_MS = 50.0


def measure(name: str, fn: Any, runs: int) -> tuple[str, float, float, float, int]:
    """p50/p99 wall time and p50 CPU time (this process) in ms, and the response size.

    CPU time is reported beside wall time because the machine is shared: under load the wall
    clock also counts time spent waiting for a core."""
    import statistics

    for _ in range(foundation.WARMUP_RUNS):
        fn()
    wall, cpu = [], []
    size = 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        size = len(fn())
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    p99 = statistics.quantiles(wall, n=100, method="inclusive")[98]
    return name, statistics.median(wall), p99, statistics.median(cpu), size


def bench_pages(runs: int, comments: int) -> list[tuple[str, float, float, float, int]]:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from kefu.accounts.models import User
    from kefu.tickets.access import visible_views

    agent = User.objects.get(email=foundation.BENCH_AGENT_EMAIL)
    admin = User.objects.get(email=foundation.BENCH_ADMIN_EMAIL)
    ticket = foundation.build_detail_ticket(comments)
    timings = []
    for label, user in (("agent", agent), ("admin", admin)):
        client = Client()
        client.force_login(user)

        def get(url: str, client: Client = client) -> Any:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response.content

        def next_of(view: Any, user: Any, client: Client = client) -> Any:
            """The j key on the 30th ticket of the view: the server finds the 31st."""
            from kefu.tickets import actions

            last = actions.view_tickets(view, user=user).values_list("id", flat=True)[29]
            url = reverse("tickets:neighbour", args=[last]) + f"?view={view.pk}&pos=29&step=1"

            def go() -> Any:
                response = client.get(url)
                assert response.status_code == 302, (url, response.status_code)
                return response["Location"]

            return go

        views = list(visible_views(user).filter(active=True).order_by("position", "title"))
        for view in views:
            url = reverse("tickets:view", args=[view.pk])
            timings.append(
                measure(f"{label} — view list: {view.title}", lambda u=url: get(u), runs)
            )
        timings.append(
            measure(f"{label} — next ticket (j), end of page 1", next_of(views[0], user), runs)
        )
        counts = reverse("tickets:view_counts")

        def uncached(u: str = counts) -> Any:
            cache.clear()
            return get(u)

        timings.append(
            measure(f"{label} — sidebar counts, first poll (computed)", uncached, max(5, runs // 5))
        )
        timings.append(
            measure(f"{label} — sidebar counts, next polls (cached)", lambda u=counts: get(u), runs)
        )
        page = reverse("tickets:ticket", args=[ticket.pk])
        timings.append(
            measure(f"{label} — ticket page, {comments} comments", lambda u=page: get(u), runs)
        )
        history = reverse("tickets:history", args=[ticket.pk])
        timings.append(
            measure(f"{label} — ticket history, {comments} changes", lambda u=history: get(u), runs)
        )
    return timings


def main(argv: list[str] | None = None) -> int:
    args = foundation.parse_args(argv)
    os.environ.setdefault("KEFU_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    data_dir, temporary = foundation.configure(args)
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        seconds = foundation.generate(args)
        foundation.analyze(args)
        print("\n".join(["", *foundation.environment()]))
        if seconds is not None:
            print(f"\nDemo data: {args.tickets:,} tickets in {seconds:.1f}s")
        print(
            f"\nAgent UI over {args.tickets:,} tickets: full requests through the test client "
            f"(target: view list and ticket page < {TARGET_MS:.0f} ms p50)\n"
        )
        print("| request | p50 ms | p99 ms | p50 CPU ms | HTML bytes |")
        print("|---|---:|---:|---:|---:|")
        for name, p50, p99, cpu, size in bench_pages(args.runs, args.comments):
            missed = " ⚠" if p50 > TARGET_MS and "counts" not in name else ""
            print(f"| {name}{missed} | {p50:.1f} | {p99:.1f} | {cpu:.1f} | {size:,} |")
    finally:
        if temporary and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"\n({time.perf_counter() - started:.0f}s)")
    sys.exit(code)
