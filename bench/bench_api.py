#!/usr/bin/env python
"""API benchmark (issue 3): ticket show, list 100 and create over HTTP, concurrent clients.

Not a test: it prints figures for bench/RESULTS.md. See bench/README.md.

    .venv/bin/python bench/bench_api.py --data-dir /tmp/kefu-bench-api            # SQLite
    .venv/bin/python bench/bench_api.py --data-dir /tmp/kefu-bench-api-pg \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_bench_api           # PostgreSQL

Steps: migrate, generate ``--tickets`` demo tickets with ``kefu demo`` when the database has
none (``--reset`` starts over), make an admin API token, start the production server
(``kefu web --workers N``, DEBUG off, rate limit out of the way) on 127.0.0.1, then run
``--clients`` client processes, each with one keep-alive connection:
(a) ``GET tickets/{id}`` for random ids; (b) ``GET tickets?page[size]=100`` from random
cursors (100 tickets per page); (c) ``POST tickets`` (subject, comment, requester, tags) —
reporting p50/p99 latency and, for creates, tickets per second.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
KEFU = str(Path(sys.executable).parent / "kefu")
TARGETS = {"show": 10.0, "list": 50.0}
TARGET_CREATES = {"sqlite": 250.0, "postgresql": 400.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite in the data dir")
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "kefu-bench-api"),
        help="KEFU_DATA_DIR (kept between runs so the demo data is made once)",
    )  # fmt: skip
    parser.add_argument("--reset", action="store_true", help="start from an empty database")
    parser.add_argument("--tickets", type=int, default=100_000, help="demo tickets (100,000)")
    parser.add_argument("--workers", type=int, default=2, help="kefu web --workers (2)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    parser.add_argument("--requests", type=int, default=500, help="requests per client/kind")
    parser.add_argument("--creates", type=int, default=250, help="creates per client")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument(
        "--only", default="show,list,create", help="which requests, comma-separated (all three)"
    )
    return parser.parse_args(argv)


def kefu(*args: str, env: dict[str, str], capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 - our own command
        [KEFU, *args], env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else None,
    )  # fmt: skip
    return result.stdout or ""


def ensure_postgres(url: str, *, reset: bool) -> None:
    """Create the bench database if it is missing (``reset``: drop it first)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"Refusing to drop database {name!r}")
    maintenance = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if reset:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare(args: argparse.Namespace) -> tuple[dict[str, str], dict]:
    """Database with demo data; returns the server's environment and the bench's facts."""
    data_dir = Path(args.data_dir).resolve()
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    if url.startswith("postgres"):
        ensure_postgres(url, reset=args.reset)
    if args.reset:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_DATABASE_URL": url,
        "KEFU_DEBUG": "false",
        "KEFU_API_RATE_LIMIT": str(10**9),
        "KEFU_LOG_LEVEL": "WARNING",
        "KEFU_BASE_URL": f"http://127.0.0.1:{args.port}",
    }
    kefu("migrate", env=env)
    facts = read_facts(env)
    if facts["tickets"] < args.tickets:
        started = time.perf_counter()
        kefu("demo", "--tickets", str(args.tickets - facts["tickets"]), env=env)
        print(f"Demo data in {time.perf_counter() - started:.0f}s", flush=True)
        facts = read_facts(env)
    return env, facts


def read_facts(env: dict[str, str]) -> dict:
    # Django's shell first prints how many objects it imported; the JSON is the last line.
    output = kefu("manage", "shell", "-c", FACTS_SCRIPT, env=env, capture=True)
    return json.loads(output.strip().splitlines()[-1])


# Runs inside `kefu manage shell`: a token for the first admin, and what the clients need.
FACTS_SCRIPT = """
import json
from django.db import connection
from kefu.accounts import actions
from kefu.accounts.models import User
from kefu.tickets.models import Ticket
admin = User.objects.filter(role="admin").order_by("id").first()
if admin is None:
    admin = actions.create_user(name="Bench", email="bench@kefu.test", role="admin")
_r, token = actions.create_api_token(user=admin, description="bench")
ids = list(Ticket.objects.filter(deleted_at__isnull=True).values_list("id", flat=True))
customers = list(User.objects.filter(role="end-user").values_list("id", flat=True)[:500])
database = connection.vendor
print(json.dumps({"email": admin.email, "token": token, "tickets": len(ids),
                  "max_id": max(ids or [0]), "min_id": min(ids or [0]),
                  "customers": customers, "database": database}))
"""


