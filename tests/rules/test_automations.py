"""Automations: Zendesk's nullification rule, one SQL query per automation, only matching
tickets touched, run by the scheduler."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.core import clock, scheduler
from kefu.rules import actions as rules
from kefu.rules.automations import run_automations
from kefu.rules.models import Automation
from kefu.tickets.actions import NewComment, TicketData, create_ticket, delete_ticket, update_ticket
from kefu.tickets.models import Ticket

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def new_ticket(p, **data) -> Ticket:  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.alice,
        data=TicketData(subject="Where is my parcel", requester=p.bob, **data),
        comment=NewComment(body="b"),
    )


PENDING_REMINDER = {
    "conditions": {
        "all": [
            {"field": "status", "operator": "is", "value": "pending"},
            {"field": "PENDING", "operator": "greater_than", "value": 47},
            {"field": "current_tags", "operator": "not_includes", "value": "reminded"},
        ]
    },
    "actions": [{"field": "current_tags", "value": "reminded"}],
}


def test_an_automation_acts_on_matching_tickets_only_and_once(personas):
    rules.create_automation(actor=personas.admin, title="Remind after 48h", **PENDING_REMINDER)
    with clock.frozen_at(START):
        waiting = new_ticket(personas, status="pending")
        recent = None
        fresh_open = new_ticket(personas)
    with clock.frozen_at(START + dt.timedelta(hours=30)):
        recent = new_ticket(personas, status="pending")
    with clock.frozen_at(START + dt.timedelta(hours=49)):
        assert run_automations() == 1
        # a second pass finds nothing: the tag nullified the condition
        assert run_automations() == 0
    for ticket in (waiting, recent, fresh_open):
        ticket.refresh_from_db()
    assert waiting.tags == ["reminded"]
    assert recent.tags == [] and fresh_open.tags == []
    assert fresh_open.updated_at == START  # untouched
    audit = waiting.audits.order_by("-created_at", "-id").first()
    assert audit.via_channel == "rule" and audit.via_source["rel"] == "automation"


def test_deleted_and_closed_tickets_are_left_alone(personas):
    rules.create_automation(
        actor=personas.admin,
        title="Close old solved",
        conditions={"all": [{"field": "SOLVED", "operator": "greater_than", "value": 1},
                            {"field": "status", "operator": "is", "value": "solved"}]},
        actions=[{"field": "status", "value": "closed"}],
    )  # fmt: skip
    with clock.frozen_at(START):
        solved = new_ticket(personas, status="solved")
        gone = new_ticket(personas, status="solved")
        delete_ticket(gone, actor=personas.alice)
    with clock.frozen_at(START + dt.timedelta(hours=5)):
        assert run_automations() == 1
    solved.refresh_from_db()
    gone.refresh_from_db()
    assert solved.status == "closed" and gone.status == "solved"


@pytest.mark.parametrize(
    ("conditions", "actions"),
    [
        # no condition the action makes false: it would fire every hour
        ({"all": [{"field": "status", "operator": "is", "value": "pending"},
                  {"field": "PENDING", "operator": "greater_than", "value": 24}]},
         [{"field": "priority", "value": "high"}]),
        # setting the same status does not nullify "status is pending"
        ({"all": [{"field": "status", "operator": "is", "value": "pending"},
                  {"field": "PENDING", "operator": "greater_than", "value": 24}]},
         [{"field": "status", "value": "pending"}]),
        # a tag condition in "any" does not count
        ({"all": [{"field": "NEW", "operator": "greater_than", "value": 24}],
          "any": [{"field": "current_tags", "operator": "not_includes", "value": "x"}]},
         [{"field": "current_tags", "value": "x"}]),
    ],
)  # fmt: skip
def test_an_automation_without_a_nullifying_condition_is_refused(personas, conditions, actions):
    with pytest.raises(ValidationError) as error:
        rules.create_automation(
            actor=personas.admin, title="forever", conditions=conditions, actions=actions
        )
    assert "nullif" not in str(error.value)  # the message explains it in plain words
    assert "makes false" in " ".join(error.value.message_dict["conditions"])
    assert not Automation.objects.exists()


@pytest.mark.parametrize(
    ("conditions", "actions"),
    [
        ({"all": [{"field": "status", "operator": "is", "value": "pending"},
                  {"field": "PENDING", "operator": "greater_than", "value": 24}]},
         [{"field": "status", "value": "solved"}]),
        ({"all": [{"field": "PENDING", "operator": "greater_than", "value": 24}]},
         [{"field": "status", "value": "open"}]),
        ({"all": [{"field": "NEW", "operator": "greater_than", "value": 24},
                  {"field": "current_tags", "operator": "includes", "value": "vip"}]},
         [{"field": "remove_tags", "value": "vip"}]),
        ({"all": [{"field": "NEW", "operator": "greater_than", "value": 24},
                  {"field": "priority", "operator": "less_than", "value": "high"}]},
         [{"field": "priority", "value": "urgent"}]),
    ],
)  # fmt: skip
def test_automations_that_nullify_themselves_are_accepted(personas, conditions, actions):
    automation = rules.create_automation(
        actor=personas.admin, title="ok", conditions=conditions, actions=actions
    )
    assert automation.pk is not None and automation.conditions == conditions


def test_an_automation_needs_a_time_based_condition(personas):
    with pytest.raises(ValidationError) as error:
        rules.create_automation(
            actor=personas.admin,
            title="no time",
            conditions={"all": [{"field": "status", "operator": "is", "value": "open"}]},
            actions=[{"field": "status", "value": "pending"}],
        )
    assert "time-based" in " ".join(error.value.message_dict["conditions"])


def test_unknown_fields_in_automations_are_refused_naming_them(personas):
    with pytest.raises(ValidationError) as error:
        rules.create_automation(
            actor=personas.admin,
            title="bad",
            conditions={"all": [{"field": "hours_since_lunch", "operator": "is", "value": 1}]},
            actions=[{"field": "status", "value": "pending"}],
        )
    assert "Unknown field: hours_since_lunch" in error.value.message_dict["conditions"][0]


def test_a_ticket_changed_since_the_query_is_checked_again(personas):
    rules.create_automation(actor=personas.admin, title="Remind", **PENDING_REMINDER)
    with clock.frozen_at(START):
        ticket = new_ticket(personas, status="pending")
    with clock.frozen_at(START + dt.timedelta(hours=49)):
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="open"))
        assert run_automations() == 0


def test_the_scheduler_runs_automations(personas, django_capture_on_commit_callbacks):
    rules.create_automation(actor=personas.admin, title="Remind", **PENDING_REMINDER)
    with clock.frozen_at(START):
        ticket = new_ticket(personas, status="pending")
    with (
        clock.frozen_at(START + dt.timedelta(hours=49)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        claimed = scheduler.tick(now=clock.now())
    assert "rules.run_automations" in claimed
    ticket.refresh_from_db()
    assert ticket.tags == ["reminded"]
