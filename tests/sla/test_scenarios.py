"""A ticket's life replayed with a frozen clock, against values worked out by hand.

Schedule: Asia/Shanghai, Monday-Friday 09:00-18:00 unless a test says otherwise.
"""

import datetime as dt

import pytest

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.models import SlaMetricState, TicketMetricEvent, TicketMetricSet
from kefu.tickets.models import AuditEvent

from .helpers import (
    NEW_YORK,
    SHANGHAI,
    agent_reply,
    customer_reply,
    local,
    metric,
    office,
    open_ticket,
    policy,
    set_status,
)

pytestmark = pytest.mark.django_db


def test_friday_evening_ticket_answered_monday_pending_over_a_holiday_then_reopened(personas):
    p = personas
    schedule = office()
    # A company holiday Tuesday-Wednesday (公司年会).
    sla.create_holiday(
        schedule, name="公司年会", start_date=dt.date(2026, 11, 24), end_date=dt.date(2026, 11, 25)
    )
    policy(
        first_reply_time=60,
        next_reply_time=120,
        requester_wait_time=480,
        agent_work_time=480,
    )

    # Friday 17:50: Bob opens the ticket. 10 business minutes are left on Friday, so the
    # first reply is due Monday 09:50.
    ticket = open_ticket(p, local(SHANGHAI, 2026, 11, 20, 17, 50))
    first = metric(ticket, "first_reply_time")
    assert (first.stage, first.breach_at) == ("active", local(SHANGHAI, 2026, 11, 23, 9, 50))
    assert first.target_minutes == 60 and first.business_hours

    # Monday 09:05: Alice replies and sets pending: 10 + 5 = 15 business minutes.
    agent_reply(p, ticket, local(SHANGHAI, 2026, 11, 23, 9, 5), status="pending")
    first = metric(ticket, "first_reply_time")
    assert (first.stage, first.elapsed_minutes) == ("achieved", 15)
    wait = metric(ticket, "requester_wait_time")
    assert (wait.stage, wait.elapsed_minutes, wait.breach_at) == ("paused", 15, None)

    # Thursday 10:00 (after the holiday): Bob answers, the ticket reopens; next reply runs.
    customer_reply(p, ticket, local(SHANGHAI, 2026, 11, 26, 10, 0))
    nxt = metric(ticket, "next_reply_time")
    assert (nxt.stage, nxt.breach_at) == ("active", local(SHANGHAI, 2026, 11, 26, 12, 0))
    wait = metric(ticket, "requester_wait_time")
    # 480 - 15 = 465 business minutes from Thursday 10:00: 480 left on Thursday -> 17:45.
    assert (wait.stage, wait.breach_at) == ("active", local(SHANGHAI, 2026, 11, 26, 17, 45))

    # Thursday 11:30: Alice answers (90 minutes), and solves at 14:00.
    agent_reply(p, ticket, local(SHANGHAI, 2026, 11, 26, 11, 30))
    assert metric(ticket, "next_reply_time").stage == "achieved"
    set_status(p, ticket, local(SHANGHAI, 2026, 11, 26, 14, 0), "solved")
    wait = metric(ticket, "requester_wait_time")
    # Friday 10 + Monday 5 + Thursday 10:00-14:00 240 = 255.
    assert (wait.stage, wait.elapsed_minutes, wait.fulfilled_at) == (
        "achieved",
        255,
        local(SHANGHAI, 2026, 11, 26, 14, 0),
    )

    metrics = TicketMetricSet.objects.get(ticket=ticket)
    # Friday 17:50 -> Monday 09:05: 2 days 15 h 15 min.
    assert (metrics.reply_time_calendar, metrics.reply_time_business) == (3795, 15)
    # Friday 17:50 -> Thursday 14:00: 6 days - 3 h 50 min; business 10 + 540 + 0 + 0 + 300.
    assert (metrics.first_resolution_time_calendar, metrics.first_resolution_time_business) == (
        8410,
        850,
    )
    # Pending Monday 09:05 -> Thursday 10:00: business 535 (Monday) + 60 (Thursday).
    assert (metrics.agent_wait_time_calendar, metrics.agent_wait_time_business) == (4375, 595)
    assert (metrics.requester_wait_time_calendar, metrics.requester_wait_time_business) == (
        3795 + 240,
        255,
    )
    assert (metrics.replies, metrics.reopens, metrics.first_contact_resolution) == (2, 0, False)

    # Friday 09:30: Bob writes again: reopened, a second next reply is due 11:30.
    customer_reply(p, ticket, local(SHANGHAI, 2026, 11, 27, 9, 30))
    nxt = metric(ticket, "next_reply_time")
    assert (nxt.instance_id, nxt.breach_at) == (2, local(SHANGHAI, 2026, 11, 27, 11, 30))
    assert TicketMetricSet.objects.get(ticket=ticket).reopens == 1
    wait = metric(ticket, "requester_wait_time")
    # Requester wait resumes with 255 counted: 225 left from 09:30 -> 13:15.
    assert (wait.stage, wait.breach_at) == ("active", local(SHANGHAI, 2026, 11, 27, 13, 15))

    # Nobody answers. The scheduler runs at 11:45: one breach event, once.
    at = local(SHANGHAI, 2026, 11, 27, 11, 45)
    with clock.frozen_at(at):
        assert sla.record_due_events() >= 1
        assert sla.record_due_events() == 0
    assert metric(ticket, "next_reply_time").stage == "breached"
    breaches = AuditEvent.objects.filter(audit__ticket=ticket, type="SlaBreach")
    assert [e.field_name for e in breaches] == ["next_reply_time"]
    assert TicketMetricEvent.objects.filter(
        ticket=ticket, metric="reply_time", instance_id=3, type="breach"
    ).get().time == local(SHANGHAI, 2026, 11, 27, 11, 30)


