"""SLA pages: the admin settings for schedules and policies (real forms, errors on the
fields, both languages) and the agents' SLA report with its CSV."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from kefu.core import clock
from kefu.sla import actions as sla
from kefu.sla.models import ExtraWorkday, Holiday, Schedule, SlaPolicy, SlaReevaluation

from .helpers import SHANGHAI, agent_reply, local, office, open_ticket, targets

pytestmark = pytest.mark.django_db

WEEK = {f"day_{d}": "" for d in range(7)}


@pytest.fixture
def admin(client, personas):  # type: ignore[no-untyped-def]
    client.force_login(personas.admin)
    return client


def test_every_sla_admin_page_renders_in_both_languages_and_is_listed(admin):
    schedule = office()
    policy = sla.create_policy(
        title="Standard", policy_metrics=targets("high", first_reply_time=60)
    )
    pages = [
        reverse("sla:schedules"), reverse("sla:new_schedule"),
        reverse("sla:edit_schedule", args=[schedule.pk]), reverse("sla:policies"),
        reverse("sla:new_policy"), reverse("sla:edit_policy", args=[policy.pk]),
        reverse("sla:report"),
    ]  # fmt: skip
    for page in pages:
        assert admin.get(page).status_code == 200, page
        assert admin.get(page, HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200, page
    index = admin.get("/agent/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert reverse("sla:schedules") in index and reverse("sla:policies") in index


def test_agents_who_are_not_admins_cannot_open_the_sla_settings(client, personas):
    client.force_login(personas.alice)
    assert client.get(reverse("sla:schedules")).status_code in (302, 403, 404)
    assert client.post(reverse("sla:new_policy"), {"title": "x"}).status_code in (302, 403, 404)
    assert not SlaPolicy.objects.exists()


def test_a_schedule_is_created_from_weekly_hours_including_a_night_shift(admin):
    response = admin.post(reverse("sla:new_schedule"), {
        "name": "上海办公室", "time_zone": "Beijing", "is_default": "on", **WEEK,
        "day_1": "09:00-12:00, 13:00-18:00", "day_5": "22:00-02:00",
    })  # fmt: skip

    schedule = Schedule.objects.get()
    assert response.status_code == 302
    assert (schedule.name, schedule.time_zone, schedule.is_default) == (
        "上海办公室",
        "Beijing",
        True,
    )
    assert list(schedule.intervals.values_list("start_time", "end_time")) == [
        (1440 + 540, 1440 + 720), (1440 + 780, 1440 + 1080), (5 * 1440 + 1320, 6 * 1440 + 120),
    ]  # fmt: skip
    page = admin.get(reverse("sla:edit_schedule", args=[schedule.pk])).content.decode()
    assert 'value="09:00-12:00, 13:00-18:00"' in page and 'value="22:00-02:00"' in page


def test_schedule_errors_are_shown_on_their_fields_and_nothing_is_saved(admin):
    response = admin.post(reverse("sla:new_schedule"), {
        "name": "Office", "time_zone": "Mars/Olympus", **WEEK, "day_1": "9 to 6",
    })  # fmt: skip
    form = response.context["form"]
    assert response.status_code == 400
    assert form.errors["day_1"] == [
        "Write hours like 09:00-18:00 (several: 09:00-12:00, 13:00-18:00)."
    ]
    assert not Schedule.objects.exists()

    response = admin.post(reverse("sla:new_schedule"), {
        "name": "Office", "time_zone": "Mars/Olympus", **WEEK, "day_1": "09:00-18:00",
    })  # fmt: skip
    assert response.status_code == 400
    assert "not a time zone" in response.context["form"].errors["time_zone"][0]

    response = admin.post(reverse("sla:new_schedule"), {
        "name": "Office", "time_zone": "UTC", **WEEK, "day_1": "09:00-18:00, 17:00-19:00",
    })  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Intervals overlap."]
    assert not Schedule.objects.exists()


def test_holidays_and_extra_working_days_are_added_and_deleted(admin):
    schedule = office()
    url = reverse("sla:add_holiday", args=[schedule.pk])

    bad = admin.post(url, {"holiday-name": "国庆节", "holiday-start_date": "2026-10-07",
                           "holiday-end_date": "2026-10-01"})  # fmt: skip
    assert bad.status_code == 400
    assert bad.context["holiday_form"].errors["end_date"] == [
        "The end date is before the start date."
    ]
    admin.post(url, {"holiday-name": "国庆节", "holiday-start_date": "2026-10-01",
                     "holiday-end_date": "2026-10-07"})  # fmt: skip
    admin.post(reverse("sla:add_workday", args=[schedule.pk]),
               {"workday-date": "2026-10-10", "workday-name": "国庆节补班",
                "workday-hours": ""})  # fmt: skip

    holiday = Holiday.objects.get(schedule=schedule)
    workday = ExtraWorkday.objects.get(schedule=schedule)
    assert (holiday.start_date, holiday.end_date) == (dt.date(2026, 10, 1), dt.date(2026, 10, 7))
    assert (workday.date, workday.start_time, workday.end_time) == (
        dt.date(2026, 10, 10),
        540,
        1080,
    )
    admin.post(reverse("sla:delete_holiday", args=[schedule.pk, holiday.pk]))
    admin.post(reverse("sla:delete_workday", args=[schedule.pk, workday.pk]))
    assert not Holiday.objects.exists() and not ExtraWorkday.objects.exists()


def test_loading_china_holidays_says_which_years_the_installed_calendar_lacks(admin):
    schedule = office()
    with clock.frozen_at(local(SHANGHAI, 2026, 11, 25, 10, 0)):
        page = admin.get(reverse("sla:edit_schedule", args=[schedule.pk])).content.decode()
        response = admin.post(reverse("sla:load_china", args=[schedule.pk]),
                              {"china-years": ["2026", "2027"]}, follow=True)  # fmt: skip

    assert "for 2004–2026" in page
    assert "2027 (not published in the installed data yet)" in page
    text = response.content.decode()
    assert "adjusted working days for 2026" in text
    assert "No data for 2027 in the installed calendar" in text
    assert Holiday.objects.filter(schedule=schedule, name="国庆节", start_date__year=2026).exists()


def test_an_ical_file_imports_holidays_and_working_days(admin):
    schedule = office()
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:春节\r\nDTSTART;VALUE=DATE:20270206\r\n"
        "DTEND;VALUE=DATE:20270214\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:春节补班\r\nDTSTART;VALUE=DATE:20270214\r\n"
        "DTEND;VALUE=DATE:20270215\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    response = admin.post(
        reverse("sla:import_ical", args=[schedule.pk]),
        {"ical-file": SimpleUploadedFile("cn-2027.ics", ics, content_type="text/calendar")},
    )

    assert response.status_code == 302
    holiday = Holiday.objects.get(schedule=schedule)
    assert (holiday.name, holiday.start_date, holiday.end_date) == (
        "春节", dt.date(2027, 2, 6), dt.date(2027, 2, 13))  # fmt: skip
    assert ExtraWorkday.objects.get(schedule=schedule).date == dt.date(2027, 2, 14)


def test_a_policy_is_saved_from_the_targets_grid(admin):
    response = admin.post(reverse("sla:new_policy"), {
        "title": "VIP 贵宾", "description": "", "warning_minutes": "15",
        "conditions": '{"all": [{"field": "priority", "operator": "is_not", '
                      '"value": "low"}], "any": []}',
        "t_first_reply_time_urgent": "30", "t_first_reply_time_high": "60",
        "bh_first_reply_time": "on", "t_total_resolution_time_urgent": "1440",
    })  # fmt: skip

    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.warning_minutes == 15
    assert policy.filter["all"][0]["field"] == "priority"
    assert sorted(policy.policy_metrics, key=lambda m: (m["metric"], m["priority"])) == [
        {"priority": "high", "metric": "first_reply_time", "target": 60, "business_hours": True},
        {"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": True},
        {"priority": "urgent", "metric": "total_resolution_time", "target": 1440,
         "business_hours": False},
    ]  # fmt: skip
    page = admin.get(reverse("sla:edit_policy", args=[policy.pk])).content.decode()
    assert 'name="t_first_reply_time_high" value="60"' in page


def test_policy_errors_are_shown_on_their_fields(admin):
    response = admin.post(reverse("sla:new_policy"), {
        "title": "Bad", "warning_minutes": "30",
        "conditions": '{"all": [{"field": "planet", "operator": "is", "value": "mars"}]}',
        "t_first_reply_time_high": "0",
    })  # fmt: skip

    form = response.context["form"]
    assert response.status_code == 400
    assert form.errors["t_first_reply_time_high"]
    assert not SlaPolicy.objects.exists()
    response = admin.post(reverse("sla:new_policy"), {
        "title": "Bad", "warning_minutes": "30",
        "conditions": '{"all": [{"field": "planet", "operator": "is", "value": "mars"}]}',
    })  # fmt: skip
    assert "Unknown field: planet" in response.context["form"].errors["conditions"][0]


def test_policies_are_reordered_and_the_reevaluation_progress_is_shown(
    admin, django_capture_on_commit_callbacks
):
    first = sla.create_policy(title="First", policy_metrics=targets("high", first_reply_time=60))
    second = sla.create_policy(title="Second", policy_metrics=targets("high", first_reply_time=30))

    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("sla:move_policy", args=[second.pk, "up"]))

    assert list(SlaPolicy.objects.order_by("position").values_list("pk", flat=True)) == [
        second.pk, first.pk]  # fmt: skip
    run = SlaReevaluation.objects.order_by("-started_at", "-id").first()
    assert run is not None and run.finished_at is not None
    page = admin.get(reverse("sla:policies")).content.decode()
    assert "Last re-evaluation:" in page
    SlaReevaluation.objects.create(reason="test", total=2000, done=500)
    status = admin.get(reverse("sla:reevaluation_status")).content.decode()
    assert "Re-evaluating open tickets: 500 of 2000" in status
    assert 'value="25"' in status


def test_the_report_lists_attainment_links_breached_tickets_and_downloads_csv(client, personas):
    sla.create_policy(title="标准 Standard", filter={"all": [], "any": []},
                      policy_metrics=targets("normal", False, first_reply_time=60))  # fmt: skip
    opened = local(SHANGHAI, 2026, 11, 23, 9, 0)
    late = open_ticket(personas, opened)
    on_time = open_ticket(personas, opened)
    agent_reply(personas, late, opened + dt.timedelta(minutes=90))
    agent_reply(personas, on_time, opened + dt.timedelta(minutes=10))
    client.force_login(personas.alice)

    with clock.frozen_at(opened + dt.timedelta(days=1)):
        page = client.get(reverse("sla:report"), {"start": "2026-11-01", "end": "2026-11-30"})
        csv = client.get(reverse("sla:report"),
                         {"start": "2026-11-01", "end": "2026-11-30", "format": "csv"})  # fmt: skip
        home = client.get(reverse("web:agent_home"), follow=True)

    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="{reverse("tickets:ticket", args=[late.pk])}"' in html
    assert "50.0%" in html
    assert csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("policy,metric,group,agent")
    assert "标准 Standard,reply_time" in body and f",{late.pk}" in body
    assert f'href="{reverse("sla:report")}"' in home.content.decode()  # in the top bar


def test_the_report_refuses_an_end_before_the_start(client, personas):
    client.force_login(personas.alice)
    response = client.get(reverse("sla:report"), {"start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 400
    assert response.context["form"].errors["end"] == ["The end date is before the start date."]


def test_the_report_s_date_range_reads_as_dates_in_chinese(client, personas):
    # "From" is also an email header ("发件人"); the range's start has its own context.
    client.force_login(personas.alice)
    with translation.override("zh-hans"):
        html = client.get(reverse("sla:report"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "从（含当天）" in html and "发件人" not in html
