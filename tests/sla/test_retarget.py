"""The re-evaluation after a change of targets (``sla/retarget.py``) stores exactly what the
full replay stores, and the business-time lookups give exactly what the day-by-day walk gives."""

import dataclasses
import datetime as dt

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla import business_time
from kefu.sla.actions.live import _STATE_FIELDS, evaluate_tickets
from kefu.sla.actions.reevaluation import rejudge_tickets
from kefu.sla.engine import MetricState
from kefu.sla.models import SlaMetricState, SlaPolicy, SlaTicketState, TicketMetricEvent
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.models import AuditEvent, Ticket

from .helpers import SHANGHAI, agent_reply, customer_reply, local, office, open_ticket, set_status
from .test_business_time import moments, schedules

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 20, 17, 50)  # a Friday evening
LATER = T0 + dt.timedelta(days=12)

ALL_METRICS = (
    "first_reply_time",
    "next_reply_time",
    "periodic_update_time",
    "pausable_update_time",
    "requester_wait_time",
    "agent_work_time",
    "total_resolution_time",
)


def policy_metrics(scale: float = 1, business: bool = True, drop: str = "") -> list[dict]:
    base = {"first_reply_time": 60, "next_reply_time": 120, "periodic_update_time": 240,
            "pausable_update_time": 240, "requester_wait_time": 600, "agent_work_time": 480,
            "total_resolution_time": 2400}  # fmt: skip
    return [
        {
            "priority": priority,
            "metric": metric,
            "target": max(1, round(minutes * scale * (2 if priority == "normal" else 1))),
            # calendar hours for some metrics, so both kinds of hours are judged
            "business_hours": business if metric != "total_resolution_time" else not business,
        }
        for priority in ("normal", "high")
        for metric, minutes in base.items()
        if not (metric == drop and priority == "normal")
    ]


def lives(p) -> dict[str, Ticket]:  # type: ignore[no-untyped-def]
    """Tickets with varied lives, written through the actions with the SLA hook running."""
    schedule = office()
    # A holiday on Wednesday 25 November and a Saturday worked instead (调休).
    sla.create_holiday(
        schedule, name="假日", start_date=dt.date(2026, 11, 25), end_date=dt.date(2026, 11, 25)
    )
    sla.set_extra_workday(schedule, date=dt.date(2026, 11, 28), name="调休")
    sla.create_policy(
        title="Standard", filter={"all": [], "any": []}, policy_metrics=policy_metrics()
    )
    day = dt.timedelta(days=1)
    t: dict[str, Ticket] = {}
    t["quiet"] = open_ticket(p, T0)
    t["answered"] = open_ticket(p, T0, priority="high")
    agent_reply(p, t["answered"], T0 + 3 * day + dt.timedelta(minutes=15))  # Monday 09:05
    customer_reply(p, t["answered"], T0 + 3 * day + dt.timedelta(hours=2))
    t["pending_over_holiday"] = open_ticket(p, T0 + 4 * day)
    set_status(p, t["pending_over_holiday"], T0 + 4 * day + dt.timedelta(hours=16), "pending")
    set_status(p, t["pending_over_holiday"], T0 + 6 * day, "open")
    t["on_hold"] = open_ticket(p, T0, priority="high")
    agent_reply(p, t["on_hold"], T0 + dt.timedelta(minutes=5))
    set_status(p, t["on_hold"], T0 + 3 * day, "hold")
    t["waiting"] = open_ticket(p, T0 + 4 * day)  # pending from Tuesday evening on
    agent_reply(p, t["waiting"], T0 + 4 * day + dt.timedelta(minutes=5), status="pending")
    t["late_reply"] = open_ticket(p, T0 - 10 * day)
    agent_reply(p, t["late_reply"], T0 - 2 * day)
    t["solved"] = open_ticket(p, T0, priority="high")
    agent_reply(p, t["solved"], T0 + 3 * day, status="solved")
    t["reopened"] = open_ticket(p, T0)
    agent_reply(p, t["reopened"], T0 + 3 * day, status="solved")
    customer_reply(p, t["reopened"], T0 + 5 * day)
    t["two_next_replies"] = open_ticket(p, T0, priority="high")  # replays: two instances
    for n in range(2):
        agent_reply(p, t["two_next_replies"], T0 + (3 + n) * day)
        customer_reply(p, t["two_next_replies"], T0 + (3 + n) * day + dt.timedelta(hours=1))
    t["priority_raised"] = open_ticket(p, T0)  # replays: targets of two priorities
    with clock.frozen_at(T0 + day):
        update_ticket(t["priority_raised"], actor=p.alice, data=TicketData(priority="high"))
    t["breached_recorded"] = open_ticket(p, T0 - 20 * day, priority="high")
    with clock.frozen_at(T0):
        sla.record_due_events()  # breach events (audits) and the evaluation that follows them
    return t


