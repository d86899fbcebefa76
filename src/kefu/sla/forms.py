"""Admin settings forms for SLAs: schedules (weekly hours, holidays, extra working days,
China's calendar, iCal) and policies (conditions, targets per priority and metric). The
forms parse what people type; the rules (overlaps, ranges, valid conditions) stay in
``sla.actions``, whose errors the views put back on the fields."""

import datetime as dt
import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.tickets.choices import Priority

from .choices import Metric
from .models import Schedule, SlaPolicy

DAY = 24 * 60
WEEK = 7 * DAY
# (index from Sunday, label), Monday first as on a calendar in China.
WEEKDAYS = [
    (1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")),
    (5, _("Friday")), (6, _("Saturday")), (0, _("Sunday")),
]  # fmt: skip
_TIME = re.compile(r"^\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")
_RANGE = re.compile(r"^\s*(\S+)\s*[-–~]\s*(\S+)\s*$")


def parse_time(text: str) -> int:
    """ "09:30" -> 570; "24:00" is the end of the day."""
    match = _TIME.match(text)
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValidationError(_("“%(value)s” is not a time like 09:00."), params={"value": text})
    return int(match.group(1)) * 60 + int(match.group(2))


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day_hours(text: str) -> list[tuple[int, int]]:
    """ "09:00-12:00, 13:00-18:00" -> [(540, 720), (780, 1080)]; an end before the start runs
    past midnight ("22:00-06:00"). Empty: closed."""
    windows = []
    for part in filter(None, (p.strip() for p in re.split(r"[,，;；]", text or ""))):
        match = _RANGE.match(part)
        if not match:
            raise ValidationError(
                _("Write hours like 09:00-18:00 (several: 09:00-12:00, 13:00-18:00).")
            )
        start, end = parse_time(match.group(1)), parse_time(match.group(2))
        if start == end or start >= DAY:
            raise ValidationError(_("“%(value)s” is empty."), params={"value": part})
        windows.append((start, end if end > start else end + DAY))
    return windows


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ScheduleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=100,
        initial="Asia/Shanghai",
        help_text=_("An IANA name (Asia/Shanghai) or a Zendesk name (Beijing)."),
    )
    is_default = forms.BooleanField(
        label=_("Default schedule (tickets whose group has no schedule use it)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, label in WEEKDAYS:
            self.fields[f"day_{index}"] = forms.CharField(
                label=label,
                required=False,
                help_text=_("Empty: closed."),
                widget=forms.TextInput(attrs={"placeholder": "09:00-18:00"}),
            )

    @staticmethod
    def initial_for(schedule: Schedule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "is_default": schedule.is_default,
        }
        days: dict[int, list[str]] = {}
        for start, end in schedule.intervals.values_list("start_time", "end_time"):
            day, offset = divmod(start, DAY)
            days.setdefault(day % 7, []).append(
                f"{format_time(offset)}-{format_time((offset + end - start) % DAY or DAY)}"
            )
        for index, _label in WEEKDAYS:
            initial[f"day_{index}"] = ", ".join(days.get(index, []))
        return initial

    def intervals(self) -> list[dict[str, int]]:
        """The weekly intervals in minutes from Sunday 00:00 (after ``is_valid``)."""
        result = []
        for index, _label in WEEKDAYS:
            for start, end in self.cleaned_data[f"day_{index}"]:
                result.append({"start_time": index * DAY + start, "end_time": index * DAY + end})
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for index, _label in WEEKDAYS:
            name = f"day_{index}"
            if name in data:
                try:
                    data[name] = parse_day_hours(data[name])
                except ValidationError as exc:
                    self.add_error(name, exc)
        return data


class HolidayForm(forms.Form):
    prefix = "holiday"
    name = forms.CharField(label=_("Holiday name"), max_length=255)
    start_date = forms.DateField(label=_("First day"), widget=_date_input())
    end_date = forms.DateField(label=_("Last day"), widget=_date_input())


class ExtraWorkdayForm(forms.Form):
    prefix = "workday"
    date = forms.DateField(label=_("Date"), widget=_date_input())
    name = forms.CharField(label=_("Name"), max_length=255, required=False)
    hours = forms.CharField(
        label=_("Hours"),
        required=False,
        help_text=_("Empty: the hours of a normal weekday."),
        widget=forms.TextInput(attrs={"placeholder": "09:00-18:00"}),
    )

    def clean_hours(self) -> tuple[int, int] | None:
        windows = parse_day_hours(self.cleaned_data.get("hours", ""))
        if not windows:
            return None
        if len(windows) > 1 or windows[0][1] > DAY:
            raise ValidationError(_("One range within the day, like 09:00-18:00."))
        return windows[0]


def china_years() -> tuple[list[int], tuple[int, int] | None]:
    """(this year and next, the years the installed chinesecalendar covers (first, last))."""
    import chinese_calendar

    from kefu.core import clock

    known = sorted({day.year for day in chinese_calendar.holidays})
    this_year = clock.now().year
    return [this_year, this_year + 1], ((known[0], known[-1]) if known else None)


class ChinaHolidaysForm(forms.Form):
    prefix = "china"
    years = forms.TypedMultipleChoiceField(
        label=_("Years"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        years, covered = china_years()
        choices = []
        for year in years:
            if covered and covered[0] <= year <= covered[1]:
                choices.append((year, str(year)))
            else:
                choices.append(
                    (year, _("%(year)s (not published in the installed data yet)") % {"year": year})
                )
        self.fields["years"].choices = choices  # type: ignore[attr-defined]
        self.fields["years"].initial = [y for y, _label in choices if str(_label) == str(y)]
        self.covered = covered


class IcalForm(forms.Form):
    prefix = "ical"
    file = forms.FileField(
        label=_("iCalendar file (.ics)"),
        help_text=_("Each event becomes a holiday; events named 补班, 上班 or “working day” "
                    "become extra working days."),
    )  # fmt: skip


# --- Policies -----------------------------------------------------------------------------------

PRIORITIES = list(Priority)
METRICS = list(Metric)


class PolicyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    warning_minutes = forms.IntegerField(
        label=_("Warn this many minutes before a breach"),
        min_value=0,
        initial=30,
        help_text=_("0: no warnings."),
    )
    conditions = forms.CharField(
        label=_("Conditions (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code", "spellcheck": "false"}),
        help_text=_('Tickets this policy applies to, e.g. {"all": [{"field": "group_id", '
                    '"operator": "is", "value": 12}], "any": []}. Empty: every ticket.'),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for metric in METRICS:
            self.fields[f"bh_{metric.value}"] = forms.BooleanField(
                label=_("%(metric)s in business hours") % {"metric": metric.label},
                required=False,
                initial=True,
            )
            for priority in PRIORITIES:
                self.fields[f"t_{metric.value}_{priority.value}"] = forms.IntegerField(
                    label=_("%(metric)s, %(priority)s (minutes)")
                    % {"metric": metric.label, "priority": priority.label},
                    required=False,
                    min_value=1,
                )

    @staticmethod
    def initial_for(policy: SlaPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "title": policy.title,
            "description": policy.description,
            "warning_minutes": policy.warning_minutes,
            "conditions": json.dumps(policy.filter, ensure_ascii=False, indent=2),
        }
        for metric in METRICS:
            initial[f"bh_{metric.value}"] = True
        for item in policy.policy_metrics:
            initial[f"t_{item['metric']}_{item['priority']}"] = item["target"]
            initial[f"bh_{item['metric']}"] = bool(item.get("business_hours"))
        return initial

    def grid(self) -> list[dict[str, Any]]:
        """Rows for the template: each metric with its business-hours box and one target
        field per priority."""
        return [
            {
                "metric": metric,
                "business_hours": self[f"bh_{metric.value}"],
                "targets": [self[f"t_{metric.value}_{p.value}"] for p in PRIORITIES],
            }
            for metric in METRICS
        ]

    @property
    def priority_labels(self) -> list[Any]:
        return [p.label for p in PRIORITIES]

    def scalar_fields(self) -> list[Any]:
        return [self[name] for name in ("title", "description", "warning_minutes", "conditions")]

    def clean_conditions(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("conditions") or "").strip()
        if not text:
            return {"all": [], "any": []}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("This is not valid JSON: %(e)s"), params={"e": exc.msg}
            ) from None
        if not isinstance(value, dict):
            raise ValidationError(_('Conditions are an object: {"all": [...], "any": [...]}.'))
        return value

    def policy_metrics(self) -> list[dict[str, Any]]:
        result = []
        for metric in METRICS:
            business = bool(self.cleaned_data.get(f"bh_{metric.value}"))
            for priority in PRIORITIES:
                target = self.cleaned_data.get(f"t_{metric.value}_{priority.value}")
                if target:
                    result.append({"priority": priority.value, "metric": metric.value,
                                   "target": target, "business_hours": business})  # fmt: skip
        return result


class ReportForm(forms.Form):
    start = forms.DateField(
        label=pgettext_lazy("start of a date range", "From"), widget=_date_input()
    )
    end = forms.DateField(label=_("To (included)"), widget=_date_input())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date is before the start date."))
        return data

    @staticmethod
    def default_range(today: dt.date) -> dict[str, dt.date]:
        return {"start": today - dt.timedelta(days=29), "end": today}
