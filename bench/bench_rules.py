#!/usr/bin/env python
"""Rules benchmark (issue 6): trigger evaluation cost per update with 500 active triggers, an
automation pass over many tickets, routing 1,000 queued tickets across 50 agents.

Not a test: it prints figures for bench/RESULTS.md.

    .venv/bin/python bench/bench_rules.py                           # SQLite in a temp dir
    .venv/bin/python bench/bench_rules.py --tickets 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/kefu_bench_rules  # dropped, recreated

(a) p50 of ``update_ticket`` (an agent's reply + priority change) with 0 and with 500 active
    triggers (none of which match, so every update evaluates all 500 — the worst case; plus one
    run where 5 of them fire);
(b) ``--tickets`` tickets inserted in bulk (bench data, not through actions), one in
    ``--matching-every`` (100) of them pending for three days; one automation ("pending >
    48 h and not reminded -> tag") run over all of them: time, and how many tickets changed
    (must equal the matching ones);
(c) 1,000 unassigned tickets queued in a group (created without hooks, then given the SLA
    state their create hooks would have made, unless ``--no-sla-state``), 50 agents come
    online (capacity 20): time to route the whole queue (``drain_queue``), wall and CPU, the
    queries it made, and the loads afterwards.
"""

import argparse
import cProfile
import datetime as dt
import os
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
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets for (b)")
    parser.add_argument("--triggers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=200, help="timed updates per measurement")
    parser.add_argument("--queue", type=int, default=1_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument(
        "--matching-every", type=int, default=100, help="(b): one ticket in N matches"
    )
    parser.add_argument(
        "--no-sla-state",
        action="store_true",
        help="(c): leave the queued tickets without SLA state (as before 2026-12-07)",
    )
    parser.add_argument(
        "--only",
        choices=["triggers", "routing", "automation"],
        help="run only (a) triggers, (c) routing or (b) automation",
    )
    return parser.parse_args()


def reset_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"Refusing to drop database {name!r}")
    maintenance = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://")
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def configure(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-rules-"))
    url = args.database_url or f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    if url.startswith("postgres"):
        reset_postgres(url)
    os.environ["KEFU_DATA_DIR"] = str(data_dir)
    os.environ["KEFU_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    os.environ.setdefault("KEFU_LOG_LEVEL", "ERROR")
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

    call_command("migrate", verbosity=0)
    # Start from an empty rule set (the default triggers would send notifications).
    from kefu.rules.models import Automation, Trigger

    Trigger.objects.all().delete()
    Automation.objects.all().delete()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_triggers(args: argparse.Namespace) -> None:
    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role
    from kefu.rules import actions as rules
    from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket

    group = accounts.create_group(name="Bench support")
    agent = accounts.create_user(
        name="Agent", email="agent@bench.test", role=Role.AGENT, groups=[group]
    )
    admin = accounts.create_user(name="Admin", email="admin@bench.test", role=Role.ADMIN)
    customer = accounts.create_user(name="Customer", email="customer@bench.test")
    tickets = [
        create_ticket(
            actor=customer,
            data=TicketData(subject=f"Ticket {n}"),
            comment=NewComment(body="Help"),
        )
        for n in range(args.runs * 3)
    ]

    def timed(batch: list) -> list[float]:
        samples = []
        for index, ticket in enumerate(batch):
            began = time.perf_counter()
            update_ticket(
                ticket,
                actor=agent,
                data=TicketData(priority=("low", "normal", "high")[index % 3]),
                comment=NewComment(body="Reply", public=False),
            )
            samples.append(time.perf_counter() - began)
        return samples

    without = timed(tickets[: args.runs])
    # Realistic mixes of ticket and change conditions, none of which match these updates.
    kinds = [
        [{"field": "status", "operator": "changed_to", "value": "solved"}],
        [{"field": "subject", "operator": "includes", "value": "zzz-{n}"}],
        [{"field": "current_tags", "operator": "includes", "value": "vip-{n}"},
         {"field": "priority", "operator": "is", "value": "urgent"}],
        [{"field": "update_type", "operator": "is", "value": "Create"},
         {"field": "via_id", "operator": "is", "value": "email"}],
        [{"field": "comment_is_public", "operator": "is", "value": True},
         {"field": "role", "operator": "is", "value": "end_user"}],
    ]  # fmt: skip
    for n in range(args.triggers):
        conditions = [
            {**c, "value": c["value"].format(n=n) if isinstance(c["value"], str) else c["value"]}
            for c in kinds[n % len(kinds)]
        ]
        rules.create_trigger(
            actor=admin,
            title=f"Trigger {n}",
            conditions={"all": conditions},
            actions=[{"field": "current_tags", "value": f"t{n}"}],
        )
    timed(tickets[args.runs : args.runs + 5])  # warm the compiled-trigger cache
    with_triggers = timed(tickets[args.runs + 5 : args.runs * 2])
    # Five triggers that do fire on every update (each: one more rule update).
    for n in range(5):
        rules.create_trigger(
            actor=admin,
            title=f"Firing {n}",
            conditions={"all": [{"field": "priority", "operator": "changed", "value": None}]},
            actions=[{"field": "current_tags", "value": f"fired{n}"}],
        )
    timed(tickets[args.runs * 2 : args.runs * 2 + 5])
    firing = timed(tickets[args.runs * 2 + 5 :])
    evaluation = evaluation_cost(tickets[0], agent, args.runs)
    print(
        f"(a) update_ticket p50: {median_ms(without):.2f} ms with no trigger, "
        f"{median_ms(with_triggers):.2f} ms with {args.triggers} active triggers "
        f"(+{median_ms(with_triggers) - median_ms(without):.2f} ms p50), "
        f"{median_ms(firing):.2f} ms when 5 of {args.triggers + 5} fire"
    )
    print(
        f"    trigger evaluation alone (CPU, no I/O; {args.triggers + 5} active, none matching "
        f"an update that changes the priority with an internal note): p50 "
        f"{evaluation['gated']:.3f} ms with the pre-checks, {evaluation['all']:.3f} ms "
        f"evaluating every trigger; {int(evaluation['candidates'])} of {args.triggers + 5} "
        f"evaluated; configuration query {evaluation['version']:.3f} ms"
    )


def evaluation_cost(ticket, agent, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The cost ``run_triggers`` adds to an update when nothing fires: the version query,
    then the pre-checks and conditions of every active trigger, timed without the update
    around it (so the shared machine's I/O does not drown it)."""
    from kefu.core import clock, configcache
    from kefu.rules.conditions import ChangeFacts, Subject
    from kefu.rules.engine import TRIGGERS, active_triggers
    from kefu.tickets.models import Comment

    triggers = active_triggers()
    now = clock.now()
    context = {"current_user": agent.pk}
    facts = ChangeFacts(
        kind="update",
        actor_role="agent",
        via_channel="web",
        comment=Comment(body="Reply", public=False),
        changes={"priority": [("high", "normal")]},
    )
    # a ticket update never matches the five "priority changed" triggers' tag actions
    # here: count only the non-firing ones
    quiet = [t for t in triggers if not t.title.startswith("Firing")]

    def gated() -> int:
        subject = Subject(ticket, facts)
        evaluated = 0
        for trigger in quiet:
            if trigger.update_type not in (None, facts.update_type) or not trigger.may_match(facts):
                continue
            evaluated += 1
            trigger.conditions.matches(subject, now=now, context=context)
        return evaluated

    def every() -> None:
        for trigger in quiet:
            trigger.conditions.matches(Subject(ticket, facts), now=now, context=context)

    result: dict[str, float] = {}

    def version() -> object:
        # The one configuration query of a unit of work (kefu.core.configcache): every
        # registered fingerprint, the triggers' among them.
        return configcache.version(TRIGGERS)

    for name, function in (("gated", gated), ("all", every), ("version", version)):
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            value = function()
            samples.append(time.perf_counter() - began)
            if name == "gated":
                result["candidates"] = float(value)
        result[name] = median_ms(samples)
    return result


def bench_automation(args: argparse.Namespace) -> None:
    from django.db import connection

    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role
    from kefu.accounts.models import User
    from kefu.core import clock
    from kefu.rules import actions as rules
    from kefu.rules.automations import run_automation
    from kefu.tickets.actions import default_custom_status
    from kefu.tickets.models import Ticket, TicketTag

    # (a) creates these; with --only automation they are made here.
    customer = User.objects.filter(email="customer@bench.test").first() or accounts.create_user(
        name="Customer", email="customer@bench.test"
    )
    admin = User.objects.filter(email="admin@bench.test").first() or accounts.create_user(
        name="Admin", email="admin@bench.test", role=Role.ADMIN
    )
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    long_ago = now - dt.timedelta(days=3)
    statuses = {s: default_custom_status(s) for s in ("open", "pending")}
    began = time.perf_counter()
    batch = 5_000
    matching = 0
    for start in range(0, args.tickets, batch):
        rows = []
        for n in range(start, min(start + batch, args.tickets)):
            pending = n % args.matching_every == 0
            matching += pending
            status = "pending" if pending else "open"
            rows.append(
                Ticket(
                    subject=f"Bulk {n}",
                    status=status,
                    custom_status=statuses[status],
                    requester=customer,
                    submitter=customer,
                    tags=["bulk"],
                    created_at=long_ago,
                    updated_at=long_ago,
                    status_updated_at=long_ago,
                )
            )
        created = Ticket.objects.bulk_create(rows)
        if connection.vendor == "sqlite" and created[0].pk is None:
            raise SystemExit("bulk_create did not return ids")
        TicketTag.objects.bulk_create([TicketTag(ticket=t, name="bulk") for t in created])
    print(f"(b) inserted {args.tickets} tickets in bulk in {time.perf_counter() - began:.1f} s")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    automation = rules.create_automation(
        actor=admin,
        title="Remind pending after 48 h",
        conditions={
            "all": [
                {"field": "status", "operator": "is", "value": "pending"},
                {"field": "PENDING", "operator": "greater_than", "value": 47},
                {"field": "current_tags", "operator": "not_includes", "value": "reminded"},
            ]
        },
        actions=[{"field": "current_tags", "value": "reminded"}],
    )
    with clock.frozen_at(now):
        began = time.perf_counter()
        changed = run_automation(automation, now=now)
        took = time.perf_counter() - began
        touched = Ticket.objects.filter(subject__startswith="Bulk ", updated_at__gte=now).count()
        began = time.perf_counter()
        again = run_automation(automation, now=now)
        second = time.perf_counter() - began
    print(
        f"    automation pass over {args.tickets} tickets: {took:.1f} s, changed {changed} "
        f"(matching {matching}, tickets with a new updated_at: {touched}); "
        f"second pass (nothing left to do): {second:.2f} s, changed {again}"
    )


def bench_routing(args: argparse.Namespace) -> None:
    from django.db import connection

    from kefu.accounts import actions as accounts
    from kefu.accounts.choices import Role
    from kefu.accounts.models import User
    from kefu.rules import actions as rules
    from kefu.rules.models import AgentStatus
    from kefu.rules.routing import drain_queue, loads
    from kefu.tickets import hooks
    from kefu.tickets.actions import NewComment, TicketData, create_ticket

    # (a) creates these; with --only routing they are made here.
    admin = User.objects.filter(email="admin@bench.test").first() or accounts.create_user(
        name="Admin", email="admin@bench.test", role=Role.ADMIN
    )
    customer = User.objects.filter(email="customer@bench.test").first() or accounts.create_user(
        name="Customer", email="customer@bench.test"
    )
    group = accounts.create_group(name="Routed")
    agents = [
        accounts.create_user(
            name=f"Agent {n}", email=f"a{n}@bench.test", role=Role.AGENT, groups=[group]
        )
        for n in range(args.agents)
    ]
    with hooks.paused():
        for n in range(args.queue):
            create_ticket(
                actor=admin,
                data=TicketData(subject=f"Queued {n}", requester=customer, group=group),
                comment=NewComment(body="Help"),
            )
    if not args.no_sla_state:
        # A queued ticket went through its create hooks, SLA evaluation included: give these
        # the SLA state they would have, so routing pays for re-evaluating, not creating it.
        from kefu.sla.actions import reevaluate_tickets

        reevaluate_tickets()
    capacity = -(-args.queue // args.agents)  # room for the whole queue
    AgentStatus.objects.bulk_create(
        [AgentStatus(agent=a, availability="online", capacity=capacity) for a in agents]
    )
    rules.set_group_routing(actor=admin, group=group, mode="manual")
    from kefu.rules.models import GroupRouting

    GroupRouting.objects.filter(group=group).update(mode="least_loaded")
    # Planner statistics as a running database has them (PostgreSQL's autovacuum, Kefu's
    # daily ANALYZE on SQLite), not the empty-table guesses of a database made a second ago.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if os.environ.get("KEFU_BENCH_EXPLAIN") and connection.vendor == "postgresql":
            # Plans of statements slower than KEFU_BENCH_EXPLAIN ms, in the server's log.
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute(
                "SET auto_explain.log_min_duration = %s", [int(os.environ["KEFU_BENCH_EXPLAIN"])]
            )
            cursor.execute("SET auto_explain.log_analyze = on")
    began, cpu_began = time.perf_counter(), time.process_time()
    queries = []  # counted, not logged: CaptureQueriesContext's logging costs CPU itself

    timed: dict[str, list[float]] = {}  # KEFU_BENCH_SQL=1: wall time per statement text

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(1)
        if not os.environ.get("KEFU_BENCH_SQL"):
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.setdefault(sql[:160], []).append(time.perf_counter() - began)

    profiler = cProfile.Profile() if os.environ.get("KEFU_BENCH_PROFILE") else None
    with connection.execute_wrapper(count):
        if profiler:
            profiler.enable()
        routed = drain_queue(group.pk)
        if profiler:
            profiler.disable()
            profiler.dump_stats(os.environ["KEFU_BENCH_PROFILE"])
    took, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    load = loads([a.pk for a in agents])
    for text, times in sorted(timed.items(), key=lambda kv: -sum(kv[1]))[:15]:
        print(f"    {sum(times) * 1000:8.1f} ms  {len(times):5d}x  {text}")
    print(
        f"(c) routed {routed} of {args.queue} queued tickets across {args.agents} agents "
        f"(least loaded, capacity {capacity}) in {took:.2f} s wall, {cpu:.2f} s CPU "
        f"({took / max(routed, 1) * 1000:.2f} ms per ticket), {len(queries)} queries; "
        f"loads {min(load.values())}..{max(load.values())}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> None:
    args = parse_args()
    configure(args)
    from django.db import connection

    print(f"database: {connection.vendor}")
    parts = {"triggers": bench_triggers, "routing": bench_routing, "automation": bench_automation}
    for name, part in parts.items():
        if args.only in (None, name):
            part(args)


if __name__ == "__main__":
    main()
