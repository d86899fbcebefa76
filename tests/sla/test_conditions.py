"""SLA condition fields in the shared registry: ``hours_until_next_sla_breach`` and
``sla_breached`` agree in SQL and Python, and work in views, triggers and automations."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.core import clock
from kefu.core.conditions import bind
from kefu.rules import actions as rules
from kefu.rules.automations import run_automations
from kefu.sla import actions as sla
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.conditions import ticket_conditions
from kefu.tickets.models import Ticket

from .helpers import SHANGHAI, agent_reply, local, open_ticket, targets

pytestmark = pytest.mark.django_db

T0 = local(SHANGHAI, 2026, 11, 23, 9, 0)


def tickets_at_every_stage(p):  # type: ignore[no-untyped-def]
    """Due in 1h, due in 4h, overdue (breach recorded), replied (none left), no target."""
    sla.create_policy(
        title="Calendar",
        filter={"all": [], "any": []},
        policy_metrics=[
            *targets("urgent", False, first_reply_time=60),
            *targets("high", False, first_reply_time=30),
            *targets("normal", False, first_reply_time=240),
        ],
    )
    overdue = open_ticket(p, T0 - dt.timedelta(minutes=90), priority="high")
    with clock.frozen_at(T0 - dt.timedelta(minutes=50)):
        sla.record_due_events()
    replied = open_ticket(p, T0 - dt.timedelta(minutes=20), priority="urgent")
    agent_reply(p, replied, T0 - dt.timedelta(minutes=10))
    return {
        "soon": open_ticket(p, T0, priority="urgent"),
        "later": open_ticket(p, T0, priority="normal"),
        "overdue": overdue,
        "replied": replied,
        "none": open_ticket(p, T0, priority="low"),
    }


def selected(conditions: dict, tickets: dict[str, Ticket], now: dt.datetime):  # type: ignore[no-untyped-def]
    bound = bind(conditions, ticket_conditions)
    ids = {t.pk: name for name, t in tickets.items()}
    in_sql = {
        ids[pk] for pk in Ticket.objects.filter(bound.q(now=now)).values_list("pk", flat=True)
    }
    in_python = {name for name, t in tickets.items() if bound.matches(t, now=now)}
    return in_sql, in_python


CASES = [
    ("hours_until_next_sla_breach", "less_than", 0, {"overdue"}),
    ("hours_until_next_sla_breach", "less_than", 1, {"overdue", "soon"}),
    ("hours_until_next_sla_breach", "less_than", 4, {"overdue", "soon", "later"}),
    ("hours_until_next_sla_breach", "is", 0, {"soon"}),
    ("hours_until_next_sla_breach", "is", 3, {"later"}),
    ("hours_until_next_sla_breach", "greater_than", 0, {"later"}),
    ("sla_breached", "is", True, {"overdue"}),
    ("sla_breached", "is", "false", {"soon", "later", "replied", "none"}),
    ("sla_breached", "is_not", "true", {"soon", "later", "replied", "none"}),
    ("sla_breached", "is_not", False, {"overdue"}),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_sla_conditions_select_the_same_tickets_in_sql_and_python(
    personas, field, operator, value, expected
):
    tickets = tickets_at_every_stage(personas)
    condition = {"all": [{"field": field, "operator": operator, "value": value}], "any": []}

    in_sql, in_python = selected(condition, tickets, T0 + dt.timedelta(minutes=5))

    assert in_sql == in_python == expected


def test_a_deadline_that_passed_counts_as_breached_before_the_scheduler_scans(personas):
    tickets = tickets_at_every_stage(personas)
    condition = {"all": [{"field": "sla_breached", "operator": "is", "value": True}], "any": []}

    in_sql, in_python = selected(condition, tickets, T0 + dt.timedelta(minutes=61))

    assert in_sql == in_python == {"overdue", "soon"}


def test_sla_breached_rejects_a_value_that_is_not_a_boolean(personas):
    with pytest.raises(ValueError, match="sla_breached"):
        bind({"all": [{"field": "sla_breached", "operator": "is", "value": "maybe"}]},
             ticket_conditions)  # fmt: skip


def test_an_automation_tags_tickets_an_hour_before_their_breach(personas):
    tickets = tickets_at_every_stage(personas)
    rules.create_automation(
        actor=personas.admin,
        title="SLA 即将违约 / about to breach",
        conditions={
            "all": [
                {"field": "hours_until_next_sla_breach", "operator": "is", "value": 0},
                {"field": "current_tags", "operator": "not_includes", "value": "sla_soon"},
            ],
            "any": [],
        },
        actions=[{"field": "current_tags", "value": "sla_soon"}],
    )

    with clock.frozen_at(T0 + dt.timedelta(minutes=5)):
        run_automations()

    tagged = {name for name, t in tickets.items() if "sla_soon" in Ticket.objects.get(pk=t.pk).tags}
    assert tagged == {"soon"}


def test_an_automation_on_sla_breached_alone_is_refused_it_is_not_time_based(personas):
    with pytest.raises(ValidationError, match="time-based"):
        rules.create_automation(
            actor=personas.admin,
            title="Breached",
            conditions={
                "all": [
                    {"field": "sla_breached", "operator": "is", "value": True},
                    {"field": "current_tags", "operator": "not_includes", "value": "late"},
                ],
                "any": [],
            },
            actions=[{"field": "current_tags", "value": "late"}],
        )


def test_a_trigger_escalates_a_breached_ticket_on_its_next_update(personas):
    tickets = tickets_at_every_stage(personas)
    rules.create_trigger(
        actor=personas.admin,
        title="Escalate breached",
        conditions={
            "all": [
                {"field": "sla_breached", "operator": "is", "value": True},
                {"field": "priority", "operator": "is_not", "value": "urgent"},
            ],
            "any": [],
        },
        actions=[{"field": "priority", "value": "urgent"}],
    )

    for ticket in (tickets["overdue"], tickets["later"]):
        with clock.frozen_at(T0 + dt.timedelta(minutes=5)):
            update_ticket(ticket, actor=personas.alice, data=TicketData(tags=["touched"]))

    assert Ticket.objects.get(pk=tickets["overdue"].pk).priority == "urgent"
    assert Ticket.objects.get(pk=tickets["later"].pk).priority == "normal"