def start_server(args: argparse.Namespace, env: dict[str, str]) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - our own command
        [KEFU, "web", "--host", "127.0.0.1", "--port", str(args.port),
         "--workers", str(args.workers)],
        env=env,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz") as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def client(job: dict) -> tuple[list[float], float]:
    """One client process: ``job["count"]`` requests of one kind on a keep-alive connection.
    Returns the latencies (ms) and the wall time (s)."""
    rng = random.Random(job["seed"])
    auth = base64.b64encode(f"{job['email']}/token:{job['token']}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", job["port"], timeout=60)
    latencies = []
    started = time.perf_counter()
    for n in range(job["count"]):
        body = None
        if job["kind"] == "show":
            method, path = (
                "GET",
                f"/api/v2/tickets/{rng.randint(job['min_id'], job['max_id'])}.json",
            )
        elif job["kind"] == "list":
            after = rng.randint(job["min_id"], job["max_id"] - 200)
            cursor = base64.urlsafe_b64encode(json.dumps([after]).encode()).decode().rstrip("=")
            method, path = "GET", f"/api/v2/tickets.json?page[size]=100&page[after]={cursor}"
        else:
            method, path = "POST", "/api/v2/tickets.json"
            body = json.dumps({"ticket": {
                "subject": f"Bench {job['seed']}-{n} 打印机坏了",
                "comment": {"body": "The printer on floor 3 is on fire. 请尽快处理。"},
                "requester_id": rng.choice(job["customers"]),
                "priority": "normal", "tags": ["bench"],
            }})  # fmt: skip
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        if job["kind"] == "list" and len(json.loads(payload)["tickets"]) != 100:
            raise RuntimeError("a list page without 100 tickets")
    conn.close()
    return latencies, time.perf_counter() - started


def run(
    kind: str, args: argparse.Namespace, facts: dict, count: int, *, server: subprocess.Popen
) -> tuple[list[float], float, tuple[float, float]]:
    """Latencies (ms), wall time (s) and the server's and database's CPU ms per request."""
    jobs = [
        {"kind": kind, "count": count, "seed": i + 1, "port": args.port, **{
            k: facts[k] for k in ("email", "token", "min_id", "max_id", "customers")}}
        for i in range(args.clients)
    ]  # fmt: skip
    # a short warm-up so every server process has its connections and caches
    warm = [{**job, "count": 10, "seed": 1000 + i} for i, job in enumerate(jobs)]
    with multiprocessing.Pool(args.clients) as pool:
        pool.map(client, warm)
        before = cpu_snapshot(server, args.database_url)
        started = time.perf_counter()
        results = pool.map(client, jobs)
        wall = time.perf_counter() - started
        after = cpu_snapshot(server, args.database_url)
    total = count * args.clients
    cpu = tuple((b - a) * 1000 / total for a, b in zip(before, after, strict=True))
    return [ms for latencies, _ in results for ms in latencies], wall, cpu  # type: ignore[return-value]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _database_pids(url: str | None) -> list[int]:
    """The PostgreSQL backends serving the bench database (same machine), or []."""
    if not url or not url.startswith("postgres"):
        return []
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_snapshot(server: subprocess.Popen, url: str | None) -> tuple[float, float]:
    """CPU seconds so far of the server's processes and of the database's backends."""
    web = sum(_cpu_seconds(pid) for pid in [server.pid, *_children(server.pid)])
    database = sum(_cpu_seconds(pid) for pid in _database_pids(url))
    return web, database


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def environment(facts: dict, args: argparse.Namespace) -> list[str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = os.getloadavg()
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average before the run "
        f"{load[0]:.1f} / {load[1]:.1f} (other helpers were running test suites)",
        f"- Machine: {os.cpu_count()} CPUs ({cpu}); Python {platform.python_version()}",
        f"- Database: {facts['database']}, {facts['tickets']:,} tickets",
        f"- Server: `kefu web --workers {args.workers}` (uvicorn, ASGI, DEBUG off) on "
        f"127.0.0.1; {args.clients} client processes, one keep-alive connection each, "
        "HTTP Basic token auth on every request",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env, facts = prepare(args)
    print("\n".join(environment(facts, args)), flush=True)
    server = start_server(args, env)
    try:
        rows = []
        for kind, label, count in (
            ("show", "ticket show `GET tickets/{id}`", args.requests),
            ("list", "list 100 `GET tickets?page[size]=100`", args.requests // 2),
            ("create", "create `POST tickets`", args.creates),
        ):
            if kind not in args.only.split(","):
                continue
            latencies, wall, cpu = run(kind, args, facts, count, server=server)
            rate = len(latencies) / wall
            rows.append((kind, label, latencies, rate, cpu))
            print(f"  {kind}: {len(latencies)} requests in {wall:.1f}s", flush=True)
        print(
            "\n| request | requests | p50 ms | p99 ms | mean ms | requests/s "
            "| server CPU ms/req | database CPU ms/req | target |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for kind, label, latencies, rate, cpu in rows:
            if kind == "create":
                target_rate = TARGET_CREATES[facts["database"]]
                target = f"≥ {target_rate:.0f}/s {'✓' if rate >= target_rate else '✗'}"
            else:
                p50 = statistics.median(latencies)
                target = f"p50 < {TARGETS[kind]:.0f} ms {'✓' if p50 < TARGETS[kind] else '✗'}"
            print(
                f"| {label} | {len(latencies)} | {statistics.median(latencies):.1f} | "
                f"{percentile(latencies, 99):.1f} | {statistics.fmean(latencies):.1f} | "
                f"{rate:.0f} | {cpu[0]:.2f} | {cpu[1]:.2f} | {target} |"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
