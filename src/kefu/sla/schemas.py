"""The SLA API's shapes (Zendesk's): schedules, holidays, SLA policies, ticket metrics,
ticket metric events, and the ``slas`` a ticket shows with ``include=slas``."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url

from .models import Holiday, Schedule, SlaMetricState, SlaPolicy, TicketMetricEvent, TicketMetricSet


class ScheduleEnvelope(Schema):
    schedule: dict[str, Any]


class ScheduleList(Schema):
    schedules: list[dict[str, Any]]


class ScheduleIn(Schema):
    name: str | None = None
    time_zone: str | None = None
    intervals: list[dict[str, Any]] | None = None


class ScheduleInEnvelope(Schema):
    schedule: ScheduleIn


class WorkweekIn(Schema):
    intervals: list[dict[str, Any]]


class WorkweekInEnvelope(Schema):
    workweek: WorkweekIn


class HolidayIn(Schema):
    name: str
    start_date: dt.date
    end_date: dt.date


class HolidayInEnvelope(Schema):
    holiday: HolidayIn


class HolidayEnvelope(Schema):
    holiday: dict[str, Any]


class HolidayList(Schema):
    holidays: list[dict[str, Any]]


class PolicyIn(Schema):
    title: str | None = None
    description: str | None = None
    position: int | None = None
    filter: dict[str, Any] | None = None
    policy_metrics: list[dict[str, Any]] | None = None
    warning_minutes: int | None = None


class PolicyInEnvelope(Schema):
    sla_policy: PolicyIn


class PolicyEnvelope(Schema):
    sla_policy: dict[str, Any]


class PolicyList(Schema):
    sla_policies: list[dict[str, Any]]
    next_page: str | None = None
    previous_page: str | None = None
    count: int


class ReorderIn(Schema):
    sla_policy_ids: list[int]


class TicketMetricEnvelope(Schema):
    ticket_metric: dict[str, Any]


class TicketMetricList(Schema):
    ticket_metrics: list[dict[str, Any]]
    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None
    meta: dict[str, Any] | None = None
    links: dict[str, Any] | None = None


class MetricEventList(Schema):
    ticket_metric_events: list[dict[str, Any]]
    next_page: str | None
    count: int
    end_time: int
    end_of_stream: bool


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "default": schedule.is_default,
        "intervals": [
            {"start_time": i.start_time, "end_time": i.end_time} for i in schedule.intervals.all()
        ],
        "extra_workdays": [
            {
                "id": day.pk,
                "name": day.name,
                "date": day.date.isoformat(),
                "start_time": day.start_time,
                "end_time": day.end_time,
            }
            for day in schedule.extra_workdays.all()
        ],
        "created_at": timestamp(schedule.created_at),
        "updated_at": timestamp(schedule.updated_at),
    }


def holiday_json(holiday: Holiday) -> dict[str, Any]:
    return {
        "id": holiday.pk,
        "name": holiday.name,
        "start_date": holiday.start_date.isoformat(),
        "end_date": holiday.end_date.isoformat(),
    }


def policy_json(request: HttpRequest, policy: SlaPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "url": api_url(request, f"slas/policies/{policy.pk}"),
        "title": policy.title,
        "description": policy.description,
        "position": policy.position,
        "filter": policy.filter,
        "policy_metrics": policy.policy_metrics,
        "warning_minutes": policy.warning_minutes,
        "created_at": timestamp(policy.created_at),
        "updated_at": timestamp(policy.updated_at),
    }


def _pair(row: TicketMetricSet, name: str) -> dict[str, int | None]:
    return {
        "calendar": getattr(row, f"{name}_calendar"),
        "business": getattr(row, f"{name}_business"),
    }


def ticket_metric_json(request: HttpRequest, row: TicketMetricSet) -> dict[str, Any]:
    """Zendesk's ticket metric (plus Kefu's ``first_contact_resolution``)."""
    return {
        "id": row.pk,
        "url": api_url(request, f"ticket_metrics/{row.pk}"),
        "ticket_id": row.ticket_id,
        "group_stations": row.group_stations,
        "assignee_stations": row.assignee_stations,
        "reopens": row.reopens,
        "replies": row.replies,
        "assignee_updated_at": timestamp(row.assignee_updated_at),
        "requester_updated_at": timestamp(row.requester_updated_at),
        "status_updated_at": timestamp(row.status_updated_at),
        "initially_assigned_at": timestamp(row.initially_assigned_at),
        "assigned_at": timestamp(row.assigned_at),
        "solved_at": timestamp(row.solved_at),
        "latest_comment_added_at": timestamp(row.latest_comment_added_at),
        "reply_time_in_minutes": _pair(row, "reply_time"),
        "first_resolution_time_in_minutes": _pair(row, "first_resolution_time"),
        "full_resolution_time_in_minutes": _pair(row, "full_resolution_time"),
        "agent_wait_time_in_minutes": _pair(row, "agent_wait_time"),
        "requester_wait_time_in_minutes": _pair(row, "requester_wait_time"),
        "on_hold_time_in_minutes": _pair(row, "on_hold_time"),
        "first_contact_resolution": row.first_contact_resolution,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
    }


def metric_event_json(event: TicketMetricEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": event.pk,
        "ticket_id": event.ticket_id,
        "metric": event.metric,
        "instance_id": event.instance_id,
        "type": event.type,
        "time": timestamp(event.time),
    }
    if event.sla is not None:
        data["sla"] = event.sla
    if event.status is not None:
        data["status"] = event.status
    if event.type == "breach":
        data["deleted"] = event.deleted
    return data


def ticket_slas(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    """Zendesk's ``include=slas`` on ticket show (registered in ``SlaConfig.ready``)."""
    rows = list(
        SlaMetricState.objects.filter(ticket=ticket).select_related("policy").order_by("metric")
    )
    return slas_json(rows)


def slas_json(rows: list[SlaMetricState]) -> dict[str, Any]:
    """The policy and each metric's stage and deadline (minutes of target)."""
    policy = rows[0].policy if rows else None
    return {
        "policy_metrics": [
            {
                "breach_at": timestamp(row.breach_at),
                "stage": row.stage,
                "metric": row.metric,
                "hours": (row.business_hours and "business") or "calendar",
                "minutes": row.target_minutes,
                "days": None,
            }
            for row in rows
        ],
        "policy": (
            {"id": policy.pk, "title": policy.title, "description": policy.description}
            if policy is not None
            else None
        ),
    }
