"""SLAs in the agent's views: the "Next SLA breach" column (badges, one query a page),
sorting by the next breach, and "breaches within N hours" as a view condition."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.models import SlaTicketState
from kefu.tickets.actions import create_view, view_tickets

from .helpers import SHANGHAI, agent_reply, local, open_ticket, policy, targets

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 23, 9, 0)
UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}


def three_tickets(p):  # type: ignore[no-untyped-def]
    """Urgent (reply due in 1h), normal (due in 4h), low (no target)."""
    sla.create_policy(
        title="Calendar",
        filter={"all": [], "any": []},
        policy_metrics=[
            *targets("urgent", False, first_reply_time=60),
            *targets("normal", False, first_reply_time=240),
        ],
    )
    normal = open_ticket(p, T0, priority="normal")
    urgent = open_ticket(p, T0 + dt.timedelta(minutes=1), priority="urgent")
    low = open_ticket(p, T0 + dt.timedelta(minutes=2), priority="low")
    return urgent, normal, low


def test_the_evaluation_keeps_the_next_breach_and_whether_one_is_breached(personas):
    policy(priority="normal", business=False, first_reply_time=60, total_resolution_time=600)
    ticket = open_ticket(personas, T0)
    state = SlaTicketState.objects.get(ticket=ticket)
    assert (state.next_breach_at, state.breached) == (T0 + dt.timedelta(minutes=60), False)

    with clock.frozen_at(T0 + dt.timedelta(minutes=61)):
        sla.record_due_events()
    state.refresh_from_db()
    assert (state.next_breach_at, state.breached) == (T0 + dt.timedelta(minutes=60), True)

    agent_reply(personas, ticket, T0 + dt.timedelta(minutes=70))
    state.refresh_from_db()
    # The reply fulfils the breached first reply; the resolution target is next.
    assert (state.next_breach_at, state.breached) == (T0 + dt.timedelta(minutes=600), False)

    agent_reply(personas, ticket, T0 + dt.timedelta(minutes=80), status="solved")
    state.refresh_from_db()
    assert (state.next_breach_at, state.breached) == (None, False)


def test_a_view_can_sort_by_the_next_breach_soonest_first_tickets_without_one_last(personas):
    urgent, normal, low = three_tickets(personas)
    view = create_view(
        actor=personas.admin,
        title="By breach",
        conditions=UNSOLVED,
        execution={"sort_by": "sla_next_breach_at", "sort_order": "asc"},
    )

    with clock.frozen_at(T0 + dt.timedelta(minutes=5)):
        ordered = list(view_tickets(view, user=personas.alice).values_list("pk", flat=True))

    assert ordered == [urgent.pk, normal.pk, low.pk]


def test_a_view_filters_tickets_that_breach_within_n_hours(personas):
    urgent, normal, _low = three_tickets(personas)
    view = create_view(
        actor=personas.admin,
        title="Breaching within 2 hours",
        conditions={
            "all": [
                *UNSOLVED["all"],
                {"field": "hours_until_next_sla_breach", "operator": "less_than", "value": 2},
            ],
            "any": [],
        },
    )

    with clock.frozen_at(T0 + dt.timedelta(minutes=5)):
        soon = set(view_tickets(view, user=personas.alice).values_list("pk", flat=True))
    with clock.frozen_at(T0 + dt.timedelta(minutes=150)):
        later = set(view_tickets(view, user=personas.alice).values_list("pk", flat=True))

    assert soon == {urgent.pk}
    assert later == {urgent.pk, normal.pk}  # normal is 1h30 away; urgent is overdue


def test_the_view_list_shows_sla_badges_and_sorts_by_the_next_breach(client, personas):
    urgent, normal, low = three_tickets(personas)
    view = create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)
    accounts.update_user(personas.alice, locale="zh-hans")
    client.force_login(personas.alice)
    url = reverse("tickets:view", args=[view.pk])

    with clock.frozen_at(T0 + dt.timedelta(minutes=37)):
        html = client.get(url, {"sort": "sla_next_breach_at", "order": "asc"}).content.decode()

    assert "下一次 SLA 违约" in html  # the column's header
    assert (
        html.index(f'data-ticket-id="{urgent.pk}"')
        < html.index(f'data-ticket-id="{normal.pk}"')
        < html.index(f'data-ticket-id="{low.pk}"')
    )
    assert ">回复剩余 24 分钟<" in html  # urgent: opened at T0+1, 60 min
    assert ">回复剩余 3 小时 23 分钟<" in html  # normal: 240 - 37


def test_the_view_list_reads_all_badges_in_one_query(
    client, personas, django_assert_max_num_queries
):
    three_tickets(personas)
    view = create_view(actor=personas.admin, title="Unsolved", conditions=UNSOLVED)
    client.force_login(personas.alice)
    url = reverse("tickets:view", args=[view.pk])
    with clock.frozen_at(T0 + dt.timedelta(minutes=5)):
        with django_assert_max_num_queries(30) as few:
            client.get(url)
        for i in range(20):
            open_ticket(personas, T0 + dt.timedelta(minutes=3, seconds=i), priority="urgent")
        with django_assert_max_num_queries(len(few.captured_queries)):
            html = client.get(url).content.decode()
    assert html.count("sla-badge") >= 22


def test_a_breached_badge_is_red_in_the_list(client, personas):
    three_tickets(personas)
    view = create_view(actor=personas.admin, title="Unsolved", conditions=UNSOLVED)
    client.force_login(personas.alice)
    with clock.frozen_at(T0 + dt.timedelta(minutes=66)):
        sla.record_due_events()
        html = client.get(reverse("tickets:view", args=[view.pk])).content.decode()
    assert 'class="sla-badge sla-badge--breached" data-metric="first_reply_time"' in html
    assert ">Reply overdue by 5m<" in html


def test_the_ticket_page_shows_the_badges(client, personas):
    urgent, _normal, _low = three_tickets(personas)
    client.force_login(personas.alice)
    with clock.frozen_at(T0 + dt.timedelta(minutes=31)):
        html = client.get(reverse("tickets:ticket", args=[urgent.pk])).content.decode()
    assert ">Reply due in 30m<" in html


def test_the_upgrade_migration_fills_the_next_breach_as_the_evaluation_does(personas):
    # given: tickets evaluated by the engine (one breached, one active, one without target)
    urgent, normal, low = three_tickets(personas)
    with clock.frozen_at(T0 + dt.timedelta(minutes=90)):
        sla.record_due_events()
    expected = dict(SlaTicketState.objects.values_list("ticket_id", "next_breach_at"))
    breached = set(SlaTicketState.objects.filter(breached=True).values_list("ticket_id", flat=True))
    assert breached == {urgent.pk} and expected[low.pk] is None and expected[normal.pk]

    # when: the columns are blank, as right after 0002, and 0004's SQL runs
    SlaTicketState.objects.update(next_breach_at=None, breached=False)
    fill = importlib.import_module("kefu.sla.migrations.0004_fill_next_breach").FILL
    with connection.cursor() as cursor:
        cursor.execute(fill)

    # then: the same values the engine wrote
    filled = dict(SlaTicketState.objects.values_list("ticket_id", "next_breach_at"))
    assert filled == expected
    assert set(
        SlaTicketState.objects.filter(breached=True).values_list("ticket_id", flat=True)
    ) == {urgent.pk}
