"""Schedules, holidays, policies: validation, imports, selection, re-evaluation."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.accounts import actions as accounts
from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.actions.schedules import schedule_for_ticket
from kefu.sla.models import Holiday, Schedule, SlaMetricState, SlaPolicy, SlaTicketState
from kefu.tickets.actions import TicketData, update_ticket
from kefu.tickets.models import AuditEvent

from .helpers import SHANGHAI, local, metric, office, open_ticket, policy, targets, weekdays

pytestmark = pytest.mark.django_db

ICAL = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Kefu test//EN
BEGIN:VEVENT
UID:1@test
DTSTART;VALUE=DATE:20270101
DTEND;VALUE=DATE:20270104
SUMMARY:\xe5\x85\x83\xe6\x97\xa6
END:VEVENT
BEGIN:VEVENT
UID:2@test
DTSTART;VALUE=DATE:20270207
DTEND;VALUE=DATE:20270208
SUMMARY:\xe6\x98\xa5\xe8\x8a\x82\xe8\xa1\xa5\xe7\x8f\xad
END:VEVENT
END:VCALENDAR
"""


def errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return list(excinfo.value.message_dict)


def test_a_schedule_accepts_zendesk_time_zone_names_and_the_first_is_the_default(db):
    schedule = sla.create_schedule(
        name="Beijing office", time_zone="Beijing", intervals=weekdays(9, 18)
    )
    assert schedule.is_default and schedule.intervals.count() == 5
    second = sla.create_schedule(name="US", time_zone="America/New_York", intervals=[])
    assert not second.is_default


def test_a_bad_time_zone_or_overlapping_intervals_are_refused_naming_the_field(db):
    with pytest.raises(ValidationError) as bad_zone:
        sla.create_schedule(name="x", time_zone="Mars/Base", intervals=[])
    assert errors(bad_zone) == ["time_zone"]
    with pytest.raises(ValidationError) as overlap:
        sla.create_schedule(
            name="x",
            time_zone="UTC",
            intervals=[
                {"start_time": 600, "end_time": 1200},
                {"start_time": 1000, "end_time": 1500},
            ],
        )
    assert errors(overlap) == ["intervals"]
    with pytest.raises(ValidationError) as wraps:
        # Saturday 22:00 -> Sunday 02:00 overlaps Sunday 01:00-03:00.
        sla.create_schedule(
            name="x",
            time_zone="UTC",
            intervals=[
                {"start_time": 9960, "end_time": 10200},
                {"start_time": 60, "end_time": 180},
            ],
        )
    assert errors(wraps) == ["intervals"]
    assert not Schedule.objects.exists()


def test_a_holiday_ending_before_it_starts_is_refused(db):
    schedule = office()
    with pytest.raises(ValidationError) as excinfo:
        sla.create_holiday(
            schedule, name="x", start_date=dt.date(2026, 5, 5), end_date=dt.date(2026, 5, 1)
        )
    assert errors(excinfo) == ["end_date"]
    assert not Holiday.objects.exists()


def test_china_holidays_load_idempotently_and_report_years_the_package_lacks(db):
    schedule = office()
    first = sla.load_china_holidays(schedule, years=[2026, 2099])
    again = sla.load_china_holidays(schedule, years=[2026])
    assert first.missing_years == [2099]
    assert (first.holidays, first.extra_workdays) == (again.holidays, again.extra_workdays)
    assert schedule.holidays.count() == first.holidays
    national_day = schedule.holidays.get(start_date=dt.date(2026, 10, 1))
    assert (national_day.name, national_day.end_date) == ("国庆节", dt.date(2026, 10, 7))
    saturday = schedule.extra_workdays.get(date=dt.date(2026, 10, 10))
    assert (saturday.start_time, saturday.end_time) == (9 * 60, 18 * 60)


def test_an_ical_file_adds_holidays_and_working_days(db):
    schedule = office()
    loaded = sla.import_ical(schedule, data=ICAL)
    assert (loaded.holidays, loaded.extra_workdays) == (1, 1)
    new_year = schedule.holidays.get()
    assert (new_year.name, new_year.start_date, new_year.end_date) == (
        "元旦",
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 3),
    )
    assert schedule.extra_workdays.get().date == dt.date(2027, 2, 7)
    with pytest.raises(ValidationError) as excinfo:
        sla.import_ical(schedule, data=b"not a calendar")
    assert errors(excinfo) == ["file"]


