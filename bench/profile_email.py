#!/usr/bin/env python
"""Where one inbound email's processing time goes (cProfile + SQL query counts), for the email
side of bench/RESULTS.md. Relative costs are what it is for: it runs fine on a shared machine.

    .venv/bin/python bench/profile_email.py [--messages 200] [--database-url postgres://...]

Stores ``--messages`` new-ticket messages (distinct senders, Chinese subjects, HTML + text,
acknowledgement on) and as many replies threading by In-Reply-To, then processes them inline
(no worker) under cProfile. Prints ms and queries per message for each kind, and the cumulative
time of the email channel's own steps vs. the tickets actions they call.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEPS = [
    ("kefu/channels/email/inbound.py", "process_inbound"),
    ("kefu/channels/email/parsing.py", "parse_email"),
    ("kefu/channels/email/inbound.py", "_person"),
    ("kefu/crm/actions.py", "create_end_user_with_email"),
    ("kefu/channels/email/inbound.py", "_thread"),
    ("kefu/channels/email/inbound.py", "_over_rate_limit"),
    ("kefu/channels/email/inbound.py", "_comment"),
    ("kefu/channels/email/inbound.py", "_cc_people"),
    ("kefu/tickets/actions/tickets.py", "create_ticket"),
    ("kefu/tickets/actions/tickets.py", "update_ticket"),
    ("kefu/channels/email/outbound.py", "queue_acknowledgement"),
    ("kefu/channels/email/outbound.py", "_create"),
    ("kefu/channels/email/rendering.py", "ticket_context"),
    ("kefu/channels/email/rendering.py", "render_text"),
    ("kefu/channels/email/rendering.py", "render_html"),
    ("kefu/channels/email/addresses.py", "find_support_address"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-profile-email-"))
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    sys.path.insert(0, str(ROOT / "bench"))
    if url.startswith("postgres"):
        from bench_email import reset_postgres

        reset_postgres(url)
    os.environ.update(
        KEFU_DATA_DIR=str(data_dir), KEFU_DATABASE_URL=url, KEFU_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kefu.settings", KEFU_EMAIL_URL="console://",
    )  # fmt: skip
    # Appended: a PYTHONPATH export of another commit (an A/B pair's "before") must win.
    sys.path.append(str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from bench_email import message

    from kefu.channels.email import actions
    from kefu.channels.email.models import InboundMessage

    actions.create_support_address(email="support@kefu.bench")
    actions.update_email_settings(sender_rate_limit=0)

    def store(raws: list[bytes]) -> list[int]:
        ids = []
        for raw in raws:
            [row] = actions.store_inbound(raw=raw, recipients=["support@kefu.bench"])
            ids.append(row.pk)
        # No worker runs: processing happens below, inline, under the profiler.
        return ids

    def cpu(kind: str, ids: list[int]) -> None:
        """Without the profiler: CPU time per message (this process), which a loaded machine
        changes much less than wall-clock time."""
        started, wall = time.process_time(), time.perf_counter()
        for pk in ids:
            actions.process_inbound(pk)
        per = (time.process_time() - started) / len(ids) * 1000
        print(
            f"{kind}, not profiled: {per:.1f} ms CPU per message "
            f"({(time.perf_counter() - wall) / len(ids) * 1000:.1f} ms wall)"
        )

    def run(kind: str, ids: list[int]) -> None:
        profile = cProfile.Profile()
        queries: list[str] = []

        def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            profile.enable()
            for pk in ids:
                actions.process_inbound(pk)
            profile.disable()
            elapsed = time.perf_counter() - started
        states = set(InboundMessage.objects.filter(pk__in=ids).values_list("state", flat=True))
        print(
            f"{kind}: {len(ids)} messages, {elapsed / len(ids) * 1000:.1f} ms and "
            f"{len(queries) / len(ids):.1f} SQL queries per message (profiled), states {states}"
        )
        stats = pstats.Stats(profile)
        total = stats.total_tt  # type: ignore[attr-defined]
        for path, name in STEPS:
            found = [
                (key, value)
                for key, value in stats.stats.items()  # type: ignore[attr-defined]
                if key[0].endswith(path) and key[2] == name
            ]
            if found:
                cumulative = sum(value[3] for _key, value in found)
                calls = sum(value[1] for _key, value in found)
                print(
                    f"  {name:24} {cumulative / len(ids) * 1000:7.2f} ms/msg "
                    f"({cumulative / total * 100:4.1f} %, {calls / len(ids):.1f} calls/msg)"
                )
        if args.top:
            stats.sort_stats("cumulative").print_stats(args.top)

    # Warm up (URL resolver, compiled templates, the configuration), as in a running worker.
    for pk in store([message(n, prefix="warm") for n in range(5)]):
        actions.process_inbound(pk)
    new = [message(n) for n in range(args.messages)]
    cpu(
        "new tickets (+ acknowledgement)",
        store([message(n, prefix="cpu") for n in range(args.messages)]),
    )
    run("new tickets (+ acknowledgement)", store(new))
    replies = [
        message(n, prefix="re")
        .replace(b"MIME-Version", f"In-Reply-To: <m{n}@bench.example>\r\nMIME-Version".encode())
        .replace(f"re{n}@bench.example>\r\nTo".encode(), f"m{n}@bench.example>\r\nTo".encode())
        for n in range(args.messages)
    ]
    cpu("replies threading by In-Reply-To", store(replies[: len(replies) // 2]))
    run("replies threading by In-Reply-To", store(replies[len(replies) // 2 :]))


if __name__ == "__main__":
    main()
