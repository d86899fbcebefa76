"""Schedules: business hours, holidays, extra working days; which schedule a ticket uses.

Admins call these (the API and admin pages check that the caller is an admin). Every write
moves ``Schedule.updated_at``, which keys the cache of compiled schedules (``compiled``).
"""

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Group
from kefu.core import clock
from kefu.tickets.models import Ticket

from .. import business_time
from ..business_time import DAY_MINUTES, WEEK_MINUTES
from ..models import (
    ExtraWorkday,
    GroupSchedule,
    Holiday,
    Schedule,
    ScheduleInterval,
    SlaTicketState,
    new_revision,
)
from ..timezones import resolve

SOURCE_CHINA = "chinese_calendar"
SOURCE_ICAL = "ical"
MAX_HOLIDAY_DAYS = 366

# chinesecalendar's English names -> the names people in China use.
CHINA_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


# --- Validation ---------------------------------------------------------------------------------


def clean_time_zone(value: str) -> str:
    if resolve(value) is None:
        raise _error("time_zone", _("“%(zone)s” is not a time zone.") % {"zone": value})
    return value.strip()


def clean_intervals(intervals: Iterable[Mapping[str, Any]]) -> list[tuple[int, int]]:
    """Weekly intervals ``[{"start_time", "end_time"}]`` in minutes from Sunday 00:00.

    An interval may cross midnight, and Saturday's may run into Sunday (end up to one day
    past the end of the week). Overlapping intervals are refused.
    """
    cleaned: list[tuple[int, int]] = []
    for item in intervals:
        try:
            start, end = item["start_time"], item["end_time"]
        except (KeyError, TypeError):
            raise _error(
                "intervals", _("Each interval needs a start_time and an end_time.")
            ) from None
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
            raise _error("intervals", _("Interval times are whole minutes."))
        if not (0 <= start < WEEK_MINUTES and start < end <= WEEK_MINUTES + DAY_MINUTES):
            raise _error(
                "intervals",
                _("Interval %(start)s-%(end)s is outside the week or ends before it starts.")
                % {"start": start, "end": end},
            )
        cleaned.append((start, end))
    cleaned.sort()
    # Compare neighbours, and the week's last interval with the first one moved a week on.
    pairs = list(itertools.pairwise(cleaned))
    if len(cleaned) > 1:
        first = cleaned[0]
        pairs.append((cleaned[-1], (first[0] + WEEK_MINUTES, first[1] + WEEK_MINUTES)))
    for (_start, end), (next_start, _end) in pairs:
        if next_start < end:
            raise _error("intervals", _("Intervals overlap."))
    return cleaned