def test_policy_targets_are_validated_naming_the_field(db):
    with pytest.raises(ValidationError) as bad_metric:
        sla.create_policy(
            title="x", policy_metrics=[{"priority": "high", "metric": "nope", "target": 5}]
        )
    assert errors(bad_metric) == ["policy_metrics"]
    with pytest.raises(ValidationError) as twice:
        sla.create_policy(
            title="x",
            policy_metrics=targets("high", first_reply_time=5)
            + targets("high", first_reply_time=9),
        )
    assert errors(twice) == ["policy_metrics"]
    with pytest.raises(ValidationError) as bad_filter:
        sla.create_policy(
            title="x", filter={"all": [{"field": "nope", "operator": "is", "value": 1}]}
        )
    assert errors(bad_filter) == ["filter"]
    with pytest.raises(ValidationError) as no_title:
        sla.create_policy(title=" ")
    assert errors(no_title) == ["title"]
    assert not SlaPolicy.objects.exists()


def test_policies_are_reordered_with_every_id_once(db):
    a = sla.create_policy(title="A")
    b = sla.create_policy(title="B")
    assert [p.pk for p in sla.reorder_policies(policy_ids=[b.pk, a.pk])] == [b.pk, a.pk]
    assert list(SlaPolicy.objects.values_list("title", flat=True)) == ["B", "A"]
    with pytest.raises(ValidationError) as excinfo:
        sla.reorder_policies(policy_ids=[a.pk])
    assert errors(excinfo) == ["sla_policy_ids"]


def test_the_first_matching_policy_applies_and_a_change_is_recorded_in_the_audit(personas):
    p = personas
    office()
    sla.create_policy(
        title="Urgent 紧急",
        filter={"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
        policy_metrics=targets("urgent", first_reply_time=30),
    )
    policy(priority="normal", first_reply_time=240)
    at = local(SHANGHAI, 2026, 11, 23, 10, 0)
    ticket = open_ticket(p, at)
    state = SlaTicketState.objects.get(ticket=ticket)
    assert state.policy is not None and state.policy.title == "Standard 标准"
    with clock.frozen_at(at + dt.timedelta(minutes=5)):
        update_ticket(ticket, actor=p.alice, data=TicketData(priority="urgent"))
    state.refresh_from_db()
    assert state.policy is not None and state.policy.title == "Urgent 紧急"
    first = metric(ticket, "first_reply_time")
    assert (first.target_minutes, first.breach_at) == (30, at + dt.timedelta(minutes=30))
    applied = AuditEvent.objects.filter(audit__ticket=ticket, type="SlaPolicy").order_by("id")
    assert [e.value["title"] for e in applied] == ["Standard 标准", "Urgent 紧急"]


def test_a_ticket_without_priority_gets_no_targets_as_in_zendesk(personas):
    office()
    policy(priority="normal", first_reply_time=60)
    ticket = open_ticket(personas, local(SHANGHAI, 2026, 11, 23, 10, 0), priority=None)  # type: ignore[arg-type]
    assert not SlaMetricState.objects.filter(ticket=ticket).exists()


def test_group_schedule_then_default_then_ticket_override_decide_the_schedule(personas):
    p = personas
    default = office()
    night = sla.create_schedule(name="Night", time_zone="UTC", intervals=weekdays(0, 6))
    ticket = open_ticket(p, local(SHANGHAI, 2026, 11, 23, 10, 0))
    assert schedule_for_ticket(ticket, None) == default
    sla.set_group_schedule(p.support, schedule=night)
    ticket.group = p.support
    assert schedule_for_ticket(ticket, None) == night
    other = sla.create_schedule(name="Other", time_zone="UTC", intervals=weekdays(1, 2))
    sla.set_ticket_schedule(ticket, schedule=other)
    assert schedule_for_ticket(ticket, SlaTicketState.objects.get(ticket=ticket)) == other
    assert accounts  # the group came from the personas


def test_a_policy_change_reevaluates_open_tickets(personas):
    office()
    at = local(SHANGHAI, 2026, 11, 23, 10, 0)
    ticket = open_ticket(personas, at)
    assert not SlaMetricState.objects.filter(ticket=ticket).exists()
    policy(priority="normal", first_reply_time=60)
    with clock.frozen_at(at + dt.timedelta(minutes=1)):
        assert sla.reevaluate_tickets() == 1
    assert metric(ticket, "first_reply_time").breach_at == at + dt.timedelta(minutes=60)


def test_evaluating_a_ticket_update_costs_a_bounded_number_of_queries(
    personas, django_assert_max_num_queries
):
    office()
    policy(priority="normal", first_reply_time=60, requester_wait_time=600)
    ticket = open_ticket(personas, local(SHANGHAI, 2026, 11, 23, 10, 0))
    with clock.frozen_at(local(SHANGHAI, 2026, 11, 23, 10, 5)), django_assert_max_num_queries(14):
        sla.evaluate_ticket(ticket)
