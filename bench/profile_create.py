#!/usr/bin/env python
"""Where one API ticket create's time goes: CPU ms and SQL queries per ``POST tickets``
through the whole Django stack (middleware, auth, parsing, the action and its hooks, the
answer), in one process with no network. For the create side of bench/RESULTS.md; relative
costs are what it is for, so it runs fine on a shared machine.

    .venv/bin/python bench/profile_create.py [--creates 300] [--database-url postgres://...]
        [--top 30] [--data-dir DIR]

The database gets a small demo (200 customers, 500 tickets) the first time; the default
triggers (the requester's "received" email, the group's notification) stay on, as shipped.
"""

import argparse
import asyncio
import base64
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--dump", help="write the cProfile stats to this file")
    parser.add_argument("--kind", choices=["create", "show", "list"], default="create",
                        help="POST tickets, GET tickets/{id} or a page of 100")  # fmt: skip
    args = parser.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="kefu-profile-create-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    os.environ.update(
        KEFU_DATA_DIR=str(data_dir), KEFU_DATABASE_URL=url, KEFU_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kefu.settings", KEFU_EMAIL_URL="console://",
        KEFU_API_RATE_LIMIT=str(10**9), KEFU_DEBUG="false",
    )  # fmt: skip
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
    from django.core.management import call_command
    from django.db import connection

    from kefu import demo
    from kefu.accounts import actions as accounts
    from kefu.accounts.models import User
    from kefu.tickets.models import Ticket

    call_command("migrate", interactive=False, verbosity=0)
    admin = User.objects.filter(role="admin").order_by("id").first()
    if admin is None:
        admin = accounts.create_user(name="Bench", email="bench@kefu.test", role="admin")
    if not Ticket.objects.exists():
        demo.generate(customers=200, tickets=500)
    _r, token = accounts.create_api_token(user=admin, description="profile")
    auth = base64.b64encode(f"{admin.email}/token:{token}".encode()).decode()
    customers = list(User.objects.filter(role="end-user").values_list("id", flat=True)[:200])
    from kefu.asgi import application

    loop = asyncio.new_event_loop()

    def post(path: str, body: bytes | None, query: bytes = b"") -> tuple[int, bytes]:
        """One request through Kefu's ASGI application, as uvicorn hands it over."""
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST" if body is not None else "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(),
            "query_string": query, "root_path": "", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Basic {auth}".encode()),
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body or b"")).encode())],
        }  # fmt: skip
        sent = False
        answer: dict = {"status": 0, "body": b""}

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body or b"", "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        loop.run_until_complete(application(scope, receive, send))
        return answer["status"], answer["body"]

    ticket_ids = list(Ticket.objects.values_list("id", flat=True)[:500])

    def show(n: int) -> None:
        status, content = post(f"/api/v2/tickets/{ticket_ids[n % len(ticket_ids)]}.json", None)
        if status != 200:
            raise SystemExit(f"{status} {content[:300]!r}")

    def page(n: int) -> None:
        after = ticket_ids[n % (len(ticket_ids) - 200)] if len(ticket_ids) > 200 else 0
        cursor = base64.urlsafe_b64encode(json.dumps([after]).encode()).decode().rstrip("=")
        status, content = post(
            "/api/v2/tickets.json", None, f"page[size]=100&page[after]={cursor}".encode()
        )
        if status != 200:
            raise SystemExit(f"{status} {content[:300]!r}")

    def create(n: int) -> None:
        if args.kind == "show":
            return show(n)
        if args.kind == "list":
            return page(n)
        body = json.dumps({"ticket": {
            "subject": f"Profile {n} 打印机坏了",
            "comment": {"body": "The printer on floor 3 is on fire. 请尽快处理。"},
            "requester_id": customers[n % len(customers)],
            "priority": "normal", "tags": ["bench"],
        }})  # fmt: skip
        status, content = post("/api/v2/tickets.json", body.encode())
        if status != 201:
            raise SystemExit(f"{status} {content[:300]!r}")

    for n in range(20):  # warm up: caches, compiled templates, the first connection
        create(n)
    # Count statements in whichever thread runs the request (ASGI hands it to a worker thread).
    from django.db.backends import utils

    queries: list[str] = []
    original = utils.CursorWrapper._execute_with_wrappers

    def counted(self, sql, params, many, executor):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return original(self, sql, params, many, executor)

    utils.CursorWrapper._execute_with_wrappers = counted  # type: ignore[method-assign]
    create(10**6)
    utils.CursorWrapper._execute_with_wrappers = original  # type: ignore[method-assign]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler = cProfile.Profile() if args.top or args.dump else None
    if profiler:
        profiler.enable()
    for n in range(args.creates):
        create(100 + n)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"database: {connection.vendor}; creates: {args.creates}")
    print(
        f"CPU per create: {cpu / args.creates * 1000:.2f} ms"
        f"{' (under cProfile)' if profiler else ''}; wall {wall / args.creates * 1000:.2f} ms"
    )
    print(f"SQL queries per create: {len(queries)}")
    if os.environ.get("SHOW_SQL"):
        for sql in queries:
            print("  ", sql[:160])
    if profiler and args.dump:
        profiler.dump_stats(args.dump)
    if profiler and args.top:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
