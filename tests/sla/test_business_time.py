"""Business-time arithmetic: worked examples, then properties checked with hypothesis."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.sla.business_time import (
    NoBusinessTime,
    Schedule,
    add_business_minutes,
    business_minutes_between,
    is_business_time,
    next_business_start,
)
from kefu.sla.timezones import resolve, zendesk_zones

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = 24 * 60


def weekdays(start_hour: int, end_hour: int) -> list[tuple[int, int]]:
    """Mon-Fri intervals in Zendesk's minutes from Sunday 00:00."""
    return [(d * DAY + start_hour * 60, d * DAY + end_hour * 60) for d in range(1, 6)]


def office(zone: str = "Asia/Shanghai", **kwargs) -> Schedule:  # type: ignore[no-untyped-def]
    return Schedule.build(time_zone=zone, intervals=weekdays(9, 18), **kwargs)


def at(zone: ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


# --- Worked examples ---------------------------------------------------------------------------


def test_friday_evening_plus_thirty_minutes_lands_on_monday_morning():
    schedule = office()
    friday_1750 = at(SHANGHAI, 2026, 11, 20, 17, 50)
    assert add_business_minutes(schedule, friday_1750, 30) == at(SHANGHAI, 2026, 11, 23, 9, 20)
    assert business_minutes_between(schedule, friday_1750, at(SHANGHAI, 2026, 11, 23, 9, 5)) == 15


def test_adding_exactly_the_rest_of_the_day_ends_at_closing_time_not_next_opening():
    schedule = office()
    assert add_business_minutes(schedule, at(SHANGHAI, 2026, 11, 23, 9, 0), 540) == at(
        SHANGHAI, 2026, 11, 23, 18, 0
    )


def test_adding_zero_minutes_returns_the_start_even_outside_business_hours():
    saturday = at(SHANGHAI, 2026, 11, 21, 12, 0)
    assert add_business_minutes(office(), saturday, 0) == saturday


def test_holidays_are_skipped_and_extra_working_days_are_worked():
    # 2026: 9/25-10/7 holidays (Mid-autumn + National Day); Saturday 10/10 is worked (调休).
    schedule = office(
        holidays=[(dt.date(2026, 10, 1), dt.date(2026, 10, 7))],
        extra_workdays={dt.date(2026, 10, 10): [(9 * 60, 18 * 60)]},
    )
    wednesday_before = at(SHANGHAI, 2026, 9, 30, 17, 0)
    # 60 minutes on 9/30, then nothing until Thursday 10/8.
    assert add_business_minutes(schedule, wednesday_before, 120) == at(SHANGHAI, 2026, 10, 8, 10, 0)
    friday = at(SHANGHAI, 2026, 10, 9, 17, 0)
    assert add_business_minutes(schedule, friday, 120) == at(SHANGHAI, 2026, 10, 10, 10, 0)
    assert is_business_time(schedule, at(SHANGHAI, 2026, 10, 10, 9, 0))
    assert not is_business_time(schedule, at(SHANGHAI, 2026, 10, 2, 10, 0))


def test_an_interval_crossing_midnight_counts_on_both_dates_and_a_holiday_cuts_its_tail():
    # Monday 22:00 -> Tuesday 02:00 (night shift).
    night = Schedule.build(time_zone="Asia/Shanghai", intervals=[(DAY + 22 * 60, 2 * DAY + 120)])
    monday_23 = at(SHANGHAI, 2026, 11, 23, 23, 0)
    assert add_business_minutes(night, monday_23, 90) == at(SHANGHAI, 2026, 11, 24, 0, 30)
    with_holiday = Schedule.build(
        time_zone="Asia/Shanghai",
        intervals=[(DAY + 22 * 60, 2 * DAY + 120)],
        holidays=[(dt.date(2026, 11, 24), dt.date(2026, 11, 24))],
    )
    # Tuesday's hours are gone: the next window is Monday 30 November 22:00.
    assert add_business_minutes(with_holiday, monday_23, 90) == at(SHANGHAI, 2026, 11, 30, 22, 30)


def test_an_interval_crossing_the_end_of_the_week_wraps_to_sunday():
    saturday_night = Schedule.build(time_zone="UTC", intervals=[(6 * DAY + 22 * 60, 7 * DAY + 120)])
    sunday_0100 = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
    assert is_business_time(saturday_night, sunday_0100)
    assert add_business_minutes(saturday_night, sunday_0100, 90) == dt.datetime(
        2026, 11, 28, 22, 30, tzinfo=dt.UTC
    )


def test_new_york_spring_forward_night_shift_is_an_hour_shorter():
    # 00:00-06:00 every day; on 8 March 2026 the clocks jump from 02:00 to 03:00.
    nightly = Schedule.build(
        time_zone="America/New_York", intervals=[(d * DAY, d * DAY + 360) for d in range(7)]
    )
    sunday = at(NEW_YORK, 2026, 3, 8, 0, 0)
    assert business_minutes_between(nightly, sunday, at(NEW_YORK, 2026, 3, 8, 12, 0)) == 300
    # A normal Sunday has six hours.
    assert (
        business_minutes_between(
            nightly, at(NEW_YORK, 2026, 3, 1, 0, 0), at(NEW_YORK, 2026, 3, 1, 12, 0)
        )
        == 360
    )


def test_berlin_fall_back_night_shift_is_an_hour_longer():
    nightly = Schedule.build(
        time_zone="Europe/Berlin", intervals=[(d * DAY, d * DAY + 360) for d in range(7)]
    )
    # 25 October 2026: 03:00 CEST -> 02:00 CET.
    assert (
        business_minutes_between(
            nightly, at(BERLIN, 2026, 10, 25, 0, 0), at(BERLIN, 2026, 10, 25, 12, 0)
        )
        == 420
    )


def test_business_hours_follow_local_time_across_dst():
    schedule = office("America/New_York")
    friday_before = at(NEW_YORK, 2026, 3, 6, 17, 0)  # EST
    monday_after = add_business_minutes(schedule, friday_before, 120)  # EDT on Monday
    assert monday_after == at(NEW_YORK, 2026, 3, 9, 10, 0)
    assert monday_after.utcoffset() == dt.timedelta(0)  # results are UTC
    assert monday_after.astimezone(NEW_YORK).hour == 10


def test_next_business_start_is_the_moment_itself_during_business_hours():
    schedule = office()
    tuesday_10 = at(SHANGHAI, 2026, 11, 24, 10, 0)
    assert next_business_start(schedule, tuesday_10) == tuesday_10
    assert next_business_start(schedule, at(SHANGHAI, 2026, 11, 21, 10, 0)) == at(
        SHANGHAI, 2026, 11, 23, 9, 0
    )


def test_calendar_hours_count_every_minute():
    calendar = Schedule.calendar()
    saturday = at(SHANGHAI, 2026, 11, 21, 3, 0)
    assert add_business_minutes(calendar, saturday, 90) == saturday + dt.timedelta(minutes=90)
    assert business_minutes_between(calendar, saturday, saturday + dt.timedelta(hours=2)) == 120
    assert is_business_time(calendar, saturday)


def test_a_schedule_without_working_time_refuses_to_add_minutes():
    with pytest.raises(NoBusinessTime):
        add_business_minutes(
            Schedule.build(time_zone="UTC", intervals=[]), at(SHANGHAI, 2026, 1, 1), 5
        )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(office(), dt.datetime(2026, 1, 1), 5)


def test_zendesk_time_zone_names_resolve_to_iana_names():
    assert resolve("Beijing") == "Asia/Shanghai"
    assert resolve("Pacific Time (US & Canada)") == "America/Los_Angeles"
    assert resolve("Asia/Shanghai") == "Asia/Shanghai"
    assert resolve("Mars/Olympus_Mons") is None
    for iana in zendesk_zones().values():
        assert ZoneInfo(iana)


# --- Properties --------------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    zone = draw(st.sampled_from(ZONES))
    intervals = []
    cursor = 0
    # Disjoint weekly intervals on a 15-minute grid, some crossing midnight.
    for _ in range(draw(st.integers(1, 8))):
        start = cursor + draw(st.integers(0, 96)) * 15
        end = start + draw(st.integers(1, 64)) * 15
        if end > 7 * DAY + DAY:
            break
        intervals.append((start, end))
        cursor = end + 15
        if cursor >= 7 * DAY:
            break
    holidays = [
        (day, day + dt.timedelta(days=draw(st.integers(0, 6))))
        for day in draw(st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=4))
    ]
    extra = {
        day: [(draw(st.integers(0, 40)) * 15, draw(st.integers(41, 96)) * 15)]
        for day in draw(st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=3))
    }
    return Schedule.build(
        time_zone=zone, intervals=intervals, holidays=holidays, extra_workdays=extra
    )


moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),
    max_value=dt.datetime(2026, 12, 31),
    timezones=st.just(dt.UTC),
)
minutes = st.integers(min_value=1, max_value=5000)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), start=moments, n=minutes)
def test_adding_n_minutes_then_measuring_gives_n(schedule: Schedule, start: dt.datetime, n: int):
    end = add_business_minutes(schedule, start, n)
    assert business_minutes_between(schedule, start, end) == pytest.approx(n, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules(), start=moments, n=minutes)
def test_a_deadline_never_lands_outside_business_hours(
    schedule: Schedule, start: dt.datetime, n: int
):
    end = add_business_minutes(schedule, start, n)
    # The n-th minute ends inside a window or exactly at its end.
    assert is_business_time(schedule, end - dt.timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(schedule=schedules(), start=moments, a=minutes, b=minutes)
def test_more_minutes_never_give_an_earlier_deadline(
    schedule: Schedule, start: dt.datetime, a: int, b: int
):
    low, high = sorted((a, b))
    assert add_business_minutes(schedule, start, low) <= add_business_minutes(schedule, start, high)


@settings(max_examples=100, deadline=None)
@given(
    schedule=schedules(),
    start=moments,
    pause_after=st.integers(0, 3000),
    pause_for=st.integers(0, 20_000),
    n=minutes,
)
def test_pausing_and_resuming_keeps_the_elapsed_time(
    schedule: Schedule, start: dt.datetime, pause_after: int, pause_for: int, n: int
):
    # Run for a while, pause (any length, in calendar minutes), resume, run the rest.
    paused_at = start + dt.timedelta(minutes=pause_after)
    elapsed = business_minutes_between(schedule, start, paused_at)
    resumed_at = paused_at + dt.timedelta(minutes=pause_for)
    rest = max(n - elapsed, 0)
    end = add_business_minutes(schedule, resumed_at, rest)
    measured = business_minutes_between(schedule, start, paused_at) + business_minutes_between(
        schedule, resumed_at, end
    )
    assert measured == pytest.approx(max(n, elapsed), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(schedule=schedules(), a=moments, b=moments, c=moments)
def test_business_minutes_add_up_over_consecutive_spans(
    schedule: Schedule, a: dt.datetime, b: dt.datetime, c: dt.datetime
):
    a, b, c = sorted((a, b, c))
    whole = business_minutes_between(schedule, a, c)
    parts = business_minutes_between(schedule, a, b) + business_minutes_between(schedule, b, c)
    assert whole == pytest.approx(parts, abs=1e-6)
    assert whole <= (c - a).total_seconds() / 60 + 1e-6
