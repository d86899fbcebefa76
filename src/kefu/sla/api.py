"""SLA endpoints (Zendesk's ``business_hours/schedules``, ``slas/policies``, ``ticket_metrics``
and ``incremental/ticket_metric_events``): thin — parse, check, call the action."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.pagination import page_url, paginate
from kefu.core import clock
from kefu.tickets import access

from . import actions
from .models import Holiday, Schedule, SlaPolicy, TicketMetricEvent, TicketMetricSet
from .schemas import (
    HolidayEnvelope,
    HolidayInEnvelope,
    HolidayList,
    MetricEventList,
    PolicyEnvelope,
    PolicyInEnvelope,
    PolicyList,
    ReorderIn,
    ScheduleEnvelope,
    ScheduleInEnvelope,
    ScheduleList,
    TicketMetricEnvelope,
    TicketMetricList,
    WorkweekInEnvelope,
    holiday_json,
    metric_event_json,
    policy_json,
    schedule_json,
    ticket_metric_json,
)

router = Router(tags=["SLAs"])

EVENTS_PER_PAGE = 1000


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.is_admin:
        raise PermissionDenied(_("Only admins manage SLAs."))
    return user


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents see SLAs."))
    return user


def _schedules() -> QuerySet[Schedule]:
    return Schedule.objects.prefetch_related("intervals", "extra_workdays")


# --- Schedules -------------------------------------------------------------------------------


@router.get("business_hours/schedules", response=ScheduleList, summary="List schedules")
def list_schedules(request: HttpRequest) -> dict:
    _agent(request)
    return {"schedules": [schedule_json(s) for s in _schedules().order_by("name", "id")]}


@router.get(
    "business_hours/schedules/{int:schedule_id}",
    response=ScheduleEnvelope,
    summary="Show a schedule",
)
def show_schedule(request: HttpRequest, schedule_id: int) -> dict:
    _agent(request)
    return {"schedule": schedule_json(get_object_or_404(_schedules(), pk=schedule_id))}


@router.post(
    "business_hours/schedules", response={201: ScheduleEnvelope}, summary="Create a schedule"
)
def create_schedule(request: HttpRequest, payload: ScheduleInEnvelope) -> Status:
    _admin(request)
    data = payload.schedule
    schedule = actions.create_schedule(
        name=data.name or "", time_zone=data.time_zone or "", intervals=data.intervals or []
    )
    return Status(201, {"schedule": schedule_json(_schedules().get(pk=schedule.pk))})


@router.put(
    "business_hours/schedules/{int:schedule_id}",
    response=ScheduleEnvelope,
    summary="Update a schedule",
)
def update_schedule(request: HttpRequest, schedule_id: int, payload: ScheduleInEnvelope) -> dict:
    _admin(request)
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    actions.update_schedule(
        schedule, name=payload.schedule.name, time_zone=payload.schedule.time_zone
    )
    if payload.schedule.intervals is not None:
        actions.set_workweek(schedule, intervals=payload.schedule.intervals)
    return {"schedule": schedule_json(_schedules().get(pk=schedule.pk))}


@router.put(
    "business_hours/schedules/{int:schedule_id}/workweek",
    response=ScheduleEnvelope,
    summary="Update a schedule's weekly intervals",
)
def update_workweek(request: HttpRequest, schedule_id: int, payload: WorkweekInEnvelope) -> dict:
    _admin(request)
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    actions.set_workweek(schedule, intervals=payload.workweek.intervals)
    return {"schedule": schedule_json(_schedules().get(pk=schedule.pk))}


@router.delete(
    "business_hours/schedules/{int:schedule_id}", response={204: None}, summary="Delete a schedule"
)
def delete_schedule(request: HttpRequest, schedule_id: int) -> Status:
    _admin(request)
    actions.delete_schedule(get_object_or_404(Schedule, pk=schedule_id))
    return Status(204, None)


@router.get(
    "business_hours/schedules/{int:schedule_id}/holidays",
    response=HolidayList,
    summary="List a schedule's holidays",
)
def list_holidays(request: HttpRequest, schedule_id: int) -> dict:
    _agent(request)
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    return {"holidays": [holiday_json(h) for h in schedule.holidays.all()]}


@router.post(
    "business_hours/schedules/{int:schedule_id}/holidays",
    response={201: HolidayEnvelope},
    summary="Create a holiday",
)
def create_holiday(request: HttpRequest, schedule_id: int, payload: HolidayInEnvelope) -> Status:
    _admin(request)
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    data = payload.holiday
    holiday = actions.create_holiday(
        schedule, name=data.name, start_date=data.start_date, end_date=data.end_date
    )
    return Status(201, {"holiday": holiday_json(holiday)})


@router.delete(
    "business_hours/schedules/{int:schedule_id}/holidays/{int:holiday_id}",
    response={204: None},
    summary="Delete a holiday",
)
def delete_holiday(request: HttpRequest, schedule_id: int, holiday_id: int) -> Status:
    _admin(request)
    actions.delete_holiday(get_object_or_404(Holiday, pk=holiday_id, schedule_id=schedule_id))
    return Status(204, None)


# --- SLA policies ----------------------------------------------------------------------------


@router.get("slas/policies", response=PolicyList, summary="List SLA policies")
def list_policies(request: HttpRequest) -> dict:
    _agent(request)
    policies = list(SlaPolicy.objects.order_by("position", "id"))
    return {
        "sla_policies": [policy_json(request, p) for p in policies],
        "next_page": None,
        "previous_page": None,
        "count": len(policies),
    }


@router.get("slas/policies/{int:policy_id}", response=PolicyEnvelope, summary="Show an SLA policy")
def show_policy(request: HttpRequest, policy_id: int) -> dict:
    _agent(request)
    return {"sla_policy": policy_json(request, get_object_or_404(SlaPolicy, pk=policy_id))}


@router.post("slas/policies", response={201: PolicyEnvelope}, summary="Create an SLA policy")
def create_policy(request: HttpRequest, payload: PolicyInEnvelope) -> Status:
    _admin(request)
    data = payload.sla_policy
    policy = actions.create_policy(
        title=data.title or "",
        description=data.description or "",
        filter=data.filter,
        policy_metrics=data.policy_metrics,
        position=data.position,
        warning_minutes=30 if data.warning_minutes is None else data.warning_minutes,
    )
    return Status(201, {"sla_policy": policy_json(request, policy)})


@router.put("slas/policies/reorder", response=PolicyList, summary="Reorder SLA policies")
def reorder_policies(request: HttpRequest, payload: ReorderIn) -> dict:
    _admin(request)
    policies = actions.reorder_policies(policy_ids=payload.sla_policy_ids)
    return {
        "sla_policies": [policy_json(request, p) for p in policies],
        "next_page": None,
        "previous_page": None,
        "count": len(policies),
    }


@router.put(
    "slas/policies/{int:policy_id}", response=PolicyEnvelope, summary="Update an SLA policy"
)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyInEnvelope) -> dict:
    _admin(request)
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    changes = payload.sla_policy.model_dump(exclude_unset=True)
    policy = actions.update_policy(policy, **changes)
    return {"sla_policy": policy_json(request, policy)}


@router.delete(
    "slas/policies/{int:policy_id}", response={204: None}, summary="Delete an SLA policy"
)
def delete_policy(request: HttpRequest, policy_id: int) -> Status:
    _admin(request)
    actions.delete_policy(get_object_or_404(SlaPolicy, pk=policy_id))
    return Status(204, None)


# --- Ticket metrics --------------------------------------------------------------------------


def _visible_metrics(user: User) -> QuerySet[TicketMetricSet]:
    return TicketMetricSet.objects.filter(ticket__in=access.visible_tickets(user))


@router.get(
    "tickets/{int:ticket_id}/metrics",
    response=TicketMetricEnvelope,
    summary="Show a ticket's metrics",
)
def ticket_metrics_of_ticket(request: HttpRequest, ticket_id: int) -> dict:
    user = _agent(request)
    ticket = access.access_ticket(user, ticket_id)
    row = TicketMetricSet.objects.filter(ticket=ticket).first()
    if row is None:  # a ticket from before SLAs were installed: compute it now
        actions.evaluate_ticket(ticket)
        row = get_object_or_404(TicketMetricSet, ticket=ticket)
    return {"ticket_metric": ticket_metric_json(request, row)}


@router.get("ticket_metrics", response=TicketMetricList, summary="List ticket metrics")
def list_ticket_metrics(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    return paginate(
        request,
        _visible_metrics(user),
        key="ticket_metrics",
        serialize=lambda rows: [ticket_metric_json(request, row) for row in rows],
    )


@router.get(
    "ticket_metrics/{int:metric_id}", response=TicketMetricEnvelope, summary="Show ticket metrics"
)
def show_ticket_metric(request: HttpRequest, metric_id: int) -> dict:
    user = _agent(request)
    row = get_object_or_404(_visible_metrics(user), pk=metric_id)
    return {"ticket_metric": ticket_metric_json(request, row)}


@router.get(
    "incremental/ticket_metric_events",
    response=MetricEventList,
    summary="Incremental export of ticket metric events",
)
def incremental_metric_events(request: HttpRequest, start_time: int) -> dict:
    _admin(request)
    if start_time < 0 or start_time > int(clock.now().timestamp()):
        raise ValidationError({"start_time": [_("start_time is a Unix time in the past.")]})
    start = dt.datetime.fromtimestamp(start_time, tz=dt.UTC)
    horizon = clock.now().replace(microsecond=0)
    rows = list(
        TicketMetricEvent.objects.filter(time__gte=start, time__lt=horizon).order_by("time", "id")[
            : EVENTS_PER_PAGE + 1
        ]
    )
    more = len(rows) > EVENTS_PER_PAGE
    rows = rows[:EVENTS_PER_PAGE]
    end_time = int(rows[-1].time.timestamp()) if rows else start_time
    if more and end_time == start_time:
        end_time += 1  # a full page within one second: move on (see docs/sla.md)
    return {
        "ticket_metric_events": [metric_event_json(e) for e in rows],
        "next_page": page_url(request, start_time=end_time) if more else None,
        "count": len(rows),
        "end_time": end_time,
        "end_of_stream": not more,
    }
