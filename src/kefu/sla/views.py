"""SLA pages: the admin settings for schedules and policies, and the SLA report for agents.
Thin: every change goes through ``sla.actions``; their ValidationErrors land on the fields."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core import clock
from kefu.web.admin.decorators import admin_required
from kefu.web.decorators import agent_required

from . import actions, reports
from .forms import (
    ChinaHolidaysForm,
    ExtraWorkdayForm,
    HolidayForm,
    IcalForm,
    PolicyForm,
    ReportForm,
    ScheduleForm,
    format_time,
)
from .models import ExtraWorkday, Holiday, Schedule, SlaPolicy
from .progress import latest_run


def _errors_to_form(form: Form, exc: ValidationError, fields: dict[str, str] | None = None) -> None:
    """Put an action's errors on the form's fields (``fields`` renames action -> form)."""
    if not hasattr(exc, "error_dict"):  # a message that names no field: above the form
        form.add_error(None, exc.messages)
        return
    fields = fields or {}
    for key, errors in exc.message_dict.items():
        name = fields.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


# --- Schedules --------------------------------------------------------------------------------


@admin_required
def schedules(request: HttpRequest) -> HttpResponse:
    rows = Schedule.objects.annotate(
        holiday_count=Count("holidays", distinct=True),
        workday_count=Count("extra_workdays", distinct=True),
    ).order_by("-is_default", "name", "id")
    return render(request, "sla/admin/schedules.html", {"section": "sla_schedules",
                                                         "schedules": rows})  # fmt: skip


@admin_required
def edit_schedule(request: HttpRequest, schedule_id: int | None = None) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id) if schedule_id else None
    initial = ScheduleForm.initial_for(schedule) if schedule else {"time_zone": "Asia/Shanghai",
        **{f"day_{d}": "09:00-18:00" for d in range(1, 6)}}  # fmt: skip
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if schedule is None:
                schedule = actions.create_schedule(
                    name=data["name"],
                    time_zone=data["time_zone"],
                    intervals=form.intervals(),
                    is_default=data["is_default"] or None,
                )
            else:
                actions.update_schedule(
                    schedule,
                    name=data["name"],
                    time_zone=data["time_zone"],
                    is_default=data["is_default"],
                )
                actions.set_workweek(schedule, intervals=form.intervals())
        except ValidationError as exc:
            _errors_to_form(form, exc, {"intervals": "__all__"})
        else:
            messages.success(request, _("Saved."))
            return redirect("sla:edit_schedule", schedule.pk)
    return _schedule_page(request, schedule, form=form)


def _schedule_page(
    request: HttpRequest, schedule: Schedule | None, *, status: int | None = None, **forms: Any
) -> HttpResponse:
    forms.setdefault("form", ScheduleForm(initial=ScheduleForm.initial_for(schedule))
                     if schedule else ScheduleForm())  # fmt: skip
    forms.setdefault("holiday_form", HolidayForm())
    forms.setdefault("workday_form", ExtraWorkdayForm())
    forms.setdefault("china_form", ChinaHolidaysForm())
    forms.setdefault("ical_form", IcalForm())
    bound_errors = any(f.is_bound and f.errors for f in forms.values())
    context: dict[str, Any] = {
        "section": "sla_schedules",
        "schedule": schedule,
        "title": schedule.name if schedule else _("New schedule"),
        **forms,
    }
    if schedule is not None:
        context["holidays"] = schedule.holidays.order_by("start_date", "id")
        context["workdays"] = [
            (day, f"{format_time(day.start_time)}-{format_time(day.end_time)}")
            for day in schedule.extra_workdays.order_by("date")
        ]
    return render(request, "sla/admin/schedule.html", context,
                  status=status or (400 if bound_errors else 200))  # fmt: skip


@admin_required
@require_POST
def add_holiday(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            actions.create_holiday(schedule, **form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Holiday added."))
            return redirect("sla:edit_schedule", schedule.pk)
    return _schedule_page(request, schedule, holiday_form=form)


@admin_required
@require_POST
def delete_holiday(request: HttpRequest, schedule_id: int, holiday_id: int) -> HttpResponse:
    actions.delete_holiday(get_object_or_404(Holiday, pk=holiday_id, schedule_id=schedule_id))
    messages.success(request, _("Deleted."))
    return redirect("sla:edit_schedule", schedule_id)


@admin_required
@require_POST
def add_workday(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = ExtraWorkdayForm(request.POST)
    if form.is_valid():
        hours = form.cleaned_data["hours"]
        try:
            actions.set_extra_workday(
                schedule,
                date=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
                start_time=hours[0] if hours else None,
                end_time=hours[1] if hours else None,
            )
        except ValidationError as exc:
            _errors_to_form(form, exc, {"start_time": "hours", "end_time": "hours"})
        else:
            messages.success(request, _("Extra working day added."))
            return redirect("sla:edit_schedule", schedule.pk)
    return _schedule_page(request, schedule, workday_form=form)


@admin_required
@require_POST
def delete_workday(request: HttpRequest, schedule_id: int, workday_id: int) -> HttpResponse:
    actions.delete_extra_workday(
        get_object_or_404(ExtraWorkday, pk=workday_id, schedule_id=schedule_id)
    )
    messages.success(request, _("Deleted."))
    return redirect("sla:edit_schedule", schedule_id)


@admin_required
@require_POST
def load_china(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = ChinaHolidaysForm(request.POST)
    if not form.is_valid():
        return _schedule_page(request, schedule, china_form=form)
    result = actions.load_china_holidays(schedule, years=form.cleaned_data["years"])
    if result.years:
        messages.success(
            request,
            _("Loaded %(holidays)s holidays and %(workdays)s adjusted working days for %(years)s.")
            % {"holidays": result.holidays, "workdays": result.extra_workdays,
               "years": ", ".join(map(str, result.years))},
        )  # fmt: skip
    if result.missing_years:
        messages.warning(
            request,
            _("No data for %(years)s in the installed calendar: add those days by hand or "
              "import an iCal file.") % {"years": ", ".join(map(str, result.missing_years))},
        )  # fmt: skip
    return redirect("sla:edit_schedule", schedule.pk)


@admin_required
@require_POST
def import_ical(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    form = IcalForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = actions.import_ical(schedule, data=form.cleaned_data["file"].read())
        except ValidationError as exc:
            _errors_to_form(form, exc, {"data": "file", "ical": "file"})
            if not form.errors:
                form.add_error("file", exc.messages)
        else:
            messages.success(
                request,
                _("Imported %(holidays)s holidays and %(workdays)s extra working days.")
                % {"holidays": result.holidays, "workdays": result.extra_workdays},
            )
            return redirect("sla:edit_schedule", schedule.pk)
    return _schedule_page(request, schedule, ical_form=form)


@admin_required
@require_POST
def delete_schedule(request: HttpRequest, schedule_id: int) -> HttpResponse:
    actions.delete_schedule(get_object_or_404(Schedule, pk=schedule_id))
    messages.success(request, _("Deleted."))
    return redirect("sla:schedules")


# --- Policies ---------------------------------------------------------------------------------


@admin_required
def policies(request: HttpRequest) -> HttpResponse:
    return render(request, "sla/admin/policies.html", {
        "section": "sla_policies",
        "policies": SlaPolicy.objects.order_by("position", "id"),
        "run": latest_run(),
    })  # fmt: skip


@admin_required
def edit_policy(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=policy_id) if policy_id else None
    initial = PolicyForm.initial_for(policy) if policy else {}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {
            "title": form.cleaned_data["title"],
            "description": form.cleaned_data["description"],
            "warning_minutes": form.cleaned_data["warning_minutes"],
            "filter": form.cleaned_data["conditions"],
            "policy_metrics": form.policy_metrics(),
        }
        try:
            if policy is None:
                actions.create_policy(**values)
            else:
                actions.update_policy(policy, **values)
        except ValidationError as exc:
            _errors_to_form(form, exc, {"filter": "conditions", "policy_metrics": "__all__"})
        else:
            messages.success(request, _("Saved. Open tickets are being re-evaluated."))
            return redirect("sla:policies")
    return render(
        request,
        "sla/admin/policy.html",
        {"section": "sla_policies", "form": form, "policy": policy,
         "title": policy.title if policy else _("New SLA policy")},
        status=400 if form.errors else 200,
    )  # fmt: skip


@admin_required
@require_POST
def move_policy(request: HttpRequest, policy_id: int, direction: str) -> HttpResponse:
    ordered = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
    index = ordered.index(get_object_or_404(SlaPolicy, pk=policy_id).pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        actions.reorder_policies(policy_ids=ordered)
    return redirect("sla:policies")


@admin_required
@require_POST
def delete_policy(request: HttpRequest, policy_id: int) -> HttpResponse:
    actions.delete_policy(get_object_or_404(SlaPolicy, pk=policy_id))
    messages.success(request, _("Deleted."))
    return redirect("sla:policies")


@admin_required
def reevaluation_status(request: HttpRequest) -> HttpResponse:
    """The latest re-evaluation's progress (the policies page polls it while one runs)."""
    return render(request, "sla/admin/partials/run.html", {"run": latest_run()})