def _clean_name(name: str, field_name: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise _error(field_name, _("A name is required."))
    return name[:255]


def _clean_day_minutes(start_time: int, end_time: int) -> tuple[int, int]:
    if not (0 <= start_time < end_time <= DAY_MINUTES):
        raise _error(
            "start_time", _("Working hours of a day are minutes from 0 to 1440, start first.")
        )
    return start_time, end_time


def _touch(schedule: Schedule) -> None:
    schedule.updated_at = clock.now()
    schedule.revision = new_revision()
    Schedule.objects.filter(pk=schedule.pk).update(
        updated_at=schedule.updated_at, revision=schedule.revision
    )


# --- Schedules ----------------------------------------------------------------------------------


@transaction.atomic
def create_schedule(
    *,
    name: str,
    time_zone: str,
    intervals: Iterable[Mapping[str, Any]] = (),
    is_default: bool | None = None,
) -> Schedule:
    """A schedule. The first one becomes the default unless ``is_default`` says otherwise."""
    name = _clean_name(name)
    time_zone = clean_time_zone(time_zone)
    cleaned = clean_intervals(intervals)
    if is_default is None:
        is_default = not Schedule.objects.exists()
    if is_default:
        Schedule.objects.filter(is_default=True).update(is_default=False)
    schedule = Schedule.objects.create(name=name, time_zone=time_zone, is_default=is_default)
    ScheduleInterval.objects.bulk_create(
        [ScheduleInterval(schedule=schedule, start_time=s, end_time=e) for s, e in cleaned]
    )
    return schedule


@transaction.atomic
def update_schedule(
    schedule: Schedule,
    *,
    name: str | None = None,
    time_zone: str | None = None,
    is_default: bool | None = None,
) -> Schedule:
    """Change the name, time zone or default flag (only the arguments given)."""
    if name is not None:
        schedule.name = _clean_name(name)
    if time_zone is not None:
        schedule.time_zone = clean_time_zone(time_zone)
    if is_default:
        Schedule.objects.filter(is_default=True).exclude(pk=schedule.pk).update(is_default=False)
        schedule.is_default = True
    elif is_default is False:
        schedule.is_default = False
    schedule.updated_at = clock.now()
    schedule.revision = new_revision()
    schedule.save()
    return schedule


@transaction.atomic
def set_workweek(schedule: Schedule, *, intervals: Iterable[Mapping[str, Any]]) -> Schedule:
    """Replace the weekly intervals (Zendesk's ``PUT schedules/{id}/workweek``)."""
    cleaned = clean_intervals(intervals)
    schedule.intervals.all().delete()
    ScheduleInterval.objects.bulk_create(
        [ScheduleInterval(schedule=schedule, start_time=s, end_time=e) for s, e in cleaned]
    )
    _touch(schedule)
    return schedule


def delete_schedule(schedule: Schedule) -> None:
    """Delete a schedule; its tickets fall back to their group's or the default schedule."""
    schedule.delete()


# --- Holidays and extra working days ------------------------------------------------------------


def _clean_range(start_date: dt.date, end_date: dt.date) -> None:
    if end_date < start_date:
        raise _error("end_date", _("The end date is before the start date."))
    if (end_date - start_date).days >= MAX_HOLIDAY_DAYS:
        raise _error("end_date", _("A holiday lasts at most a year."))


@transaction.atomic
def create_holiday(
    schedule: Schedule, *, name: str, start_date: dt.date, end_date: dt.date, source: str = ""
) -> Holiday:
    """A holiday (both dates included) on ``schedule``."""
    _clean_range(start_date, end_date)
    holiday = Holiday.objects.create(
        schedule=schedule,
        name=_clean_name(name),
        start_date=start_date,
        end_date=end_date,
        source=source,
    )
    _touch(schedule)
    return holiday


@transaction.atomic
def update_holiday(
    holiday: Holiday,
    *,
    name: str | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Holiday:
    if name is not None:
        holiday.name = _clean_name(name)
    holiday.start_date = start_date or holiday.start_date
    holiday.end_date = end_date or holiday.end_date
    _clean_range(holiday.start_date, holiday.end_date)
    holiday.save()
    _touch(holiday.schedule)
    return holiday


@transaction.atomic
def delete_holiday(holiday: Holiday) -> None:
    schedule = holiday.schedule
    holiday.delete()
    _touch(schedule)


def default_day_hours(schedule: Schedule) -> tuple[int, int]:
    """The hours of a typical working day: Monday's (else the first weekday with hours)."""
    intervals = tuple(schedule.intervals.values_list("start_time", "end_time"))
    for weekday in (1, 2, 3, 4, 5, 6, 0):
        windows = business_time._weekday_windows(intervals, weekday)
        if windows:
            return windows[0][0], windows[-1][1]
    return 9 * 60, 18 * 60


@transaction.atomic
def set_extra_workday(
    schedule: Schedule,
    *,
    date: dt.date,
    name: str = "",
    start_time: int | None = None,
    end_time: int | None = None,
    source: str = "",
) -> ExtraWorkday:
    """Make ``date`` a working day with these hours (default: a typical weekday's hours)."""
    if start_time is None or end_time is None:
        start_time, end_time = default_day_hours(schedule)
    start_time, end_time = _clean_day_minutes(start_time, end_time)
    day, _created = ExtraWorkday.objects.update_or_create(
        schedule=schedule,
        date=date,
        defaults={
            "name": name.strip()[:255],
            "start_time": start_time,
            "end_time": end_time,
            "source": source,
        },
    )
    _touch(schedule)
    return day


@transaction.atomic
def delete_extra_workday(day: ExtraWorkday) -> None:
    schedule = day.schedule
    day.delete()
    _touch(schedule)


@dataclass
class CalendarLoad:
    """What a holiday import did."""

    holidays: int = 0
    extra_workdays: int = 0
    years: list[int] = field(default_factory=list)
    missing_years: list[int] = field(default_factory=list)


def _ranges(days: Mapping[dt.date, str]) -> list[tuple[dt.date, dt.date, str]]:
    """Consecutive dates with the same name -> (first, last, name)."""
    result: list[tuple[dt.date, dt.date, str]] = []
    for day in sorted(days):
        name = days[day]
        if result and result[-1][2] == name and result[-1][1] + dt.timedelta(days=1) == day:
            result[-1] = (result[-1][0], day, name)
        else:
            result.append((day, day, name))
    return result


@transaction.atomic
def load_china_holidays(schedule: Schedule, *, years: Sequence[int]) -> CalendarLoad:
    """China's public holidays and adjusted working days (调休) for ``years``, from the
    ``chinesecalendar`` package (State Council notices). Idempotent: what an earlier load of
    these years added is replaced. Years the package does not know yet are reported in
    ``missing_years`` (admins add those days by hand or from an iCal file)."""
    import chinese_calendar

    known = {day.year for day in chinese_calendar.holidays}
    result = CalendarLoad()
    hours = default_day_hours(schedule)
    for year in sorted(set(years)):
        if year not in known:
            result.missing_years.append(year)
            continue
        result.years.append(year)
        schedule.holidays.filter(source=SOURCE_CHINA, start_date__year=year).delete()
        schedule.extra_workdays.filter(source=SOURCE_CHINA, date__year=year).delete()
        holidays = {
            day: CHINA_HOLIDAY_NAMES.get(name, name)
            for day, name in chinese_calendar.holidays.items()
            if day.year == year
        }
        for start, end, name in _ranges(holidays):
            Holiday.objects.create(
                schedule=schedule, name=name, start_date=start, end_date=end, source=SOURCE_CHINA
            )
            result.holidays += 1
        for day, name in sorted(chinese_calendar.workdays.items()):
            if day.year != year:
                continue
            label = CHINA_HOLIDAY_NAMES.get(name, name)
            ExtraWorkday.objects.update_or_create(
                schedule=schedule,
                date=day,
                defaults={
                    "name": _("%(holiday)s adjusted working day") % {"holiday": label},
                    "start_time": hours[0],
                    "end_time": hours[1],
                    "source": SOURCE_CHINA,
                },
            )
            result.extra_workdays += 1
    _touch(schedule)
    return result


WORKDAY_MARKERS = ("补班", "上班", "调休上班", "working day", "workday")


@transaction.atomic
def import_ical(schedule: Schedule, *, data: bytes | str) -> CalendarLoad:
    """Holidays from an iCalendar file: each VEVENT's dates become a holiday named by its
    SUMMARY (DTEND exclusive, as RFC 5545 says for all-day events). An event whose summary
    says it is a working day (补班, 上班, "working day") becomes an extra working day instead.
    Refuses a file that is not iCalendar, naming the ``file`` field; writes nothing then."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError) as error:
        raise _error("file", _("This is not an iCalendar file.")) from error
    result = CalendarLoad()
    hours = default_day_hours(schedule)
    for event in calendar.walk("VEVENT"):
        start_prop = event.get("DTSTART")
        if start_prop is None:
            continue
        start = start_prop.dt
        end_prop = event.get("DTEND")
        end = end_prop.dt if end_prop is not None else None
        if isinstance(start, dt.datetime):
            start_day = start.date()
            end_day = (end - dt.timedelta(microseconds=1)).date() if end else start_day
        else:
            start_day = start
            end_day = end - dt.timedelta(days=1) if end else start
        end_day = max(end_day, start_day)
        summary = str(event.get("SUMMARY") or _("Holiday"))
        if any(marker in summary.lower() for marker in WORKDAY_MARKERS):
            day = start_day
            while day <= end_day:
                ExtraWorkday.objects.update_or_create(
                    schedule=schedule,
                    date=day,
                    defaults={
                        "name": summary[:255],
                        "start_time": hours[0],
                        "end_time": hours[1],
                        "source": SOURCE_ICAL,
                    },
                )
                result.extra_workdays += 1
                day += dt.timedelta(days=1)
            continue
        _clean_range(start_day, end_day)
        Holiday.objects.create(
            schedule=schedule,
            name=summary[:255],
            start_date=start_day,
            end_date=end_day,
            source=SOURCE_ICAL,
        )
        result.holidays += 1
    _touch(schedule)
    return result


# --- Which schedule a ticket uses ---------------------------------------------------------------


def set_group_schedule(group: Group, *, schedule: Schedule | None) -> None:
    """Tickets of ``group`` use ``schedule`` (None: the default again)."""
    if schedule is None:
        GroupSchedule.objects.filter(group=group).delete()
    else:
        GroupSchedule.objects.update_or_create(group=group, defaults={"schedule": schedule})


def set_ticket_schedule(ticket: Ticket, *, schedule: Schedule | None) -> None:
    """Pin ``ticket`` to ``schedule`` (Zendesk's "set schedule" trigger action; None: unpin),
    then re-evaluate its SLAs. For rules; runs in the caller's transaction."""
    from .live import evaluate_ticket

    SlaTicketState.objects.update_or_create(
        ticket=ticket, defaults={"schedule_override": schedule, "updated_at": clock.now()}
    )
    evaluate_ticket(ticket)


def schedule_for_ticket(ticket: Ticket, state: SlaTicketState | None) -> Schedule | None:
    """Zendesk's order: the ticket's own schedule (set by a trigger), its group's, the
    default; with a single schedule, that one."""
    if state is not None and state.schedule_override_id is not None:
        return state.schedule_override
    if ticket.group_id is not None:
        group_schedule = (
            GroupSchedule.objects.filter(group_id=ticket.group_id)
            .select_related("schedule")
            .first()
        )
        if group_schedule is not None:
            return group_schedule.schedule
    return Schedule.objects.order_by("-is_default", "id").first()


def compiled(schedule: Schedule | None) -> business_time.Schedule:
    """The arithmetic's schedule for ``schedule`` (calendar hours when there is none)."""
    if schedule is None:
        return business_time.Schedule.calendar()
    return _compiled(schedule.pk, schedule.revision)


def compiled_by_id(schedule_id: int | None, revision: str) -> business_time.Schedule:
    """``compiled`` from a schedule's id and revision (None: calendar hours)."""
    if schedule_id is None:
        return business_time.Schedule.calendar()
    return _compiled(schedule_id, revision)


@functools.lru_cache(maxsize=128)
def _compiled(schedule_id: int, revision: str) -> business_time.Schedule:
    schedule = Schedule.objects.get(pk=schedule_id)
    return business_time.Schedule.build(
        time_zone=resolve(schedule.time_zone) or "UTC",
        intervals=schedule.intervals.values_list("start_time", "end_time"),
        holidays=schedule.holidays.values_list("start_date", "end_date"),
        extra_workdays={
            day: [(start, end)]
            for day, start, end in schedule.extra_workdays.values_list(
                "date", "start_time", "end_time"
            )
        },
    )
