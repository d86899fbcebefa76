"""Rule emails go through the email channel; business-hours conditions and set_schedule use
the SLA schedules (the after-hours auto-reply recipe of docs/rules.md)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.channels.email.models import OutboundMessage
from kefu.core import clock
from kefu.rules import actions as rules
from kefu.sla import actions as sla
from kefu.sla.models import SlaTicketState
from kefu.tickets.actions import NewComment, TicketData, create_ticket
from kefu.tickets.models import AuditEvent, Ticket

DAY = 24 * 60
# Monday 2026-06-01, Asia/Shanghai office hours 9:00-18:00 on weekdays.
MONDAY_NOON = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
MONDAY_NIGHT = dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC)  # 22:00 in Shanghai


@pytest.fixture
def office(personas):  # type: ignore[no-untyped-def]
    return sla.create_schedule(
        name="Office 办公时间",
        time_zone="Asia/Shanghai",
        intervals=[
            {"start_time": d * DAY + 9 * 60, "end_time": d * DAY + 18 * 60} for d in range(1, 6)
        ],
    )


def after_hours_reply(p) -> None:  # type: ignore[no-untyped-def]
    rules.create_trigger(
        actor=p.admin,
        title="After-hours auto-reply / 非工作时间自动回复",
        conditions={
            "all": [
                {"field": "update_type", "operator": "is", "value": "Create"},
                {"field": "within_business_hours", "operator": "is", "value": False},
            ]
        },
        actions=[
            {
                "field": "notification_user",
                "value": [
                    "requester_id",
                    "We are closed / 非工作时间: {{ticket.title}}",
                    "Hello {{ticket.requester.name}}, we answer #{{ticket.id}} tomorrow.",
                ],
            },
            {"field": "current_tags", "value": "after_hours"},
        ],
    )


def new_ticket(p) -> Ticket:  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.bob, data=TicketData(subject="Washer leaks"), comment=NewComment(body="b")
    )


def test_after_hours_tickets_get_an_auto_reply_by_email(personas, office):
    after_hours_reply(personas)
    with clock.frozen_at(MONDAY_NIGHT):
        night = new_ticket(personas)
    with clock.frozen_at(MONDAY_NOON):
        noon = new_ticket(personas)
    night.refresh_from_db()
    noon.refresh_from_db()
    assert night.tags == ["after_hours"] and noon.tags == []
    [mail] = OutboundMessage.objects.filter(ticket=night, kind="notification")
    assert mail.recipients == ["bob@acme.test"]
    assert mail.subject == f"[#{night.pk}] We are closed / 非工作时间: Washer leaks"
    assert f"Hello Bob, we answer #{night.pk} tomorrow." in mail.body_text
    assert mail.reason.startswith("trigger: After-hours")
    assert not OutboundMessage.objects.filter(ticket=noon, kind="notification").exists()
    assert AuditEvent.objects.filter(audit__ticket=night, type="Notification").count() == 1


def test_a_trigger_pins_a_ticket_to_a_schedule(personas, office):
    night_shift = sla.create_schedule(
        name="Night",
        time_zone="Asia/Shanghai",
        intervals=[{"start_time": d * DAY, "end_time": d * DAY + DAY} for d in range(0, 7)],
    )
    rules.create_trigger(
        actor=personas.admin,
        title="VIP on the 24/7 schedule",
        conditions={"all": [{"field": "subject", "operator": "includes", "value": "washer"}]},
        actions=[{"field": "set_schedule", "value": night_shift.pk}],
    )
    ticket = new_ticket(personas)
    assert SlaTicketState.objects.get(ticket=ticket).schedule_override == night_shift


def test_templates_that_are_not_plain_placeholders_are_refused(personas):
    with pytest.raises(ValidationError) as error:
        rules.create_trigger(
            actor=personas.admin,
            title="bad template",
            conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
            actions=[
                {
                    "field": "notification_user",
                    "value": ["requester_id", "{% load secrets %}", "body"],
                }
            ],
        )
    assert "notification_user" in " ".join(error.value.message_dict["actions"])


def test_an_unknown_schedule_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        rules.create_trigger(
            actor=personas.admin,
            title="bad schedule",
            conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
            actions=[{"field": "set_schedule", "value": 12345}],
        )
    assert "set_schedule" in error.value.message_dict["actions"][0]