def snapshot() -> dict[str, list]:
    def rows(model, *exclude):  # type: ignore[no-untyped-def]
        return sorted(
            (
                {k: v for k, v in model_to_dict(obj).items() if k not in ("id", *exclude)}
                | {"ticket": obj.ticket_id}
                for obj in model.objects.all()
            ),
            key=repr,
        )

    return {
        "states": rows(SlaMetricState, "updated_at"),
        "tickets": rows(SlaTicketState, "updated_at"),
        "events": rows(TicketMetricEvent),
        "audits": sorted(
            (e.audit.ticket_id, e.type, repr(e.value))
            for e in AuditEvent.objects.filter(type__startswith="Sla").select_related("audit")
        ),
    }


HIGH = {"answered", "on_hold", "solved", "breached_recorded"}
NORMAL = {"quiet", "pending_over_holiday", "waiting", "late_reply", "reopened"}


def fast_and_replayed(everything: list[Ticket]) -> tuple[dict, dict, list[Ticket]]:
    """From the same start: what the fast path (rejudge, then replay what it left) stores,
    what replaying every ticket stores, and the tickets the fast path left."""
    with transaction.atomic(), clock.frozen_at(LATER):
        rest = rejudge_tickets(everything, now=LATER)
        evaluate_tickets(rest, now=LATER, ticket_metrics=False)
        fast = snapshot()
        transaction.set_rollback(True)
    with clock.frozen_at(LATER):
        evaluate_tickets(everything, now=LATER, ticket_metrics=False)
    return fast, snapshot(), rest


@pytest.mark.parametrize(
    ("change", "judged"),
    [
        ({"policy_metrics": policy_metrics(scale=2)}, HIGH | NORMAL),
        ({"policy_metrics": policy_metrics(scale=0.25)}, HIGH | NORMAL),
        ({"policy_metrics": policy_metrics(business=False)}, HIGH | NORMAL),
        ({"policy_metrics": policy_metrics(scale=0.5), "warning_minutes": 5}, HIGH | NORMAL),
        # normal tickets lose a target: their metric rows go, so they are replayed
        ({"policy_metrics": policy_metrics(drop="agent_work_time")}, HIGH),
    ],
    ids=["doubled", "quartered", "hours_swapped", "halved_new_warning", "one_target_dropped"],
)
def test_judging_the_stored_instances_gives_what_the_full_replay_gives(personas, change, judged):
    # given tickets evaluated along their lives, and a change of the policy's targets
    tickets = lives(personas)
    stages = {state["stage"] for state in snapshot()["states"]}
    assert stages == {"active", "paused", "achieved", "breached"}
    sla.update_policy(SlaPolicy.objects.get(), **change)
    everything = list(Ticket.objects.order_by("pk"))

    # when the re-evaluation judges what it can without replaying (then replays the rest),
    # and, from the same start, when every ticket is replayed
    fast, replayed, rest = fast_and_replayed(everything)

    # then both stored the same, and the fast path judged the tickets it can take
    assert fast == replayed
    left = {ticket.pk for ticket in rest}
    assert {name for name, ticket in tickets.items() if ticket.pk not in left} == judged
    assert len({state["stage"] for state in fast["states"]}) >= 2


