#!/usr/bin/env python
"""Search and incremental-export benchmark (issue 3, part B) over the demo data.

Not a test: it prints figures for bench/RESULTS.md. Same set-up as bench_foundation.py
(``--database-url``, ``--data-dir``, ``--no-reset``, ``--tickets``):

    .venv/bin/python bench/bench_search.py --tickets 100000
    .venv/bin/python bench/bench_search.py --database-url postgres://postgres@127.0.0.1:5432/kefu_bench_search

Measures ``kefu.search.service.search`` (count + first page of 25, the API's work before
serializing) for an admin and a Tier 1 agent, ``search.count``, ``search.export`` pages, and
one 1,000-item page of each incremental export.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_foundation as base

QUERIES = [
    ("free text 退款 (subject, description, comments)", "退款"),
    ("phrase + status<solved", '"退款" status<solved'),
    ("type:ticket priority>=high status:open", "type:ticket priority>=high status:open"),
    ("type:ticket tags:vip", "type:ticket tags:vip"),
    ("type:ticket created>7days", "type:ticket created>7days"),
    ("assignee:none type:ticket", "assignee:none type:ticket"),
    ("type:user 王 (people)", "type:user 王"),
    ("no type: 王 (all kinds merged)", "王"),
]


def main(argv: list[str] | None = None) -> int:
    args = base.parse_args(argv)
    data_dir, temporary = base.configure(args)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seconds = base.generate(args)
    if seconds is not None:
        print(f"Demo data: {seconds:.1f} s")
    base.analyze(args)

    from kefu.accounts.models import User
    from kefu.exports import incremental
    from kefu.search import service

    admin = User.objects.get(email=base.BENCH_ADMIN_EMAIL)
    agent = User.objects.get(email=base.BENCH_AGENT_EMAIL)
    runs = max(5, args.runs // 5)
    for who, user in (("admin", admin), ("agent", agent)):
        timings = []
        for name, query in QUERIES:
            timings.append(
                base.measure(
                    f"{name} — page of 25",
                    lambda q=query, u=user: service.search(user=u, query=q, limit=25).hits,
                    runs,
                )
            )
            timings.append(
                base.measure(
                    f"{name} — count",
                    lambda q=query, u=user: service.count(user=u, query=q),
                    runs,
                )
            )
        base.print_timings(f"Search as {who} ({runs} runs)", timings, target_ms=1e9)

    exports = [
        base.measure(
            "search/export 退款, page of 100",
            lambda: service.export(user=admin, query="退款", result_type="ticket", size=100).hits,
            runs,
        ),
        base.measure(
            "incremental tickets, 1,000 from start_time=0",
            lambda: incremental.export_tickets(user=admin, start_time=0).items,
            runs,
        ),
        base.measure(
            "incremental users, 1,000",
            lambda: incremental.export_users(user=admin, start_time=0).items,
            runs,
        ),
        base.measure(
            "incremental ticket events + comments, 1,000",
            lambda: (
                incremental.export_ticket_events(
                    user=admin, start_time=0, include_comments=True
                ).items
            ),
            runs,
        ),
    ]
    base.print_timings(f"Exports ({runs} runs)", exports, target_ms=1e9)
    for line in base.environment():
        print(line)
    if temporary and not args.keep:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"\nTotal: {time.perf_counter() - started:.0f} s")
    raise SystemExit(code)