def test_a_saturday_working_day_counts_and_a_national_holiday_does_not(personas):
    # 2026: Sunday 20 September is a working day (调休); 1-7 October are holidays.
    p = personas
    schedule = office()
    loaded = sla.load_china_holidays(schedule, years=[2026])
    assert loaded.years == [2026] and loaded.extra_workdays == 6
    policy(priority="urgent", first_reply_time=60)

    friday = open_ticket(p, local(SHANGHAI, 2026, 9, 18, 17, 50), priority="urgent")
    assert metric(friday, "first_reply_time").breach_at == local(SHANGHAI, 2026, 9, 20, 9, 50)

    before_holiday = open_ticket(p, local(SHANGHAI, 2026, 9, 30, 17, 30), priority="urgent")
    assert metric(before_holiday, "first_reply_time").breach_at == local(
        SHANGHAI, 2026, 10, 8, 9, 30
    )


def test_business_hours_across_the_new_york_dst_change(personas):
    p = personas
    office("America/New_York", 9, 17)
    policy(first_reply_time=120)
    # Friday 6 March 16:00 EST; the clocks go forward on Sunday 8 March.
    ticket = open_ticket(p, local(NEW_YORK, 2026, 3, 6, 16, 0))
    due = metric(ticket, "first_reply_time").breach_at
    assert due == local(NEW_YORK, 2026, 3, 9, 10, 0)
    agent_reply(p, ticket, due)
    metrics = TicketMetricSet.objects.get(ticket=ticket)
    # 21:00Z Friday -> 14:00Z Monday is 2 days 17 hours: the lost hour is not counted.
    assert (metrics.reply_time_calendar, metrics.reply_time_business) == (3900, 120)
    assert metric(ticket, "first_reply_time").stage == "achieved"


def test_pausable_update_pauses_in_pending_while_periodic_update_keeps_running(personas):
    p = personas
    office()
    policy(periodic_update_time=120, pausable_update_time=120)
    ticket = open_ticket(p, local(SHANGHAI, 2026, 11, 23, 9, 0))
    assert not SlaMetricState.objects.filter(ticket=ticket).exists()  # no agent update yet
    agent_reply(p, ticket, local(SHANGHAI, 2026, 11, 23, 10, 0), status="pending")
    assert metric(ticket, "pausable_update_time").stage == "paused"
    periodic = metric(ticket, "periodic_update_time")
    assert (periodic.stage, periodic.breach_at) == ("active", local(SHANGHAI, 2026, 11, 23, 12, 0))
