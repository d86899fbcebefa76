"""Incremental export endpoints (Zendesk's ``incremental/*``), admins only."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from kefu.accounts.schemas import prefetch_users, users_json
from kefu.api.auth import current_user
from kefu.api.pagination import api_url, invalid_page
from kefu.crm.schemas import organizations_json
from kefu.tickets.schemas import tickets_json

from . import incremental

router = Router(tags=["Incremental exports"])


class CursorExport(Schema):
    after_url: str | None
    after_cursor: str | None
    before_url: None = None
    before_cursor: None = None
    end_of_stream: bool


class TicketExport(CursorExport):
    tickets: list[dict[str, Any]]


class UserExport(CursorExport):
    users: list[dict[str, Any]]


class TimeExport(Schema):
    next_page: str
    count: int
    end_of_stream: bool
    end_time: int


class OrganizationExport(TimeExport):
    organizations: list[dict[str, Any]]


class TicketEventExport(TimeExport):
    ticket_events: list[dict[str, Any]]


def _per_page(request: HttpRequest) -> int:
    raw = request.GET.get("per_page") or ""
    if not raw:
        return incremental.PER_PAGE
    if not raw.isdigit():
        raise invalid_page("per_page must be a positive integer.")
    return max(1, min(int(raw), incremental.PER_PAGE))


def _cursor_body(request: HttpRequest, path: str, page: incremental.CursorPage) -> dict[str, Any]:
    return {
        "after_url": request.build_absolute_uri(f"/api/v2/{path}.json?cursor={page.after_cursor}"),
        "after_cursor": page.after_cursor,
        "before_url": None,
        "before_cursor": None,
        "end_of_stream": page.end_of_stream,
    }


@router.get("incremental/tickets/cursor", response=TicketExport,
            summary="Incremental ticket export, cursor-based (admins)")  # fmt: skip
def export_tickets(
    request: HttpRequest, start_time: str | None = None, cursor: str | None = None,
    exclude_deleted: bool = False,
) -> dict:  # fmt: skip
    page = incremental.export_tickets(
        user=current_user(request),
        start_time=start_time,
        cursor=cursor,
        per_page=_per_page(request),
        exclude_deleted=exclude_deleted,
    )
    tickets = tickets_json(request, page.items)
    for ticket, data in zip(page.items, tickets, strict=True):
        data["status"] = incremental.exported_status(ticket)
    return {"tickets": tickets, **_cursor_body(request, "incremental/tickets/cursor", page)}


@router.get("incremental/users/cursor", response=UserExport,
            summary="Incremental user export, cursor-based (admins)")  # fmt: skip
def export_users(
    request: HttpRequest, start_time: str | None = None, cursor: str | None = None
) -> dict:
    page = incremental.export_users(
        user=current_user(request),
        start_time=start_time,
        cursor=cursor,
        per_page=_per_page(request),
        prepare=prefetch_users,
    )
    return {
        "users": users_json(request, page.items),
        **_cursor_body(request, "incremental/users/cursor", page),
    }


def _next_page(request: HttpRequest, path: str, end_time: int, **extra: str) -> str:
    query = "&".join([f"start_time={end_time}", *(f"{k}={v}" for k, v in extra.items())])
    return api_url(request, path) + "?" + query


@router.get("incremental/organizations", response=OrganizationExport,
            summary="Incremental organization export, time-based (admins)")  # fmt: skip
def export_organizations(request: HttpRequest, start_time: str | None = None) -> dict:
    viewer = current_user(request)
    page = incremental.export_organizations(
        user=viewer, start_time=start_time, per_page=_per_page(request)
    )
    return {
        "organizations": organizations_json(request, page.items, viewer=viewer),
        "next_page": _next_page(request, "incremental/organizations", page.end_time),
        "count": page.count,
        "end_of_stream": page.end_of_stream,
        "end_time": page.end_time,
    }


@router.get("incremental/ticket_events", response=TicketEventExport,
            summary="Incremental ticket event export, time-based (admins)")  # fmt: skip
def export_ticket_events(
    request: HttpRequest, start_time: str | None = None, include: str = ""
) -> dict:
    include_comments = "comment_events" in include.split(",")
    page = incremental.export_ticket_events(
        user=current_user(request),
        start_time=start_time,
        include_comments=include_comments,
        per_page=_per_page(request),
    )
    extra = {"include": "comment_events"} if include_comments else {}
    return {
        "ticket_events": page.items,
        "next_page": _next_page(request, "incremental/ticket_events", page.end_time, **extra),
        "count": page.count,
        "end_of_stream": page.end_of_stream,
        "end_time": page.end_time,
    }