def test_policies_with_conditions_are_matched_in_sql_as_the_replay_matches_them(personas):
    # given a first policy for high-priority tickets (its conditions are matched in SQL by the
    # fast path, in Python by the replay) and the catch-all policy after it
    sla.create_policy(
        title="High",
        filter={"all": [{"field": "priority", "operator": "is", "value": "high"}], "any": []},
        policy_metrics=policy_metrics(scale=0.5),
    )
    tickets = lives(personas)
    assert {
        name
        for name, ticket in tickets.items()
        if SlaTicketState.objects.get(ticket=ticket).policy.title == "High"
    } == HIGH | {"two_next_replies", "priority_raised"}
    for policy in SlaPolicy.objects.all():
        sla.update_policy(policy, policy_metrics=policy_metrics(scale=3))
    everything = list(Ticket.objects.order_by("pk"))

    # when the fast path judges what it can, and (from the same start) everything is replayed
    fast, replayed, rest = fast_and_replayed(everything)

    # then both stored the same, and the tickets of both policies were judged without a replay
    assert fast == replayed
    left = {ticket.pk for ticket in rest}
    assert {name for name, ticket in tickets.items() if ticket.pk not in left} == HIGH | NORMAL


def test_the_fast_path_is_taken_after_ordinary_updates_and_reads_a_batch_in_few_queries(
    personas, django_assert_max_num_queries
):
    tickets = lives(personas)
    with clock.frozen_at(LATER - dt.timedelta(days=1)):
        agent_reply(personas, tickets["quiet"], LATER - dt.timedelta(days=1))
    sla.update_policy(SlaPolicy.objects.get(), policy_metrics=policy_metrics(scale=3))
    batch = [Ticket.objects.get(pk=tickets[name].pk) for name in ("quiet", "answered", "solved")]

    # Reads: policies, contexts, metric rows. Writes: one executemany per set of changed
    # columns (a handful whatever the batch size), the new breach events.
    with clock.frozen_at(LATER), django_assert_max_num_queries(12):
        rest = rejudge_tickets(batch, now=LATER)

    assert rest == []
    first_reply = SlaMetricState.objects.get(ticket=tickets["quiet"], metric="first_reply_time")
    assert (first_reply.stage, first_reply.target_minutes) == ("breached", 360)  # 60 x 2 x 3


def test_a_ticket_that_changed_since_its_last_evaluation_is_replayed(personas):
    tickets = lives(personas)
    with transaction.atomic():
        # An audit event the evaluation did not see (as if written by a path without hooks).
        sla.write_sla_events(tickets["quiet"], [("SlaWarning", "x", {}, None)], at=T0)
    sla.update_policy(SlaPolicy.objects.get(), policy_metrics=policy_metrics(scale=2))

    with clock.frozen_at(LATER):
        rest = rejudge_tickets([Ticket.objects.get(pk=tickets["quiet"].pk)], now=LATER)

    assert [ticket.pk for ticket in rest] == [tickets["quiet"].pk]


# --- Business time: the lookups against the walk ------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), start=moments, n=st.integers(0, 40_000), seconds=st.integers(0, 59))
def test_adding_by_lookup_gives_the_walks_instant(schedule, start, n, seconds):
    amount = dt.timedelta(minutes=n, seconds=seconds, microseconds=n % 7)
    walked = business_time._add_by_walk(schedule, start, amount) if amount else start
    assert business_time.add_business_time(schedule, start, amount) == walked


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), a=moments, b=moments)
def test_measuring_by_lookup_gives_the_walks_time(schedule, a, b):
    walked = business_time._between_by_walk(schedule, a, b) if b > a else dt.timedelta(0)
    assert business_time.business_time_between(schedule, a, b) == walked


def test_the_metric_state_holds_exactly_the_columns_the_evaluation_writes():
    # _plan_states writes a MetricState's __dict__ (but its metric) as SlaMetricState columns.
    assert {f.name for f in dataclasses.fields(MetricState)} == {"metric", *_STATE_FIELDS}
