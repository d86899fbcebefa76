"""Re-evaluating many tickets at once (``evaluate_tickets`` / ``reevaluate_tickets``) gives
exactly what evaluating them one by one gives, in a number of queries that does not grow
with the batch (except one audit per ticket whose policy changes)."""

import datetime as dt

import pytest
from django.forms.models import model_to_dict

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.actions.live import evaluate_tickets
from kefu.sla.models import (
    SlaMetricState,
    SlaPolicy,
    SlaReevaluation,
    SlaTicketState,
    TicketMetricEvent,
    TicketMetricSet,
)
from kefu.tickets import hooks
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.models import AuditEvent, Ticket

from .helpers import (
    SHANGHAI,
    agent_reply,
    customer_reply,
    local,
    office,
    open_ticket,
    set_status,
    targets,
)

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 20, 17, 50)  # a Friday evening


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
        "sets": rows(TicketMetricSet, "updated_at"),
        "audits": sorted(
            (e.audit.ticket_id, e.type, repr(e.value))
            for e in AuditEvent.objects.filter(type__startswith="Sla").select_related("audit")
        ),
    }


def lives(p):  # type: ignore[no-untyped-def]
    """A few ticket lives, written with the SLA hook paused (no SLA state yet)."""
    office()
    with hooks.paused():
        quiet = open_ticket(p, T0)
        replied = open_ticket(p, T0, priority="high")
        agent_reply(p, replied, T0 + dt.timedelta(days=3, minutes=15))
        customer_reply(p, replied, T0 + dt.timedelta(days=3, hours=1))
        pending = open_ticket(p, T0, priority="urgent")
        set_status(p, pending, T0 + dt.timedelta(minutes=5), "pending")
        solved = open_ticket(p, T0, priority="normal")
        agent_reply(p, solved, T0 + dt.timedelta(days=3), status="solved")
    sla.create_policy(
        title="Standard",
        filter={"all": [], "any": []},
        policy_metrics=[
            *targets("normal", first_reply_time=60, requester_wait_time=600),
            *targets("high", first_reply_time=30, next_reply_time=60, periodic_update_time=120),
            *targets("urgent", False, pausable_update_time=30, total_resolution_time=240),
        ],
    )
    return [quiet, replied, pending, solved]


def test_a_batch_gives_what_evaluating_one_by_one_gives(personas):
    tickets = lives(personas)
    now = T0 + dt.timedelta(days=4)

    with clock.frozen_at(now):
        for ticket in tickets:
            sla.evaluate_ticket(Ticket.objects.get(pk=ticket.pk), now=now)
    one_by_one = snapshot()
    for model in (SlaMetricState, SlaTicketState, TicketMetricEvent, TicketMetricSet):
        model.objects.all().delete()
    AuditEvent.objects.filter(type__startswith="Sla").delete()
    with clock.frozen_at(now):
        evaluate_tickets(list(Ticket.objects.order_by("pk")), now=now)

    assert snapshot() == one_by_one
    assert one_by_one["states"] and one_by_one["events"] and one_by_one["audits"]


def test_a_second_pass_changes_nothing_and_updates_what_moved(personas):
    tickets = lives(personas)
    now = T0 + dt.timedelta(days=4)
    with clock.frozen_at(now):
        sla.reevaluate_tickets(open_only=False)
        first = snapshot()
        sla.reevaluate_tickets(open_only=False)
    assert snapshot() == first

    policy = SlaPolicy.objects.get()
    sla.update_policy(policy, policy_metrics=targets("normal", first_reply_time=120))
    with clock.frozen_at(now):
        sla.reevaluate_tickets(open_only=False)
        evaluate_tickets([Ticket.objects.get(pk=tickets[0].pk)], now=now)
    state = SlaMetricState.objects.get(ticket=tickets[0], metric="first_reply_time")
    # Friday 17:50 + 120 business minutes: Friday's last 10 minutes, then Monday 09:00-10:50.
    assert state.breach_at == local(SHANGHAI, 2026, 11, 23, 10, 50)
    assert not SlaMetricState.objects.filter(ticket=tickets[1]).exists()  # high: no target now


def test_the_queries_of_a_batch_do_not_grow_with_its_size(personas, django_assert_max_num_queries):
    lives(personas)
    now = T0 + dt.timedelta(days=4)
    with clock.frozen_at(now):
        sla.reevaluate_tickets(open_only=False)  # policy audits and first rows written
    with hooks.paused():
        for i in range(30):
            open_ticket(personas, T0 + dt.timedelta(minutes=i), priority="low")
    with clock.frozen_at(now):
        sla.reevaluate_tickets(open_only=False)  # the new ones get their "no policy" state

    with clock.frozen_at(now + dt.timedelta(minutes=1)), django_assert_max_num_queries(14):
        evaluate_tickets(list(Ticket.objects.order_by("pk")), now=now + dt.timedelta(minutes=1))


def test_the_reevaluation_after_a_policy_change_leaves_ticket_metrics_alone(personas):
    tickets = lives(personas)
    with clock.frozen_at(T0 + dt.timedelta(days=4)):
        sla.reevaluate_tickets(open_only=False, ticket_metrics=False)

    assert SlaMetricState.objects.filter(ticket=tickets[0]).exists()
    assert not TicketMetricSet.objects.exists()  # they depend on history, not on policies


def test_a_policy_change_reevaluates_only_the_tickets_it_can_affect(
    personas, django_capture_on_commit_callbacks
):
    at = local(SHANGHAI, 2026, 11, 23, 10, 0)
    sla.create_policy(title="All", filter={"all": [], "any": []},
                      policy_metrics=targets("normal", False, first_reply_time=240))  # fmt: skip
    plain = open_ticket(personas, at)
    vip = open_ticket(personas, at)
    with clock.frozen_at(at):
        update_ticket(vip, actor=personas.alice, data=TicketData(tags=["vip"]))

    # when: a VIP policy is put first
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(at):
        first = sla.create_policy(
            title="VIP",
            filter={"all": [{"field": "current_tags", "operator": "includes", "value": "vip"}]},
            policy_metrics=targets("normal", False, first_reply_time=30),
            position=0,
        )
    # then: only the VIP ticket was re-evaluated, and it has the VIP target
    run = SlaReevaluation.objects.order_by("-started_at", "-id").first()
    assert run is not None and (run.total, run.done) == (1, 1)
    assert state_of(vip).breach_at == at + dt.timedelta(minutes=30)
    assert state_of(plain).breach_at == at + dt.timedelta(minutes=240)

    # when: the VIP policy is deleted, its ticket falls back to the other one
    with django_capture_on_commit_callbacks(execute=True), clock.frozen_at(at):
        sla.delete_policy(first)
    assert state_of(vip).breach_at == at + dt.timedelta(minutes=240)
    assert SlaTicketState.objects.get(ticket=vip).policy is not None


def state_of(ticket):  # type: ignore[no-untyped-def]
    return SlaMetricState.objects.get(ticket=ticket, metric="first_reply_time")