# --- Report (agents) --------------------------------------------------------------------------


@agent_required
def report(request: HttpRequest) -> HttpResponse:
    """Attainment per policy, metric, group and agent over a date range; ``?format=csv``."""
    user: User = request.user  # type: ignore[assignment]
    today = timezone.localdate(clock.now())
    form = ReportForm(request.GET or None, initial=ReportForm.default_range(today))
    rows: list[reports.ReportRow] = []
    if not request.GET:
        form = ReportForm(ReportForm.default_range(today))
    if form.is_valid():
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(form.cleaned_data["start"], dt.time(), tzinfo=zone)
        end = dt.datetime.combine(
            form.cleaned_data["end"] + dt.timedelta(days=1), dt.time(), tzinfo=zone
        )
        rows = reports.attainment(user=user, start=start, end=end)
        if request.GET.get("format") == "csv":
            response = HttpResponse(
                reports.attainment_csv(rows), content_type="text/csv; charset=utf-8"
            )
            name = f"sla-{form.cleaned_data['start']}-{form.cleaned_data['end']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    csv_url = f"{reverse('sla:report')}?{request.GET.urlencode() or _range_query(form)}"
    if "format=csv" not in csv_url:
        csv_url += "&format=csv"
    return render(
        request,
        "sla/report.html",
        {"form": form, "rows": rows, "csv_url": csv_url,
         "ticket_url": reverse("tickets:ticket", args=[0]).replace("/0/", "/{id}/")},
        status=400 if form.errors else 200,
    )  # fmt: skip


def _range_query(form: ReportForm) -> str:
    data = form.cleaned_data if form.is_valid() else {}
    return f"start={data.get('start', '')}&end={data.get('end', '')}"
